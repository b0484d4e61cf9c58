import { broadcasts, contacts, type Db, messageStatusHistory, messages } from '@telehook/db'
import type { EventOf, TelerivetEvent } from '@telehook/protocol'
import { type SQL, sql } from 'drizzle-orm'

/**
 * Status order for the `messages` mirror. Telerivet may deliver notifications out of order (its
 * retries run independently), so a status only replaces one of lower or equal rank:
 * - in-flight states rank lowest (`queued` < `failed_queued` < `sent`); `failed_queued` is a
 *   retry of a queued message and `sent` follows it;
 * - outcomes rank above them: `failed`/`cancelled` end a send, delivery reports
 *   (`delivered`/`not_delivered`) come after a send, `read` after delivery;
 * - incoming statuses (`received`, `ignored`, `processing`) never compete with outgoing ones;
 * - equal ranks: the later arrival wins (e.g. a corrected delivery report);
 * - a status missing here (one Telerivet may add) ranks 0: it is kept in the history but never
 *   replaces a status whose place we know.
 */

/** The contact columns a newer `contact_update` overwrites (the batch statement uses them too). */
export const CONTACT_UPDATE_SET = [
  'name',
  'phone_number',
  'send_blocked',
  'deleted',
  'group_ids',
  'vars',
  'conversation_status',
  'message_count',
  'time_updated',
  'last_message_time',
  'last_update_type',
  'last_event_id',
] as const

export const STATUS_RANK: Readonly<Record<string, number>> = {
  queued: 10,
  failed_queued: 20,
  processing: 20,
  sent: 30,
  received: 30,
  ignored: 30,
  failed: 40,
  cancelled: 40,
  delivered: 50,
  not_delivered: 50,
  read: 60,
}

export const rankOf = (expr: string): string =>
  `(case ${expr} ${Object.entries(STATUS_RANK)
    .map(([s, r]) => `when '${s}' then ${r}`)
    .join(' ')} else 0 end)`

const cur = (col: string) => `"messages"."${col}"`
const exc = (col: string) => `excluded."${col}"`
/** Keep the stored value unless the new delivery carries one. */
const keep = (table: string, col: string) =>
  sql.raw(`coalesce(excluded."${col}", "${table}"."${col}")`)

/** True when the incoming status may replace the stored one. */
const statusWins = `(${exc('status')} is not null and (${cur('status')} is null or ${rankOf(exc('status'))} >= ${rankOf(cur('status'))}))`

// A value the column cannot hold is left out of the mirror rather than failing the delivery
// forever (Telerivet would retry it for a day); the event row keeps it in `payload`.
export const date = (seconds: unknown): Date | undefined =>
  typeof seconds === 'number' && seconds >= -2e11 && seconds <= 8.64e12
    ? new Date(seconds * 1000)
    : undefined
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
export const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2_147_483_647 ? v : undefined
export const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined)
export const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined
export const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (JSON.parse(JSON.stringify(v)) as Record<string, unknown>)
    : undefined
export const arr = (v: unknown): unknown[] | undefined =>
  Array.isArray(v) ? (JSON.parse(JSON.stringify(v)) as unknown[]) : undefined

/** The project of the mirror rows an event writes: its endpoint's, else the payload's, else ''. */
export const mirrorProject = (projectId: string | null): string => projectId ?? ''

/** Columns every message-carrying event may fill; `undefined` leaves the stored value. */
function messageValues(e: Record<string, unknown>, projectId: string | null, eventId: string) {
  return {
    id: e.id as string,
    projectId: mirrorProject(projectId),
    direction: str(e.direction),
    messageType: str(e.message_type),
    status: str(e.status),
    source: str(e.source),
    fromNumber: str(e.from_number),
    toNumber: str(e.to_number),
    content: str(e.content),
    contactId: str(e.contact_id),
    phoneId: str(e.phone_id),
    routeId: str(e.route_id),
    serviceId: str(e.service_id),
    broadcastId: str(e.broadcast_id),
    timeCreated: date(e.time_created),
    timeSent: date(e.time_sent),
    timeUpdated: date(e.time_updated),
    timeClicked: date(e.time_clicked),
    errorMessage: str(e.error_message),
    starred: bool(e.starred),
    labelIds: strings(e.label_ids),
    vars: obj(e.vars),
    media: arr(e.media),
    lastEventId: eventId,
  }
}

