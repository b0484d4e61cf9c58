/** @module What the console's pages read: events with filters, one event, contacts, a thread. */
import { contacts, type Database, events, jobs, messageStatusHistory, messages } from '@telehook/db'
import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'

export type EventRecord = typeof events.$inferSelect
export type MessageRecord = typeof messages.$inferSelect
export type StatusRecord = typeof messageStatusHistory.$inferSelect

export interface EventFilters {
  event?: string | undefined
  valid?: 'true' | 'false' | undefined
  project_id?: string | undefined
  endpoint_id?: string | undefined
  /** Received at or after (UTC; ISO, or `YYYY-MM-DD[THH:MM[:SS]]` read as UTC). */
  since?: string | undefined
  /** Received before. */
  until?: string | undefined
}

/** A filter time as typed: a time without a zone is UTC, like every time the console shows. */
export function parseUtc(text: string | undefined): Date | null | undefined {
  if (!text) return undefined
  const t = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$/.test(text.trim())
    ? `${text.trim().replace(' ', 'T')}${text.includes(':') ? '' : 'T00:00'}Z`
    : text.trim()
  const d = new Date(t)
  return Number.isNaN(d.getTime()) ? null : d
}

/** Does an event pass the filters (the live log applies them in memory to new events)? */
export function matches(e: EventRecord, f: EventFilters): boolean {
  return (
    (!f.event || e.event === f.event) &&
    (!f.valid || e.valid === (f.valid === 'true')) &&
    (!f.project_id || e.projectId === f.project_id) &&
    (!f.endpoint_id || e.endpointId === f.endpoint_id) &&
    (!f.since || e.receivedAt >= (parseUtc(f.since) ?? e.receivedAt)) &&
    (!f.until || e.receivedAt < (parseUtc(f.until) ?? new Date(8.64e15)))
  )
}

function filterConds(f: EventFilters): SQL[] {
  const conds: SQL[] = []
  if (f.event) conds.push(eq(events.event, f.event))
  if (f.valid) conds.push(eq(events.valid, f.valid === 'true'))
  if (f.project_id) conds.push(eq(events.projectId, f.project_id))
  if (f.endpoint_id) conds.push(eq(events.endpointId, f.endpoint_id))
  const since = parseUtc(f.since)
  const until = parseUtc(f.until)
  if (since) conds.push(sql`${events.receivedAt} >= ${since.toISOString()}::timestamptz`)
  if (until) conds.push(sql`${events.receivedAt} < ${until.toISOString()}::timestamptz`)
  return conds
}

/** An opaque cursor over (received_at, id); the time is PostgreSQL's text, exact to the µs. */
const encodeCursor = (at: string, id: string) =>
  btoa(JSON.stringify([at, id]))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')

function decodeCursor(cursor: string): [string, string] | null {
  try {
    const v = JSON.parse(atob(cursor.replaceAll('-', '+').replaceAll('_', '/'))) as unknown
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      /^[0-9a-f-]{36}$/i.test(v[1]) &&
      !Number.isNaN(Date.parse(v[0]))
    ) {
      return [v[0], v[1]]
    }
  } catch {}
  return null
}

/** One page of events, newest first; null when the cursor or a time is not valid. */
export async function listEvents(
  database: Database,
  f: EventFilters,
  cursor: string | undefined,
  limit = 50,
): Promise<{ rows: EventRecord[]; next: string | null } | null> {
  if (parseUtc(f.since) === null || parseUtc(f.until) === null) return null
  const conds = filterConds(f)
  if (cursor) {
    const c = decodeCursor(cursor)
    if (!c) return null
    conds.push(sql`(${events.receivedAt}, ${events.id}) < (${c[0]}::timestamptz, ${c[1]}::uuid)`)
  }
  const rows = await database.db
    .select({ row: events, at: sql<string>`${events.receivedAt}::text` })
    .from(events)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(events.receivedAt), desc(events.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    rows: page.map((r) => r.row),
    next: rows.length > limit && last ? encodeCursor(last.at, last.row.id) : null,
  }
}

/** Events received after `sinceMs` (oldest first), for the live log's poller. */
export async function eventsSince(database: Database, sinceMs: number): Promise<EventRecord[]> {
  return database.db
    .select()
    .from(events)
    .where(sql`${events.receivedAt} > ${new Date(sinceMs).toISOString()}::timestamptz`)
    .orderBy(asc(events.receivedAt), asc(events.id))
    .limit(500)
}

export async function getEvent(database: Database, id: string): Promise<EventRecord | null> {
  const [row] = await database.db.select().from(events).where(eq(events.id, id))
  return row ?? null
}

export async function jobsOfEvent(database: Database, id: string) {
  return database.db.select().from(jobs).where(eq(jobs.eventId, id)).orderBy(asc(jobs.id))
}

/** Contacts whose phone number holds these digits (or all, newest activity first). */
export async function searchContacts(database: Database, phone: string | undefined, limit = 100) {
  const digits = (phone ?? '').replace(/\D/g, '')
  return database.db
    .select()
    .from(contacts)
    .where(
      digits
        ? sql`regexp_replace(coalesce(${contacts.phoneNumber}, ''), '\\D', '', 'g') like ${`%${digits}%`}`
        : undefined,
    )
    .orderBy(sql`${contacts.lastMessageTime} desc nulls last`, desc(contacts.updatedAt))
    .limit(limit)
}

export interface ThreadItem {
  message: MessageRecord
  history: StatusRecord[]
  /** For an incoming message: the reply our webhook answered with (messages to send). */
  reply: Record<string, unknown> | null
}

/**
 * A contact's messages in and out, oldest first, each with its status history and, for an incoming
 * message, the reply our webhook answered with. The mirror is keyed by (project, Telerivet id).
 */
export async function thread(database: Database, projectId: string, contactId: string) {
  const [contact] = await database.db
    .select()
    .from(contacts)
    .where(and(eq(contacts.projectId, projectId), eq(contacts.id, contactId)))
  const msgs = await database.db
    .select()
    .from(messages)
    .where(and(eq(messages.projectId, projectId), eq(messages.contactId, contactId)))
    .orderBy(sql`coalesce(${messages.timeCreated}, ${messages.createdAt})`, asc(messages.id))
    .limit(500)
  const ids = msgs.map((m) => m.id)
  const history = ids.length
    ? await database.db
        .select()
        .from(messageStatusHistory)
        .where(
          and(
            eq(messageStatusHistory.projectId, projectId),
            inArray(messageStatusHistory.messageId, ids),
          ),
        )
        .orderBy(asc(messageStatusHistory.id))
    : []
  const replies = ids.length
    ? await database.db
        .select({ telerivetId: events.telerivetId, reply: events.reply })
        .from(events)
        .where(
          and(
            eq(events.event, 'incoming_message'),
            inArray(events.telerivetId, ids),
            sql`coalesce(${events.projectId}, '') = ${projectId}`,
          ),
        )
    : []
  const replyOf = new Map(replies.map((r) => [r.telerivetId, r.reply]))
  const items: ThreadItem[] = msgs.map((m) => ({
    message: m,
    history: history.filter((h) => h.messageId === m.id),
    reply: (m.direction === 'incoming' ? replyOf.get(m.id) : null) ?? null,
  }))
  return { contact: contact ?? null, items }
}
