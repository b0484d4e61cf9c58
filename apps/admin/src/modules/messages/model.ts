/** @module Schemas of the message routes (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { messageStatusHistory, messages } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { IdParam } from '../../paging'
import { wireSchema } from '../../rows'

export const MessageRow = wireSchema(createSelectSchema(messages), 'MessageRow')
export const StatusHistoryRow = wireSchema(createSelectSchema(messageStatusHistory), 'StatusRow')

export const MessageIdParams = Type.Object({ id: IdParam })

export const MessageOut = Type.Composite([
  MessageRow,
  Type.Object({ status_history: Type.Array(StatusHistoryRow) }),
])
