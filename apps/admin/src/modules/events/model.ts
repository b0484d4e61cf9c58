/** @module Schemas of the event routes (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { events } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { IdParam, LimitParam } from '../../paging'
import { wireSchema } from '../../rows'

export const EventRow = wireSchema(createSelectSchema(events), 'EventRow')

export const EventsQuery = Type.Object({
  project_id: Type.Optional(IdParam),
  endpoint_id: Type.Optional(IdParam),
  event: Type.Optional(IdParam),
  valid: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  since: Type.Optional(Type.String({ description: 'ISO time, inclusive' })),
  until: Type.Optional(Type.String({ description: 'ISO time, exclusive' })),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
})

export const EventPage = Type.Object({
  data: Type.Array(EventRow),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})

/** Path parameter of the routes that take an event id. */
export const EventIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const ReplayOut = Type.Object({
  event_id: Type.String(),
  jobs: Type.Integer(),
  applied: Type.Boolean(),
})
