/** @module events/phone — the Phone (route) object that received a message (`phone[...]`). */
import { type Static, Type } from '@sinclair/typebox'
import { Bool, Id, Int, Num, Timestamp, Vars } from './fields.ts'

/** The phone or gateway, with the properties of the REST API's Phone object; all optional. */
export const Phone = Type.Object(
  {
    id: Type.Optional(Id('phone id')),
    name: Type.Optional(Type.String()),
    phone_number: Type.Optional(Type.String()),
    phone_type: Type.Optional(Type.String({ description: 'e.g. android, twilio, nexmo' })),
    country: Type.Optional(Type.String({ description: 'ISO 3166-1 alpha-2 code' })),
    send_paused: Type.Optional(Bool()),
    time_created: Type.Optional(Timestamp()),
    last_active_time: Type.Optional(Timestamp()),
    vars: Type.Optional(Vars()),
    project_id: Type.Optional(Id()),
    battery: Type.Optional(Num('battery level, percent')),
    charging: Type.Optional(Bool()),
    internet_type: Type.Optional(Type.String()),
    app_version: Type.Optional(Type.String()),
    android_sdk: Type.Optional(Int()),
    mccmnc: Type.Optional(Type.String()),
    manufacturer: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    send_limit: Type.Optional(Int()),
  },
  { $id: 'Phone' },
)
export type Phone = Static<typeof Phone>
