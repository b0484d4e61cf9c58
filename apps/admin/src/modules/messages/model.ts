/** @module Schemas of the message routes (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { messageStatusHistory, messages } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { IdParam, LimitParam } from '../../paging'
import { wireSchema } from '../../rows'

export const MessageRow = wireSchema(createSelectSchema(messages), 'MessageRow')
export const StatusHistoryRow = wireSchema(createSelectSchema(messageStatusHistory), 'StatusRow')

export const MessageIdParams = Type.Object({ id: IdParam })

/** Mirror rows are keyed by (project, id): `project_id` picks one when an id is in several. */
export const MessageProjectQuery = Type.Object({ project_id: Type.Optional(IdParam) })

export const MessageOut = Type.Composite([
  MessageRow,
  Type.Object({ status_history: Type.Array(StatusHistoryRow) }),
])

export const MessagesQuery = Type.Object({
  project_id: Type.Optional(Type.String({ maxLength: 64 })),
  contact_id: Type.Optional(Type.String({ maxLength: 64 })),
  direction: Type.Optional(Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')])),
  status: Type.Optional(Type.String({ maxLength: 40, description: 'e.g. delivered, failed' })),
  since: Type.Optional(Type.String({ description: 'ISO time or UNIX seconds, inclusive' })),
  until: Type.Optional(Type.String({ description: 'ISO time or UNIX seconds, exclusive' })),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'Text the content contains' }),
  ),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
})

export const MessagePage = Type.Object({
  data: Type.Array(MessageRow),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})
