/** @module Schemas of the jobs routes. */
import { Type } from '@sinclair/typebox'
import { LimitParam } from '../../paging'

/**
 * What a job is doing, in operators' words: `pending` (queued, never tried), `running`, `retrying`
 * (queued again after a failure), `dead` (out of attempts), `done`, `cancelled`.
 */
export const JobState = Type.Union(
  [
    Type.Literal('pending'),
    Type.Literal('running'),
    Type.Literal('retrying'),
    Type.Literal('dead'),
    Type.Literal('done'),
    Type.Literal('cancelled'),
  ],
  { $id: 'JobState' },
)
export type JobState = typeof JobState.static

export const JobsQuery = Type.Object({
  state: Type.Optional(JobState),
  handler: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  event_id: Type.Optional(Type.String({ format: 'uuid' })),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,18}$', description: 'next_cursor of the previous page' }),
  ),
})
export type JobsQuery = typeof JobsQuery.static

const DateTime = Type.String({ format: 'date-time' })

export const JobOut = Type.Object(
  {
    id: Type.Integer(),
    event_id: Type.String(),
    handler: Type.String(),
    state: JobState,
    attempts: Type.Integer(),
    max_attempts: Type.Integer(),
    run_at: DateTime,
    last_error: Type.Union([Type.String(), Type.Null()]),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Job' },
)
export type JobOut = typeof JobOut.static

export const JobPage = Type.Object({
  data: Type.Array(JobOut),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})

/** A job id in a path (a positive integer). */
export const JobIdParams = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'Job id' }),
})

export const RetryDeadBody = Type.Object({
  handler: Type.String({ minLength: 1, maxLength: 100, description: 'The handler (event type)' }),
})

export const RetriedOut = Type.Object({ retried: Type.Integer() })
