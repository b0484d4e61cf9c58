/** @module events/incoming-message — `event=incoming_message`: a message arrived on a phone. */
import { type Static, Type } from '@sinclair/typebox'
import { Contact } from './contact.ts'
import { Id } from './fields.ts'
import { Media } from './media.ts'
import { MessageFields } from './message.ts'
import { Phone } from './phone.ts'
import { ContactState } from './state.ts'

/**
 * An incoming SMS, MMS, USSD response or call. `id` is the dedupe key. `from_number` is the USSD
 * code for USSD responses; `media` lists MMS attachments.
 */
export const IncomingMessage = Type.Object(
  {
    ...MessageFields,
    event: Type.Literal('incoming_message'),
    id: Id('message id, max 34 characters'),
    from_number_e164: Type.Optional(Type.String()),
    message_service_id: Type.Optional(Id('the service that handled the message')),
    contact: Type.Optional(Contact),
    state: Type.Optional(ContactState),
    phone: Type.Optional(Phone),
    media: Type.Optional(Type.Array(Media)),
  },
  { $id: 'IncomingMessage' },
)
export type IncomingMessage = Static<typeof IncomingMessage>
