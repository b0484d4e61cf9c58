/** @module Stored events: the filtered, cursor-paged list, one event, and replay. */
import { events } from '@telehook/db'
import { EventNotFoundError, replayEvent as engineReplay } from '@telehook/engine'
import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm'
import type { AdminContext } from '../../context'
import { ApiError } from '../../errors'
import { decodeCursor, encodeCursor, pageSize, parseTime } from '../../paging'
import { toWire } from '../../rows'
import type { EventPage, EventRow, EventsQuery } from './model'

/** Events newest first, filtered; `next_cursor` continues after the last one. */
export async function listEvents(
  ctx: AdminContext,
  query: typeof EventsQuery.static,
): Promise<typeof EventPage.static> {
  const limit = pageSize(query.limit)
  const conds: SQL[] = []
  if (query.project_id) conds.push(eq(events.projectId, query.project_id))
  if (query.endpoint_id) conds.push(eq(events.endpointId, query.endpoint_id))
  if (query.event) conds.push(eq(events.event, query.event))
  if (query.valid) conds.push(eq(events.valid, query.valid === 'true'))
  const since = parseTime('since', query.since)
  const until = parseTime('until', query.until)
  if (since) conds.push(gte(events.receivedAt, since))
  if (until) conds.push(lt(events.receivedAt, until))
  if (query.cursor) {
    const [at, id] = decodeCursor(query.cursor)
    conds.push(sql`(${events.receivedAt}, ${events.id}) < (${at}::timestamptz, ${id}::uuid)`)
  }
  const rows = await ctx.db
    .select({ row: events, at: sql<string>`${events.receivedAt}::text` })
    .from(events)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(events.receivedAt), desc(events.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map((r) => toWire<typeof EventRow.static>(r.row)),
    next_cursor: rows.length > limit && last ? encodeCursor(last.at, last.row.id) : null,
  }
}

/** One event; 404 when there is none. */
export async function getEvent(ctx: AdminContext, id: string): Promise<typeof EventRow.static> {
  const [row] = await ctx.db.select().from(events).where(eq(events.id, id))
  if (!row) throw new ApiError(404, 'not_found', 'No such event')
  return toWire<typeof EventRow.static>(row)
}

/** Re-applies the event's projections and re-enqueues its async handlers; 404 when unknown. */
export async function replayEvent(ctx: AdminContext, id: string) {
  const result = await engineReplay(ctx.database, id, ctx.deps.handlers).catch((error) => {
    if (error instanceof EventNotFoundError) throw new ApiError(404, 'not_found', 'No such event')
    throw error
  })
  ctx.log.info({ msg: 'event replayed', event_id: id, jobs: result.jobs })
  return { event_id: id, jobs: result.jobs, applied: result.applied }
}
