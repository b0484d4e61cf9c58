/** @module Schemas of the destination routes. */
import { Type } from '@sinclair/typebox'
import { IdParam, LimitParam, NO_NUL } from '../../paging'

const DateTime = Type.String({ format: 'date-time' })

const EventTypes = Type.Union(
  [
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 50 }),
    Type.Null(),
  ],
  {
    description: "Telerivet event names to send (e.g. ['incoming_message']); null sends every type",
  },
)
const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  pattern: NO_NUL,
  description: 'http: or https: URL the events are POSTed to',
})
const MaxInFlight = Type.Integer({
  minimum: 1,
  maximum: 1000,
  description: 'Requests in flight to this destination at once, over all workers (default 4)',
})

export const CreateDestinationBody = Type.Object({
  project_id: Type.Optional(Type.String({ ...IdParam, description: "Send this project's events" })),
  endpoint_id: Type.Optional(
    Type.String({
      ...IdParam,
      description: "Or: send this endpoint's events (`default` is the single-project endpoint)",
    }),
  ),
  url: Url,
  event_types: Type.Optional(EventTypes),
  enabled: Type.Optional(Type.Boolean()),
  max_in_flight: Type.Optional(MaxInFlight),
})

export const UpdateDestinationBody = Type.Object({
  url: Type.Optional(Url),
  event_types: Type.Optional(EventTypes),
  enabled: Type.Optional(
    Type.Boolean({ description: 'true also clears why it was disabled; queued jobs resume' }),
  ),
  max_in_flight: Type.Optional(MaxInFlight),
})

export const DestinationOut = Type.Object(
  {
    id: Type.String(),
    project_id: Type.Union([Type.String(), Type.Null()]),
    endpoint_id: Type.Union([Type.String(), Type.Null()]),
    url: Type.String(),
    event_types: Type.Union([Type.Array(Type.String()), Type.Null()]),
    enabled: Type.Boolean(),
    disabled_reason: Type.Union([Type.String(), Type.Null()]),
    max_in_flight: Type.Integer(),
    previous_secret_expires_at: Type.Union([DateTime, Type.Null()]),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Destination' },
)

export const DestinationWithSecret = Type.Object({
  destination: DestinationOut,
  secret: Type.String({
    description: 'Signing secret (whsec_…), shown once: give it to the receiving service',
  }),
})

export const JobCounts = Type.Object({
  queued: Type.Integer(),
  running: Type.Integer(),
  done: Type.Integer(),
  dead: Type.Integer(),
})

export const DestinationDetail = Type.Object({ destination: DestinationOut, jobs: JobCounts })

export const DestinationList = Type.Object({ data: Type.Array(DestinationOut) })

export const DestinationQuery = Type.Object({
  project_id: Type.Optional(IdParam),
  endpoint_id: Type.Optional(IdParam),
})

export const DestinationIdParams = Type.Object({ id: IdParam })

export const RotateBody = Type.Object({
  grace_seconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 30 * 86_400,
      description:
        'How long requests also carry a signature made with the old secret (default 86400)',
    }),
  ),
})

export const DestinationDeleted = Type.Object({ id: Type.String(), deleted: Type.Literal(true) })

export const AttemptOut = Type.Object(
  {
    id: Type.Integer(),
    job_id: Type.Integer(),
    event_id: Type.String(),
    attempt: Type.Integer(),
    started_at: DateTime,
    status: Type.Union([Type.Integer(), Type.Null()]),
    outcome: Type.Union([
      Type.Literal('done'),
      Type.Literal('retry'),
      Type.Literal('dead'),
      Type.Literal('gone'),
    ]),
    latency_ms: Type.Integer(),
    response_body: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'ForwardAttempt' },
)

export const AttemptQuery = Type.Object({
  limit: Type.Optional(LimitParam),
  before: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,15}$', description: 'next_before of the previous page' }),
  ),
  event_id: Type.Optional(Type.String({ format: 'uuid' })),
})

export const AttemptList = Type.Object({
  data: Type.Array(AttemptOut),
  next_before: Type.Union([Type.Integer(), Type.Null()]),
})

export const RetryDeadOut = Type.Object({ requeued: Type.Integer() })

export const ResendBody = Type.Object({ event_id: Type.String({ format: 'uuid' }) })

export const ResendOut = Type.Object({
  event_id: Type.String(),
  destination_id: Type.String(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('running')], {
    description: 'running: an attempt is in flight now; it was left alone',
  }),
})
