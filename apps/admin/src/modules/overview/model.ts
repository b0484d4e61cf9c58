/** @module Schemas of the overview route. */
import { Type } from '@sinclair/typebox'

export const OverviewRange = Type.Union([Type.Literal('hour'), Type.Literal('day')])
export type OverviewRange = typeof OverviewRange.static

export const OverviewQuery = Type.Object({
  range: Type.Optional(OverviewRange),
})

const DateTime = Type.String({ format: 'date-time' })
const Count = Type.Integer({ minimum: 0 })

export const OverviewOut = Type.Object(
  {
    range: OverviewRange,
    bucket_seconds: Type.Integer({ description: '60 for the last hour, 900 for the last day' }),
    from: DateTime,
    to: DateTime,
    series: Type.Array(
      Type.Object({
        at: DateTime,
        event: Type.String(),
        events: Count,
        deliveries: Count,
        invalid: Count,
      }),
      { description: 'Per bucket and event type; buckets without events are absent' },
    ),
    totals: Type.Object({
      events: Count,
      deliveries: Count,
      duplicates: Count,
      invalid: Count,
      handler_errors: Count,
    }),
    duplicate_ratio: Type.Number({ description: 'duplicates / deliveries (0 when none)' }),
    queue: Type.Object({ pending: Count, running: Count, retrying: Count, dead: Count }),
    endpoints: Type.Array(
      Type.Object({
        id: Type.String(),
        kind: Type.String(),
        project_id: Type.Union([Type.String(), Type.Null()]),
        name: Type.Union([Type.String(), Type.Null()]),
        disabled: Type.Boolean(),
        last_delivery_at: Type.Union([DateTime, Type.Null()]),
      }),
    ),
  },
  { $id: 'Overview' },
)
export type OverviewOut = typeof OverviewOut.static
