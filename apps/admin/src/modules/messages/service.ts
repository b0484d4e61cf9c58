/** @module Messages as Telerivet reported them, with their status history. */
import { messageStatusHistory, messages } from '@telehook/db'
import { and, asc, desc, eq, ilike, type SQL, sql } from 'drizzle-orm'
import type { AdminContext } from '../../context'
import {
  decodeKeyedCursor,
  encodeKeyedCursor,
  likeContains,
  onlyRow,
  pageSize,
} from '../../list-query'
import { parseTime } from '../../paging'
import { toWire } from '../../rows'
import type { MessageOut, MessagePage, MessageRow, MessagesQuery } from './model'

type Out = typeof MessageOut.static

/** The message's latest state and its status history; 404 when unknown. */
export async function getMessage(ctx: AdminContext, id: string, projectId?: string): Promise<Out> {
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(
      projectId === undefined
        ? eq(messages.id, id)
        : and(eq(messages.id, id), eq(messages.projectId, projectId)),
    )
    .limit(2)
  const m = onlyRow(rows, 'message')
  const history = await ctx.db
    .select()
    .from(messageStatusHistory)
    .where(
      and(
        eq(messageStatusHistory.projectId, m.projectId),
        eq(messageStatusHistory.messageId, m.id),
      ),
    )
    .orderBy(asc(messageStatusHistory.id))
  return {
    ...toWire<Out>(m),
    status_history: history.map((h) => toWire<Out['status_history'][number]>(h)),
  }
}

/** When a message happened: Telerivet's `time_created`, else when Telehook first saw it. */
const messageTime = sql`coalesce(${messages.timeCreated}, ${messages.createdAt})`

/** Messages newest first, filtered; `next_cursor` pages on (time, project, id). */
export async function listMessages(
  ctx: AdminContext,
  query: typeof MessagesQuery.static,
): Promise<typeof MessagePage.static> {
  const limit = pageSize(query.limit)
  const conds: SQL[] = []
  if (query.project_id !== undefined) conds.push(eq(messages.projectId, query.project_id))
  if (query.contact_id) conds.push(eq(messages.contactId, query.contact_id))
  if (query.direction) conds.push(eq(messages.direction, query.direction))
  if (query.status) conds.push(eq(messages.status, query.status))
  if (query.q) conds.push(ilike(messages.content, likeContains(query.q)))
  const since = parseTime('since', query.since)
  const until = parseTime('until', query.until)
  if (since) conds.push(sql`${messageTime} >= ${since.toISOString()}::timestamptz`)
  if (until) conds.push(sql`${messageTime} < ${until.toISOString()}::timestamptz`)
  if (query.cursor) {
    const c = decodeKeyedCursor(query.cursor)
    conds.push(
      sql`(${messageTime}, ${messages.projectId}, ${messages.id}) < (${c.at}::timestamptz, ${c.projectId}, ${c.id})`,
    )
  }
  const rows = await ctx.db
    .select({ row: messages, at: sql<string>`${messageTime}::text` })
    .from(messages)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(messageTime), desc(messages.projectId), desc(messages.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map((r) => toWire<typeof MessageRow.static>(r.row)),
    next_cursor:
      rows.length > limit && last
        ? encodeKeyedCursor(last.at, last.row.projectId, last.row.id)
        : null,
  }
}