/** The ON CONFLICT update shared by all message upserts: descriptive fields are kept when absent. */
function messageMerge(overrides: Record<string, SQL> = {}): Record<string, SQL> {
  const set: Record<string, SQL> = {}
  const cols: [string, string][] = [
    ['direction', 'direction'],
    ['messageType', 'message_type'],
    ['source', 'source'],
    ['fromNumber', 'from_number'],
    ['toNumber', 'to_number'],
    ['content', 'content'],
    ['contactId', 'contact_id'],
    ['phoneId', 'phone_id'],
    ['routeId', 'route_id'],
    ['serviceId', 'service_id'],
    ['broadcastId', 'broadcast_id'],
    ['timeCreated', 'time_created'],
    ['timeSent', 'time_sent'],
    ['timeUpdated', 'time_updated'],
    ['starred', 'starred'],
    ['labelIds', 'label_ids'],
    ['inProgress', 'in_progress'],
    ['media', 'media'],
  ]
  for (const [prop, col] of cols) set[prop] = keep('messages', col)
  set.status = sql.raw(`case when ${statusWins} then ${exc('status')} else ${cur('status')} end`)
  // The error belongs to the status it came with.
  set.errorMessage = sql.raw(
    `case when ${statusWins} then ${exc('error_message')} else ${cur('error_message')} end`,
  )
  // The first click is what Telerivet reports; keep the earliest seen (least() skips nulls).
  set.timeClicked = sql.raw(`least(${cur('time_clicked')}, ${exc('time_clicked')})`)
  set.vars = sql.raw(
    `coalesce(${cur('vars')}, '{}'::jsonb) || coalesce(${exc('vars')}, '{}'::jsonb)`,
  )
  set.lastEventId = sql.raw(exc('last_event_id'))
  set.updatedAt = sql`now()`
  return { ...set, ...overrides }
}

/**
 * Applies the mirror projections of one newly stored, valid event, inside the ingest transaction.
 * `projectId` is the event's project as ingest decided it (the endpoint's, when it has one): every
 * row written is keyed by it, never by a `project_id` the payload claims.
 * Each projection is an upsert, so applying an event again (replay) converges to the same rows,
 * except `message_status_history`, which replay leaves alone (see replayEvent).
 */
export async function applyProjections(
  tx: Db,
  event: TelerivetEvent,
  eventId: string,
  projectId: string | null,
  opts: { history?: boolean } = {},
): Promise<void> {
  const e = event as unknown as Record<string, unknown>
  switch (event.event) {
    case 'incoming_message':
      await tx
        .insert(messages)
        .values({
          ...messageValues(e, projectId, eventId),
          direction: 'incoming',
          // The webhook fires once Telerivet has received the message; it may omit the status.
          status: str(e.status) ?? 'received',
        })
        .onConflictDoUpdate({ target: [messages.projectId, messages.id], set: messageMerge() })
      await upsertContactOfMessage(tx, event, eventId, projectId)
      return
    case 'send_status':
      await tx
        .insert(messages)
        .values({
          ...messageValues(e, projectId, eventId),
          direction: str(e.direction) ?? 'outgoing',
        })
        .onConflictDoUpdate({ target: [messages.projectId, messages.id], set: messageMerge() })
      if (opts.history !== false) {
        await tx.insert(messageStatusHistory).values({
          projectId: mirrorProject(projectId),
          messageId: event.id,
          status: event.status,
          errorMessage: str(e.error_message),
          timeClicked: date(e.time_clicked),
          timeSent: date(e.time_sent),
          eventId,
        })
      }
      return
    case 'message_metadata':
      await tx
        .insert(messages)
        .values({
          ...messageValues(e, projectId, eventId),
          // The metadata webhook carries the full label list: absent means none.
          labelIds: strings(e.label_ids) ?? [],
          inProgress: bool(e.in_progress),
        })
        .onConflictDoUpdate({
          target: [messages.projectId, messages.id],
          set: messageMerge({ labelIds: sql.raw(`coalesce(${exc('label_ids')}, '{}')`) }),
        })
      return
    case 'contact_update':
      await upsertContactUpdate(tx, event, eventId, projectId)
      return
    case 'send_broadcast':
      await upsertBroadcast(tx, e, eventId, projectId)
      return
  }
}

/**
 * The mirror rows `applyProjections` writes for `event`, as lock keys (`messages:<id>`, …). The
 * ingest transactions lock them in one sorted order before writing (see `lockRows` in store.ts).
 */
export function projectionKeys(event: TelerivetEvent, projectId: string | null): string[] {
  const e = event as unknown as Record<string, unknown>
  const p = mirrorProject(projectId)
  switch (event.event) {
    case 'incoming_message': {
      const contactId = str(e.contact_id) ?? str(obj(e.contact)?.id)
      return contactId
        ? [`messages:${p}:${event.id}`, `contacts:${p}:${contactId}`]
        : [`messages:${p}:${event.id}`]
    }
    case 'send_status':
    case 'message_metadata':
      return [`messages:${p}:${event.id}`]
    case 'contact_update':
      return [`contacts:${p}:${event.id}`]
    case 'send_broadcast':
      return [`broadcasts:${p}:${event.id}`]
  }
  return []
}

/** Apply a contact state only if it is not older than the stored one. */
const contactNotOlder = sql.raw(
  '(excluded."time_updated" is null or "contacts"."time_updated" is null or excluded."time_updated" >= "contacts"."time_updated")',
)

