/** @module events/recipient — one recipient of a broadcast (`recipients[0][type]`, ...). */
import { type Static, Type } from '@sinclair/typebox'
import { Id, OpenEnum } from './fields.ts'

export const RECIPIENT_TYPES = ['group', 'contact', 'phone_number', 'filter'] as const

/** A broadcast recipient: a group, a contact, a phone number or a contact filter. */
export const BroadcastRecipient = Type.Object(
  {
    type: Type.Optional(OpenEnum(RECIPIENT_TYPES)),
    id: Type.Optional(Id('group or contact id')),
    name: Type.Optional(Type.String()),
    phone_number: Type.Optional(Type.String()),
  },
  { $id: 'BroadcastRecipient' },
)
export type BroadcastRecipient = Static<typeof BroadcastRecipient>
