/** @module events/contact — the Contact object (`contact[...]`, and the body of `contact_update`). */
import { type Static, Type } from '@sinclair/typebox'
import { Bool, Id, IdList, Int, OpenEnum, Timestamp, Vars } from './fields.ts'

export const CONVERSATION_STATUSES = ['closed', 'active', 'handled'] as const

/** The properties of a Telerivet Contact as the REST API describes them. Every one is optional. */
export const ContactFields = {
  id: Type.Optional(Id('contact id')),
  name: Type.Optional(Type.String()),
  phone_number: Type.Optional(Type.String()),
  time_created: Type.Optional(Timestamp()),
  time_updated: Type.Optional(Timestamp()),
  send_blocked: Type.Optional(Bool('true if Telerivet is blocked from sending to this contact')),
  conversation_status: Type.Optional(OpenEnum(CONVERSATION_STATUSES)),
  last_message_time: Type.Optional(Timestamp()),
  last_incoming_message_time: Type.Optional(Timestamp()),
  last_outgoing_message_time: Type.Optional(Timestamp()),
  message_count: Type.Optional(Int()),
  incoming_message_count: Type.Optional(Int()),
  outgoing_message_count: Type.Optional(Int()),
  last_message_id: Type.Optional(Id()),
  default_route_id: Type.Optional(Id()),
  group_ids: Type.Optional(IdList('ids of the groups the contact is in')),
  vars: Type.Optional(Vars()),
  project_id: Type.Optional(Id()),
}

/** The contact of a message (`contact[name]`, `contact[vars][foo]`, ...). */
export const Contact = Type.Object(ContactFields, { $id: 'Contact' })
export type Contact = Static<typeof Contact>