async function upsertContactUpdate(
  tx: Db,
  event: EventOf<'contact_update'>,
  eventId: string,
  projectId: string | null,
): Promise<void> {
  const e = event as unknown as Record<string, unknown>
  const updateType = str(e.update_type)
  const sendBlocked =
    updateType === 'block_send'
      ? true
      : updateType === 'unblock_send'
        ? false
        : bool(e.send_blocked)
  // contact_update carries the whole contact: absent lists and vars are empty ones.
  const values = {
    id: event.id,
    projectId: mirrorProject(projectId),
    name: str(e.name) ?? null,
    phoneNumber: str(e.phone_number) ?? null,
    sendBlocked: sendBlocked ?? false,
    deleted: updateType === 'delete',
    groupIds: strings(e.group_ids) ?? [],
    vars: obj(e.vars) ?? {},
    conversationStatus: str(e.conversation_status) ?? null,
    messageCount: int(e.message_count) ?? null,
    timeCreated: date(e.time_created) ?? null,
    timeUpdated: date(e.time_updated) ?? null,
    lastMessageTime: date(e.last_message_time) ?? null,
    lastUpdateType: updateType ?? null,
    lastEventId: eventId,
  }
  const set: Record<string, SQL> = {}
  for (const col of CONTACT_UPDATE_SET) {
    set[camel(col)] = sql.raw(`excluded."${col}"`)
  }
  set.timeCreated = keep('contacts', 'time_created')
  set.updatedAt = sql`now()`
  await tx
    .insert(contacts)
    .values(values)
    .onConflictDoUpdate({
      target: [contacts.projectId, contacts.id],
      set,
      setWhere: contactNotOlder,
    })
}

/** The `contact[...]` object of an incoming message: a partial view, merged into the mirror. */
async function upsertContactOfMessage(
  tx: Db,
  event: EventOf<'incoming_message'>,
  eventId: string,
  projectId: string | null,
): Promise<void> {
  const e = event as unknown as Record<string, unknown>
  const c = (obj(e.contact) ?? {}) as Record<string, unknown>
  const id = str(e.contact_id) ?? str(c.id)
  if (!id) return
  const values = {
    id,
    projectId: mirrorProject(projectId),
    name: str(c.name),
    phoneNumber: str(c.phone_number) ?? str(e.from_number),
    sendBlocked: bool(c.send_blocked) ?? false,
    groupIds: strings(c.group_ids) ?? [],
    vars: obj(c.vars) ?? {},
    conversationStatus: str(c.conversation_status),
    messageCount: int(c.message_count),
    timeCreated: date(c.time_created),
    timeUpdated: date(c.time_updated),
    lastMessageTime: date(c.last_message_time) ?? date(e.time_created),
    lastEventId: eventId,
  }
  const set: Record<string, SQL> = {}
  for (const col of [
    'name',
    'phone_number',
    'conversation_status',
    'message_count',
    'time_created',
    'time_updated',
    'last_message_time',
  ]) {
    set[camel(col)] = keep('contacts', col)
  }
  // Only what the message actually carried replaces the mirror's lists, vars and block flag.
  if (strings(c.group_ids)) set.groupIds = sql.raw('excluded."group_ids"')
  if (obj(c.vars)) set.vars = sql.raw('excluded."vars"')
  if (bool(c.send_blocked) !== undefined) set.sendBlocked = sql.raw('excluded."send_blocked"')
  set.lastEventId = sql.raw('excluded."last_event_id"')
  set.updatedAt = sql`now()`
  await tx
    .insert(contacts)
    .values(values)
    .onConflictDoUpdate({
      target: [contacts.projectId, contacts.id],
      set,
      setWhere: contactNotOlder,
    })
}

async function upsertBroadcast(
  tx: Db,
  e: Record<string, unknown>,
  eventId: string,
  projectId: string | null,
): Promise<void> {
  const values = {
    id: e.id as string,
    projectId: mirrorProject(projectId),
    title: str(e.title),
    content: str(e.content),
    messageType: str(e.message_type),
    status: str(e.status),
    source: str(e.source),
    recipientsStr: str(e.recipients_str),
    recipients: arr(e.recipients),
    estimatedCount: int(e.estimated_count),
    routeId: str(e.route_id),
    serviceId: str(e.service_id),
    userId: str(e.user_id),
    userName: str(e.user_name),
    userEmail: str(e.user_email),
    timeCreated: date(e.time_created),
    vars: obj(e.vars),
    lastEventId: eventId,
  }
  const set: Record<string, SQL> = {}
  for (const prop of Object.keys(values)) {
    if (prop === 'id' || prop === 'projectId') continue
    set[prop] = keep('broadcasts', snake(prop))
  }
  set.updatedAt = sql`now()`
  await tx
    .insert(broadcasts)
    .values(values)
    .onConflictDoUpdate({ target: [broadcasts.projectId, broadcasts.id], set })
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
}
function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}
