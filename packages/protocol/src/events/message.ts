/**
 * @module events/message
 * The REST API's Message properties, which `incoming_message`, `send_status` and
 * `message_metadata` carry besides their documented parameters.
 */
import { Type } from '@sinclair/typebox'
import { Bool, Id, IdList, Int, Loose, Num, OpenEnum, Timestamp, Vars } from './fields.ts'
import { Media } from './media.ts'

/** `message_type`: the webhook documents sms, mms, ussd, call; the REST API adds more. */
export const MESSAGE_TYPES = [
  'sms',
  'mms',
  'ussd',
  'ussd_session',
  'call',
  'chat',
  'service',
] as const

/** Message `status` values of the REST API (`send_status` uses the outgoing ones). */
export const MESSAGE_STATUSES = [
  'ignored',
  'processing',
  'received',
  'sent',
  'queued',
  'failed',
  'failed_queued',
  'cancelled',
  'delivered',
  'not_delivered',
  'read',
] as const

export const MESSAGE_DIRECTIONS = ['incoming', 'outgoing'] as const

export const MESSAGE_SOURCES = [
  'phone',
  'provider',
  'web',
  'api',
  'service',
  'webhook',
  'scheduled',
  'integration',
] as const

/** Every REST Message property, all optional; an event spreads these and tightens its own. */
export const MessageFields = {
  direction: Type.Optional(OpenEnum(MESSAGE_DIRECTIONS)),
  status: Type.Optional(OpenEnum(MESSAGE_STATUSES)),
  message_type: Type.Optional(OpenEnum(MESSAGE_TYPES)),
  source: Type.Optional(OpenEnum(MESSAGE_SOURCES)),
  time_created: Type.Optional(Timestamp()),
  time_sent: Type.Optional(Timestamp()),
  time_updated: Type.Optional(Timestamp()),
  time_clicked: Type.Optional(Timestamp()),
  from_number: Type.Optional(Type.String()),
  to_number: Type.Optional(Type.String()),
  content: Type.Optional(Type.String()),
  starred: Type.Optional(Bool()),
  simulated: Type.Optional(Bool()),
  label_ids: Type.Optional(IdList('ids of the labels applied to the message')),
  route_params: Type.Optional(Loose('route-specific parameters')),
  vars: Type.Optional(Vars()),
  priority: Type.Optional(Int()),
  send_attempts: Type.Optional(Int()),
  error_message: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String({ description: 'kept as a string: codes are opaque' })),
  external_id: Type.Optional(Type.String()),
  num_parts: Type.Optional(Num()),
  price: Type.Optional(Num()),
  price_currency: Type.Optional(Type.String()),
  duration: Type.Optional(Num('call duration, seconds')),
  ring_time: Type.Optional(Num('call ring time, seconds')),
  audio_url: Type.Optional(Type.String()),
  tts_lang: Type.Optional(Type.String()),
  tts_voice: Type.Optional(Type.String()),
  track_clicks: Type.Optional(Bool()),
  short_urls: Type.Optional(Type.Array(Loose())),
  network_code: Type.Optional(Type.String()),
  media: Type.Optional(Type.Array(Media)),
  mms_parts: Type.Optional(Type.Array(Loose())),
  service_id: Type.Optional(Id()),
  phone_id: Type.Optional(Id()),
  contact_id: Type.Optional(Id()),
  route_id: Type.Optional(Id()),
  broadcast_id: Type.Optional(Id()),
  scheduled_id: Type.Optional(Id()),
  user_id: Type.Optional(Id()),
  project_id: Type.Optional(Id()),
}
