/** @module events/message-metadata — `event=message_metadata`: labels, stars or call variables changed. */
import { type Static, Type } from '@sinclair/typebox'
import { Contact } from './contact.ts'
import { Bool, Id, OpenEnum } from './fields.ts'
import { MessageFields } from './message.ts'

export const METADATA_UPDATE_TYPES = [
  'star',
  'unstar',
  'add_label',
  'remove_label',
  'set_variable',
  'call_complete',
] as const

/** A message's metadata update; for voice calls also each saved variable and the call's end. */
export const MessageMetadata = Type.Object(
  {
    ...MessageFields,
    event: Type.Literal('message_metadata'),
    update_type: OpenEnum(METADATA_UPDATE_TYPES),
    id: Id('message id, max 34 characters'),
    in_progress: Type.Optional(Bool('true while the call is in progress (voice calls only)')),
    contact: Type.Optional(Contact),
  },
  { $id: 'MessageMetadata' },
)
export type MessageMetadata = Static<typeof MessageMetadata>
