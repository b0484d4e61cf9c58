/**
 * @module Counts over time for the overview, computed in SQL. The series reads only the index
 * `events_received_idx (received_at, event, valid, delivery_count)`; the last delivery per endpoint
 * is one probe of `events_endpoint_received_idx` per endpoint.
 */
import { type Database, queryRows } from '@telehook/db'
import { sql } from 'drizzle-orm'
import type { OverviewOut, OverviewRange } from './model'

export const RANGES: Record<OverviewRange, { bucketSeconds: number; buckets: number }> = {
  hour: { bucketSeconds: 60, buckets: 60 },
  day: { bucketSeconds: 900, buckets: 96 },
}

const isoFromEpoch = (s: number | null): string | null =>
  s === null ? null : new Date(Math.round(Number(s) * 1000)).toISOString()

/** The overview of the last hour or day, ending with the bucket that holds `now`. */
export async function overview(
  database: Database,
  range: OverviewRange = 'hour',
  now: Date = new Date(),
): Promise<OverviewOut> {
  const { db } = database
  const { bucketSeconds, buckets } = RANGES[range]
  const bucketMs = bucketSeconds * 1000
  const fromMs = Math.floor(now.getTime() / bucketMs) * bucketMs - (buckets - 1) * bucketMs
  const from = new Date(fromMs).toISOString()
  const to = new Date(fromMs + buckets * bucketMs).toISOString()
  const interval = `${bucketSeconds} seconds`

  const [series, handlerErrors, queue, endpoints] = await Promise.all([
    queryRows<{ t: number; event: string; events: number; deliveries: number; invalid: number }>(
      db,
      sql`select extract(epoch from date_bin(${interval}::interval, received_at,
                   timestamptz '1970-01-01 00:00:00+00'))::float8 as t,
                 event, count(*)::int as events, sum(delivery_count)::int as deliveries,
                 (count(*) filter (where not valid))::int as invalid
          from telehook.events
          where received_at >= ${from}::timestamptz and received_at < ${to}::timestamptz
          group by 1, 2
          order by 1, 2`,
    ),
    queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from telehook.events
          where handler_error is not null
            and received_at >= ${from}::timestamptz and received_at < ${to}::timestamptz`,
    ),
    queryRows<{ pending: number; running: number; retrying: number; dead: number }>(
      db,
      sql`select (count(*) filter (where status = 'queued' and attempts = 0))::int as pending,
                 (count(*) filter (where status = 'running'))::int as running,
                 (count(*) filter (where status = 'queued' and attempts > 0))::int as retrying,
                 (count(*) filter (where status = 'dead'))::int as dead
          from telehook.jobs where status in ('queued', 'running', 'dead')`,
    ),
    queryRows<{
      id: string
      kind: string
      project_id: string | null
      name: string | null
      disabled: boolean
      last: number | null
    }>(
      db,
      sql`select e.id, e.kind, e.project_id, e.name, e.disabled_at is not null as disabled,
                 extract(epoch from (select v.received_at from telehook.events v
                   where v.endpoint_id = e.id order by v.received_at desc limit 1))::float8 as last
          from telehook.endpoints e
          order by e.disabled_at is not null, e.project_id nulls first, e.created_at`,
    ),
  ])

  let events = 0
  let deliveries = 0
  let invalid = 0
  for (const s of series) {
    events += s.events
    deliveries += s.deliveries
    invalid += s.invalid
  }
  const duplicates = deliveries - events
  return {
    range,
    bucket_seconds: bucketSeconds,
    from,
    to,
    series: series.map((s) => ({
      at: isoFromEpoch(s.t) ?? from,
      event: s.event,
      events: s.events,
      deliveries: s.deliveries,
      invalid: s.invalid,
    })),
    totals: {
      events,
      deliveries,
      duplicates,
      invalid,
      handler_errors: handlerErrors[0]?.n ?? 0,
    },
    duplicate_ratio: deliveries > 0 ? duplicates / deliveries : 0,
    queue: queue[0] ?? { pending: 0, running: 0, retrying: 0, dead: 0 },
    endpoints: endpoints.map((e) => ({
      id: e.id,
      kind: e.kind,
      project_id: e.project_id,
      name: e.name,
      disabled: e.disabled,
      last_delivery_at: isoFromEpoch(e.last),
    })),
  }
}
