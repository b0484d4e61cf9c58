/** @module events/send-status — `event=send_status`: an outgoing message changed status. */
import { type Static, Type } from '@sinclair/typebox'
import { Contact } from './contact.ts'
import { Id, OpenEnum } from './fields.ts'
import { MessageFields } from './message.ts'

/** The statuses `send_status` documents. */
export const SEND_STATUSES = [
  'sent',
  'queued',
  'failed',
  'failed_queued',
  'delivered',
  'not_delivered',
  'cancelled',
] as const

/**
 * A status notification. Dedupe by (`id`, `status`, `time_clicked`): the same message notifies once
 * per status, and once more when a short link is first clicked.
 */
export const SendStatus = Type.Object(
  {
    ...MessageFields,
    event: Type.Literal('send_status'),
    id: Id('message id, max 34 characters'),
    status: OpenEnum(SEND_STATUSES),
    contact: Type.Optional(Contact),
  },
  { $id: 'SendStatus' },
)
export type SendStatus = Static<typeof SendStatus>
