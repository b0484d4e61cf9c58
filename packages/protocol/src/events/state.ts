/** @module events/state — the contact's state within a service (`state[id]`, `state[vars][foo]`). */
import { type Static, Type } from '@sinclair/typebox'
import { Id, Timestamp, Vars } from './fields.ts'

/** Where the contact is in a multi-step conversation of this service. */
export const ContactState = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 63, description: 'the state id (max 63 chars)' })),
    contact_id: Type.Optional(Id()),
    service_id: Type.Optional(Id()),
    vars: Type.Optional(Vars()),
    time_created: Type.Optional(Timestamp()),
    time_updated: Type.Optional(Timestamp()),
    project_id: Type.Optional(Id()),
  },
  { $id: 'ContactState' },
)
export type ContactState = Static<typeof ContactState>
