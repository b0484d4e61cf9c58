/** @module events/send-broadcast — `event=send_broadcast`: a broadcast was sent. */
import { type Static, Type } from '@sinclair/typebox'
import { Bool, Id, IdList, Int, Loose, Num, OpenEnum, Timestamp, Vars } from './fields.ts'
import { Media } from './media.ts'
import { MESSAGE_SOURCES, MESSAGE_TYPES } from './message.ts'
import { BroadcastRecipient } from './recipient.ts'

export const BROADCAST_STATUSES = ['queued', 'sending', 'complete', 'cancelled'] as const

/** A broadcast, with the REST API's Broadcast properties besides the documented parameters. */
export const SendBroadcast = Type.Object(
  {
    event: Type.Literal('send_broadcast'),
    id: Id('broadcast id, max 34 characters'),
    recipients_str: Type.Optional(Type.String({ description: 'first recipients, human readable' })),
    recipients: Type.Optional(Type.Array(BroadcastRecipient)),
    estimated_count: Type.Optional(Int('approximate number of messages')),
    content: Type.Optional(Type.String()),
    route_id: Type.Optional(Id()),
    project_id: Type.Optional(Id()),
    user_name: Type.Optional(Type.String()),
    user_email: Type.Optional(Type.String()),
    title: Type.Optional(Type.String()),
    time_created: Type.Optional(Timestamp()),
    last_message_time: Type.Optional(Timestamp()),
    last_send_time: Type.Optional(Timestamp()),
    status_counts: Type.Optional(
      Type.Record(Type.String(), Type.Integer(), { description: 'status -> message count' }),
    ),
    message_count: Type.Optional(Int()),
    num_parts: Type.Optional(Num()),
    message_type: Type.Optional(OpenEnum(MESSAGE_TYPES)),
    audio_url: Type.Optional(Type.String()),
    tts_lang: Type.Optional(Type.String()),
    tts_voice: Type.Optional(Type.String()),
    replace_variables: Type.Optional(Bool()),
    status: Type.Optional(OpenEnum(BROADCAST_STATUSES)),
    source: Type.Optional(OpenEnum(MESSAGE_SOURCES)),
    simulated: Type.Optional(Bool()),
    track_clicks: Type.Optional(Bool()),
    clicked_count: Type.Optional(Int()),
    label_ids: Type.Optional(IdList()),
    media: Type.Optional(Type.Array(Media)),
    vars: Type.Optional(Vars()),
    route_params: Type.Optional(Loose()),
    price: Type.Optional(Num()),
    price_currency: Type.Optional(Type.String()),
    reply_count: Type.Optional(Int()),
    last_reply_time: Type.Optional(Timestamp()),
    service_id: Type.Optional(Id()),
    user_id: Type.Optional(Id()),
  },
  { $id: 'SendBroadcast' },
)
export type SendBroadcast = Static<typeof SendBroadcast>
