/** @module Schemas of the broadcast routes (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { broadcasts } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { LimitParam } from '../../paging'
import { wireSchema } from '../../rows'

export const BroadcastRow = wireSchema(createSelectSchema(broadcasts), 'BroadcastRow')

export const BroadcastsQuery = Type.Object({
  project_id: Type.Optional(Type.String({ maxLength: 64 })),
  status: Type.Optional(Type.String({ maxLength: 40 })),
  since: Type.Optional(Type.String({ description: 'ISO time or UNIX seconds, inclusive' })),
  until: Type.Optional(Type.String({ description: 'ISO time or UNIX seconds, exclusive' })),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
})

export const BroadcastPage = Type.Object({
  data: Type.Array(BroadcastRow),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})
