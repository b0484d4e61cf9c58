/** @module Enqueueing forward jobs in the transaction that stores the events. */
import type { Db } from '@telehook/db'
import { queryRows } from '@telehook/db'
import { type SQL, sql } from 'drizzle-orm'

/** The channel on which enqueued forward jobs wake the forwarding workers (on commit). */
export const FORWARD_CHANNEL = 'telehook_forward'

/**
 * When destination `d` gets event `e` (a row with `endpoint_id`, `project_id`, `event`): it is
 * enabled, belongs to the event's project or to the endpoint it came in on, and its
 * `event_types` is null or holds the event's type. The ingest statement uses it too.
 */
export const DESTINATION_MATCHES = `d.enabled
  and (d.project_id = e.project_id or d.endpoint_id = e.endpoint_id)
  and (d.event_types is null or e.event = any(d.event_types))`

/** A newly stored event, as far as matching destinations goes. */
export interface ForwardSource {
  /** Telehook's event id. */
  id: string
  endpointId: string
  projectId: string | null
  /** The decoded event type (`incoming_message`, …). */
  event: string
}

/**
 * One statement that enqueues a job per (event, matching enabled destination, see
 * {@link DESTINATION_MATCHES}) and, when it enqueued any, notifies {@link FORWARD_CHANNEL}.
 * Matching happens in the database, so a destination created a moment ago gets the next event. Enqueueing the same (event, destination) twice does nothing the second time.
 * Returns a row `{ n }`: the number of jobs enqueued.
 */
export function enqueueForwardsQuery(sources: readonly ForwardSource[]): SQL {
  const rows = JSON.stringify(
    sources.map((s) => ({
      id: s.id,
      endpoint_id: s.endpointId,
      project_id: s.projectId,
      event: s.event,
    })),
  )
  return sql`with e as (
      select * from jsonb_to_recordset(${rows}::jsonb)
        as e(id uuid, endpoint_id text, project_id text, event text)
    ), j as (
      insert into telehook.forward_jobs (event_id, destination_id)
      select e.id, d.id from e join telehook.destinations d on ${sql.raw(DESTINATION_MATCHES)}
      on conflict (event_id, destination_id) do nothing
      returning 1
    )
    select (select count(*) from j)::int as n,
      (select count(*) from (select pg_notify(${FORWARD_CHANNEL}, '') from j limit 1) x)::int as notified`
}

/**
 * Enqueues the forward jobs of newly stored events; call it inside the transaction that inserts
 * them, and only for events that were inserted (not for redeliveries), so an acknowledged event
 * always reaches its destinations and a rolled-back one never does.
 * @returns the number of jobs enqueued
 * @example await enqueueForwards(tx, [{ id, endpointId, projectId, event: 'incoming_message' }])
 */
export async function enqueueForwards(tx: Db, sources: readonly ForwardSource[]): Promise<number> {
  if (sources.length === 0) return 0
  const [row] = await queryRows<{ n: number }>(tx, enqueueForwardsQuery(sources))
  return row?.n ?? 0
}
