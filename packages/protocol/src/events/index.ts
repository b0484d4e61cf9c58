/** @module events — the TypeBox schema of every webhook event, and their union. */
import { type Static, Type } from '@sinclair/typebox'
import { ContactUpdate } from './contact-update.ts'
import { IncomingMessage } from './incoming-message.ts'
import { MessageMetadata } from './message-metadata.ts'
import { SendBroadcast } from './send-broadcast.ts'
import { SendStatus } from './send-status.ts'

export * from './contact.ts'
export * from './contact-update.ts'
export { OpenEnum } from './fields.ts'
export * from './incoming-message.ts'
export * from './media.ts'
export * from './message.ts'
export * from './message-metadata.ts'
export * from './phone.ts'
export * from './recipient.ts'
export * from './send-broadcast.ts'
export * from './send-status.ts'
export * from './state.ts'

/** Every event type Telerivet's Webhook API sends. */
export const EVENT_TYPES = [
  'incoming_message',
  'send_status',
  'send_broadcast',
  'contact_update',
  'message_metadata',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** The schema of each event type. */
export const EVENT_SCHEMAS = {
  incoming_message: IncomingMessage,
  send_status: SendStatus,
  send_broadcast: SendBroadcast,
  contact_update: ContactUpdate,
  message_metadata: MessageMetadata,
} as const

/** Any decoded event, discriminated on `event`. */
export const TelerivetEvent = Type.Union(
  [IncomingMessage, SendStatus, SendBroadcast, ContactUpdate, MessageMetadata],
  { $id: 'TelerivetEvent' },
)
export type TelerivetEvent = Static<typeof TelerivetEvent>

/** The decoded event of type `T`. */
export type EventOf<T extends EventType> = Extract<TelerivetEvent, { event: T }>

/** True when `s` is one of {@link EVENT_TYPES}. */
export function isEventType(s: unknown): s is EventType {
  return typeof s === 'string' && (EVENT_TYPES as readonly string[]).includes(s)
}
