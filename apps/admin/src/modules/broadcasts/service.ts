/** @module Broadcasts as Telerivet reported them (`send_broadcast`). */
import { broadcasts } from '@telehook/db'
import { and, desc, eq, type SQL, sql } from 'drizzle-orm'
import type { AdminContext } from '../../context'
import { decodeKeyedCursor, encodeKeyedCursor, pageSize } from '../../list-query'
import { parseTime } from '../../paging'
import { toWire } from '../../rows'
import type { BroadcastPage, BroadcastRow, BroadcastsQuery } from './model'

const broadcastTime = sql`coalesce(${broadcasts.timeCreated}, ${broadcasts.createdAt})`

/** Broadcasts newest first, filtered; `next_cursor` pages on (time, project, id). */
export async function listBroadcasts(
  ctx: AdminContext,
  query: typeof BroadcastsQuery.static,
): Promise<typeof BroadcastPage.static> {
  const limit = pageSize(query.limit)
  const conds: SQL[] = []
  if (query.project_id !== undefined) conds.push(eq(broadcasts.projectId, query.project_id))
  if (query.status) conds.push(eq(broadcasts.status, query.status))
  const since = parseTime('since', query.since)
  const until = parseTime('until', query.until)
  if (since) conds.push(sql`${broadcastTime} >= ${since.toISOString()}::timestamptz`)
  if (until) conds.push(sql`${broadcastTime} < ${until.toISOString()}::timestamptz`)
  if (query.cursor) {
    const c = decodeKeyedCursor(query.cursor)
    conds.push(
      sql`(${broadcastTime}, ${broadcasts.projectId}, ${broadcasts.id}) < (${c.at}::timestamptz, ${c.projectId}, ${c.id})`,
    )
  }
  const rows = await ctx.db
    .select({ row: broadcasts, at: sql<string>`${broadcastTime}::text` })
    .from(broadcasts)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(broadcastTime), desc(broadcasts.projectId), desc(broadcasts.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map((r) => toWire<typeof BroadcastRow.static>(r.row)),
    next_cursor:
      rows.length > limit && last
        ? encodeKeyedCursor(last.at, last.row.projectId, last.row.id)
        : null,
  }
}
