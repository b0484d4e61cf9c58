/**
 * The ingest hot path: a batch of deliveries written with one prepared statement (per wave, see
 * `planWaves`), every value passed as one JSON parameter per table. The text of the statement is
 * built once, at module load; nothing is built per request.
 */
import type { NativeQuery } from '@telehook/db'
import type { TelerivetEvent } from '@telehook/protocol'
import { DESTINATION_MATCHES, FORWARD_CHANNEL } from './forward/enqueue'
import {
  bool,
  CONTACT_UPDATE_SET,
  int,
  mirrorProject,
  projectionKeys,
  rankOf,
  str,
  strings,
  date as toDate,
} from './projections'
import type { JobRow, Stored, StoreItem } from './store'

/** The channel on which the ingest transaction announces new jobs to workers. */
export const JOBS_CHANNEL = 'telehook_jobs'

/** Namespace of the row locks (the two-key advisory locks, apart from the one-key ones). */
export const ROW_LOCK_SPACE = 0x7e1e

type Row = Record<string, unknown>

/** Whether a delivery reaches the mirror and the queue: valid and of its endpoint's project. */
export const mirrored = (item: StoreItem): boolean =>
  item.prepared.decoded.ok && item.prepared.flag === null

/** The rows one delivery may write, as lock keys: its event's unique key, then its mirror rows. */
export function lockKeysOf(item: StoreItem): string[] {
  const p = item.prepared
  const keys = [`events:${item.endpoint.id}:${p.dedupeKey}`]
  if (p.decoded.ok && p.flag === null) keys.push(...projectionKeys(p.decoded.event, p.projectId))
  return keys
}

// ---------------------------------------------------------------------------------------------
// Rows. Keys are the column names; `undefined` (left out by JSON.stringify) reads as NULL.
// Every value is already what JSON.stringify writes as is: times as ISO strings (a `Date` makes
// JSON.stringify call its toJSON, which took the whole batch off the engine's fast path: 5× the
// time per row), objects and arrays as decoded (not copied: they are only serialised).

/** A time as PostgreSQL reads it from JSON (the ISO string JSON.stringify makes of a Date). */
const date = (seconds: unknown): string | undefined => toDate(seconds)?.toISOString()
const obj = (v: unknown): object | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined
const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined)

function messageRow(e: Row, project: string): Row {
  return {
    project_id: project,
    id: e.id,
    direction: str(e.direction),
    message_type: str(e.message_type),
    status: str(e.status),
    source: str(e.source),
    from_number: str(e.from_number),
    to_number: str(e.to_number),
    content: str(e.content),
    contact_id: str(e.contact_id),
    phone_id: str(e.phone_id),
    route_id: str(e.route_id),
    service_id: str(e.service_id),
    broadcast_id: str(e.broadcast_id),
    time_created: date(e.time_created),
    time_sent: date(e.time_sent),
    time_updated: date(e.time_updated),
    time_clicked: date(e.time_clicked),
    error_message: str(e.error_message),
    starred: bool(e.starred),
    label_ids: strings(e.label_ids),
    vars: obj(e.vars),
    media: arr(e.media),
  }
}

/** The rows of a batch wave, one array per table, each row tagged with its delivery's `o`. */
interface WaveRows {
  events: Row[]
  messages: Row[]
  history: Row[]
  messageContacts: Row[]
  contactUpdates: Row[]
  broadcasts: Row[]
  jobs: Row[]
  /** `project id` keys of message contacts that carried their groups, vars, block flag. */
  carriedGroups: string[]
  carriedVars: string[]
  carriedBlocked: string[]
}

function addMirrorRows(rows: WaveRows, o: number, event: TelerivetEvent, projectId: string | null) {
  const e = event as unknown as Row
  const project = mirrorProject(projectId)
  switch (event.event) {
    case 'incoming_message': {
      rows.messages.push({
        ...messageRow(e, project),
        o,
        direction: 'incoming',
        // The webhook fires once Telerivet has received the message; it may omit the status.
        status: str(e.status) ?? 'received',
      })
      const c = (obj(e.contact) ?? {}) as Row
      const id = str(e.contact_id) ?? str(c.id)
      if (!id) return
      rows.messageContacts.push({
        o,
        project_id: project,
        id,
        name: str(c.name),
        phone_number: str(c.phone_number) ?? str(e.from_number),
        send_blocked: bool(c.send_blocked) ?? false,
        group_ids: strings(c.group_ids) ?? [],
        vars: obj(c.vars) ?? {},
        conversation_status: str(c.conversation_status),
        message_count: int(c.message_count),
        time_created: date(c.time_created),
        time_updated: date(c.time_updated),
        last_message_time: date(c.last_message_time) ?? date(e.time_created),
      })
      const key = `${project} ${id}`
      if (strings(c.group_ids)) rows.carriedGroups.push(key)
      if (obj(c.vars)) rows.carriedVars.push(key)
      if (bool(c.send_blocked) !== undefined) rows.carriedBlocked.push(key)
      return
    }
    case 'send_status':
      rows.messages.push({
        ...messageRow(e, project),
        o,
        direction: str(e.direction) ?? 'outgoing',
      })
      rows.history.push({
        o,
        project_id: project,
        message_id: event.id,
        status: event.status,
        error_message: str(e.error_message),
        time_clicked: date(e.time_clicked),
        time_sent: date(e.time_sent),
      })
      return
    case 'message_metadata':
      rows.messages.push({
        ...messageRow(e, project),
        o,
        // The metadata webhook carries the full label list: absent means none.
        label_ids: strings(e.label_ids) ?? [],
        in_progress: bool(e.in_progress),
      })
      return
    case 'contact_update': {
      const updateType = str(e.update_type)
      const sendBlocked =
        updateType === 'block_send'
          ? true
          : updateType === 'unblock_send'
            ? false
            : bool(e.send_blocked)
      // contact_update carries the whole contact: absent lists and vars are empty ones.
      rows.contactUpdates.push({
        o,
        project_id: project,
        id: event.id,
        name: str(e.name),
        phone_number: str(e.phone_number),
        send_blocked: sendBlocked ?? false,
        deleted: updateType === 'delete',
        group_ids: strings(e.group_ids) ?? [],
        vars: obj(e.vars) ?? {},
        conversation_status: str(e.conversation_status),
        message_count: int(e.message_count),
        time_created: date(e.time_created),
        time_updated: date(e.time_updated),
        last_message_time: date(e.last_message_time),
        last_update_type: updateType,
      })
      return
    }
    case 'send_broadcast':
      rows.broadcasts.push({
        o,
        project_id: project,
        id: e.id,
        title: str(e.title),
        content: str(e.content),
        message_type: str(e.message_type),
        status: str(e.status),
        source: str(e.source),
        recipients_str: str(e.recipients_str),
        recipients: arr(e.recipients),
        estimated_count: int(e.estimated_count),
        route_id: str(e.route_id),
        service_id: str(e.service_id),
        user_id: str(e.user_id),
        user_name: str(e.user_name),
        user_email: str(e.user_email),
        time_created: date(e.time_created),
        vars: obj(e.vars),
      })
      return
  }
}

// ---------------------------------------------------------------------------------------------
// The statement.

const recordset = (param: number, cols: string) =>
  `jsonb_to_recordset($${param}::text::jsonb) as r(o int, ${cols})`
const names = (cols: string) =>
  cols
    .split(',')
    .map((c) => c.trim().split(' ')[0])
    .join(', ')
const from = (cols: string, alias = 'r') =>
  cols
    .split(',')
    .map((c) => `${alias}.${c.trim().split(' ')[0]}`)
    .join(', ')

const MESSAGE_COLS = `project_id text, id text, direction text, message_type text, status text,
  source text, from_number text, to_number text, content text, contact_id text, phone_id text,
  route_id text, service_id text, broadcast_id text, time_created timestamptz,
  time_sent timestamptz, time_updated timestamptz, time_clicked timestamptz, error_message text,
  starred boolean, label_ids text[], vars jsonb, in_progress boolean, media jsonb`
const MESSAGE_KEPT = [
  'direction',
  'message_type',
  'source',
  'from_number',
  'to_number',
  'content',
  'contact_id',
  'phone_id',
  'route_id',
  'service_id',
  'broadcast_id',
  'time_created',
  'time_sent',
  'time_updated',
  'starred',
  'label_ids',
  'in_progress',
  'media',
]
/** True when the incoming status may replace the stored one (see STATUS_RANK). */
const STATUS_WINS = `(excluded.status is not null and (m.status is null or ${rankOf('excluded.status')} >= ${rankOf('m.status')}))`

const HISTORY_COLS = `project_id text, message_id text, status text, error_message text,
  time_clicked timestamptz, time_sent timestamptz`

const MESSAGE_CONTACT_COLS = `project_id text, id text, name text, phone_number text,
  send_blocked boolean, group_ids text[], vars jsonb, conversation_status text,
  message_count int, time_created timestamptz, time_updated timestamptz,
  last_message_time timestamptz`
const CONTACT_UPDATE_COLS = `project_id text, id text, name text, phone_number text,
  send_blocked boolean, deleted boolean, group_ids text[], vars jsonb, conversation_status text,
  message_count int, time_created timestamptz, time_updated timestamptz,
  last_message_time timestamptz, last_update_type text`
/** A contact state is applied only if it is not older than the stored one. */
const CONTACT_NOT_OLDER =
  '(excluded.time_updated is null or c.time_updated is null or excluded.time_updated >= c.time_updated)'
const carried = (param: number) =>
  `(excluded.project_id || ' ' || excluded.id) = any(array(select jsonb_array_elements_text($${param}::text::jsonb)))`

const BROADCAST_COLS = `project_id text, id text, title text, content text, message_type text,
  status text, source text, recipients_str text, recipients jsonb, estimated_count int,
  route_id text, service_id text, user_id text, user_name text, user_email text,
  time_created timestamptz, vars jsonb`

const EVENT_COLS = `endpoint_id text, project_id text, event text, telerivet_id text,
  dedupe_key text, payload jsonb, reply jsonb, valid boolean, errors jsonb, handler_error text,
  flag text, copies int`

/**
 * Takes transaction-scoped advisory locks on the keys of `param` (a JSON array of strings, as
 * text), in ascending order of their hashes (unnest walks the sorted array in order), and counts
 * them. Every writer of mirror rows locks through this one statement: the batch statement and
 * `lockRows` (replay).
 */
export const lockRowsSql = (param: string) =>
  `select count(pg_advisory_xact_lock(${ROW_LOCK_SPACE}, h)) as n from unnest((
    select array_agg(distinct hashtext(k) order by hashtext(k))
    from jsonb_array_elements_text(${param}::text::jsonb) as a(k)
  )) h`

/**
 * One batch wave in one statement. First the rows' advisory locks (`locked`, from the JSON array
 * of keys in `$11`, in ascending order of their hashes, the order every writer uses; `[]` takes
 * none): `input` waits for them, and every write reads `input`, so nothing is written before they
 * are held. The events are upserted from `$1` and RETURN what the database decided; every mirror
 * upsert and the jobs join the newly inserted events only (`new_ev`), so a duplicate applies
 * nothing; each new event that reaches the mirror also gets one forward job per matching enabled
 * destination (`fwd`; the one table read is destinations, a few rows).
 * Otherwise nothing reads a table: no plan can go bad as the tables grow (a
 * cached plan made on empty tables kept a sequential scan of `events` in an earlier attempt).
 * Rows of each table are written in key order. Sent alone (outside a transaction), the statement
 * is its own transaction: one round trip, committed before its answer.
 */
export const BATCH_SQL = `with locked as (
  ${lockRowsSql('$11')}
), input as (
  select r.* from ${recordset(1, EVENT_COLS)} where (select n from locked) >= 0
), ev as (
  insert into telehook.events as t (endpoint_id, project_id, event, telerivet_id, dedupe_key,
    payload, reply, valid, errors, handler_error, flag, delivery_count)
  select endpoint_id, project_id, event, telerivet_id, dedupe_key, payload, reply, valid, errors,
    handler_error, flag, copies from input order by endpoint_id, dedupe_key
  on conflict (endpoint_id, dedupe_key) do update
    set delivery_count = t.delivery_count + excluded.delivery_count, last_received_at = now()
  returning t.id, t.endpoint_id, t.dedupe_key, t.reply, (t.xmax = 0) as inserted
), res as (
  select i.o, ev.id, ev.reply, ev.inserted, i.valid, i.flag, i.project_id, i.endpoint_id, i.event
  from ev join input i on i.endpoint_id = ev.endpoint_id and i.dedupe_key = ev.dedupe_key
), new_ev as (
  select o, id, valid, flag, project_id, endpoint_id, event from res where inserted
), msg as (
  insert into telehook.messages as m (${names(MESSAGE_COLS)}, last_event_id)
  select ${from(MESSAGE_COLS)}, n.id from ${recordset(2, MESSAGE_COLS)}
  join new_ev n on n.o = r.o order by r.project_id, r.id
  on conflict (project_id, id) do update set
    ${MESSAGE_KEPT.map((c) => `${c} = coalesce(excluded.${c}, m.${c})`).join(',\n    ')},
    status = case when ${STATUS_WINS} then excluded.status else m.status end,
    error_message = case when ${STATUS_WINS} then excluded.error_message else m.error_message end,
    time_clicked = least(m.time_clicked, excluded.time_clicked),
    vars = coalesce(m.vars, '{}'::jsonb) || coalesce(excluded.vars, '{}'::jsonb),
    last_event_id = excluded.last_event_id,
    updated_at = now()
  returning 1
), hist as (
  insert into telehook.message_status_history (${names(HISTORY_COLS)}, event_id)
  select ${from(HISTORY_COLS)}, n.id from ${recordset(3, HISTORY_COLS)}
  join new_ev n on n.o = r.o order by r.o
  returning 1
), cm as (
  insert into telehook.contacts as c (${names(MESSAGE_CONTACT_COLS)}, last_event_id)
  select ${from(MESSAGE_CONTACT_COLS)}, n.id from ${recordset(4, MESSAGE_CONTACT_COLS)}
  join new_ev n on n.o = r.o order by r.project_id, r.id
  on conflict (project_id, id) do update set
    ${[
      'name',
      'phone_number',
      'conversation_status',
      'message_count',
      'time_created',
      'time_updated',
      'last_message_time',
    ]
      .map((col) => `${col} = coalesce(excluded.${col}, c.${col})`)
      .join(',\n    ')},
    group_ids = case when ${carried(8)} then excluded.group_ids else c.group_ids end,
    vars = case when ${carried(9)} then excluded.vars else c.vars end,
    send_blocked = case when ${carried(10)} then excluded.send_blocked else c.send_blocked end,
    last_event_id = excluded.last_event_id,
    updated_at = now()
  where ${CONTACT_NOT_OLDER}
  returning 1
), cu as (
  insert into telehook.contacts as c (${names(CONTACT_UPDATE_COLS)}, last_event_id)
  select ${from(CONTACT_UPDATE_COLS)}, n.id from ${recordset(5, CONTACT_UPDATE_COLS)}
  join new_ev n on n.o = r.o order by r.project_id, r.id
  on conflict (project_id, id) do update set
    ${CONTACT_UPDATE_SET.map((col) => `${col} = excluded.${col}`).join(',\n    ')},
    time_created = coalesce(excluded.time_created, c.time_created),
    updated_at = now()
  where ${CONTACT_NOT_OLDER}
  returning 1
), bc as (
  insert into telehook.broadcasts as b (${names(BROADCAST_COLS)}, last_event_id)
  select ${from(BROADCAST_COLS)}, n.id from ${recordset(6, BROADCAST_COLS)}
  join new_ev n on n.o = r.o order by r.project_id, r.id
  on conflict (project_id, id) do update set
    ${names(BROADCAST_COLS)
      .split(', ')
      .filter((c) => c !== 'project_id' && c !== 'id')
      .map((col) => `${col} = coalesce(excluded.${col}, b.${col})`)
      .join(',\n    ')},
    last_event_id = excluded.last_event_id,
    updated_at = now()
  returning 1
), job as (
  insert into telehook.jobs (event_id, handler)
  select n.id, r.handler from ${recordset(7, 'handler text')}
  join new_ev n on n.o = r.o order by r.o
  returning event_id
), woke as (
  select count(pg_notify('${JOBS_CHANNEL}', event_id::text)) as n from job
), fwd as (
  insert into telehook.forward_jobs (event_id, destination_id)
  select e.id, d.id from new_ev e
  join telehook.destinations d on e.valid and e.flag is null and ${DESTINATION_MATCHES}
  order by e.id, d.id
  on conflict (event_id, destination_id) do nothing
  returning 1
), fwoke as (
  select count(pg_notify('${FORWARD_CHANNEL}', '')) as n from (select 1 from fwd limit 1) x
)
select o, id, reply, inserted, (select n from woke) as woke, (select n from fwoke) as fwoke
from res`

/**
 * Which deliveries of `$1` (a JSON array of `{ o, e: endpoint id, d: dedupe key }`) are already
 * stored: then the stored reply answers, not the handler. The LATERAL … LIMIT 1 makes it a nested
 * loop, one probe per key. It is the one hot-path statement that reads a big table, so its cached
 * plan is remade as the table grows (see `createStoredCheck`).
 */
export const STORED_SQL = `select k.o from jsonb_to_recordset($1::text::jsonb) as k(o int, e text, d text)
  cross join lateral (
    select 1 from telehook.events t where t.endpoint_id = k.e and t.dedupe_key = k.d limit 1
  ) found`

interface Lookup {
  endpointId: string
  key: string
  resolve(stored: boolean): void
  reject(error: unknown): void
}

/** The stored check: whether a delivery is stored, and what it must know of the table's growth. */
export interface StoredCheck {
  (endpointId: string, key: string): Promise<boolean>
  /** Counts `n` more events stored (by this process), so that the look-up is re-planned in time. */
  grew(n: number): void
  /** The plan generation in use (0 until the first re-plan). */
  readonly generation: number
}

/**
 * The stored check of concurrent deliveries, batched like the writes: the look-ups of one turn of
 * the event loop go together, and while `maxInflight` are in flight, the next ones wait and go
 * together in one statement (at most `maxSize`).
 *
 * The statement is prepared, and re-prepared (a new text: `-- plan N` appended) each time the
 * events stored since start double past `firstReplanAt` (64, 128, 256, …). A plan is cached with
 * the table's size when it is made: made while `events` was nearly empty, it probes the table by
 * sequential scan (PostgreSQL) or through the endpoint index, every row of the endpoint (PGlite),
 * until the next ANALYZE — 2 ms a look-up at 10 000 rows instead of 0.1, the slow mode of the
 * bimodal bench runs. Planning on every run instead (unprepared) cost PostgreSQL ~0.12 ms of CPU
 * per delivery; doubling generations cost one plan per connection per doubling, about 20 in a
 * million deliveries.
 */
export function createStoredCheck(
  query: NativeQuery,
  opts: { maxInflight: number; maxSize: number; firstReplanAt?: number },
): StoredCheck {
  const queue: Lookup[] = []
  let inflight = 0
  let generation = 0
  let stored = 0
  let nextReplan = Math.max(1, opts.firstReplanAt ?? 64)
  let text = STORED_SQL
  async function run(batch: Lookup[]): Promise<void> {
    try {
      const rows = await query<{ o: number }>(text, [
        JSON.stringify(batch.map((l, o) => ({ o, e: l.endpointId, d: l.key }))),
      ])
      const found = new Set(rows.map((r) => Number(r.o)))
      batch.forEach((l, o) => {
        l.resolve(found.has(o))
      })
    } catch (error) {
      for (const l of batch) l.reject(error)
    }
  }
  function pump(): void {
    while (inflight < opts.maxInflight && queue.length > 0) {
      inflight++
      void run(queue.splice(0, opts.maxSize)).finally(() => {
        inflight--
        pump()
      })
    }
  }
  // Sent on the next turn of the event loop, not at once: the deliveries whose requests were read
  // in one turn share a statement, where the first used to take a free slot alone (3–9 % more
  // req/s at 50 connections, lower CPU per delivery and p99; see the engine README).
  let scheduled = false
  const send = () => {
    scheduled = false
    pump()
  }
  const check = (endpointId: string, key: string) =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ endpointId, key, resolve, reject })
      if (scheduled) return
      scheduled = true
      setImmediate(send)
    })
  const grew = (n: number) => {
    stored += n
    if (stored < nextReplan) return
    while (stored >= nextReplan) nextReplan *= 2
    generation++
    text = `${STORED_SQL}\n-- plan ${generation}`
  }
  return Object.defineProperties(check, {
    grew: { value: grew },
    generation: { get: () => generation },
  }) as StoredCheck
}

// ---------------------------------------------------------------------------------------------
// Planning and writing.

/**
 * Splits a batch so that no statement touches one row twice (`ON CONFLICT DO UPDATE` cannot):
 * copies of one delivery (same endpoint and dedupe key) are folded into their first one, which
 * counts them all; then each delivery goes to the first wave after every earlier delivery that
 * writes one of its mirror rows, so the rows of one message or contact change in arrival order.
 * In the usual batch (distinct messages) there is one wave.
 */
export function planWaves(items: readonly StoreItem[]): {
  waves: number[][]
  leaderOf: number[]
  copies: number[]
} {
  const leaders = new Map<string, number>()
  const lastWave = new Map<string, number>()
  const leaderOf: number[] = []
  const copies: number[] = []
  const waves: number[][] = []
  items.forEach((item, i) => {
    const eventKey = `${item.endpoint.id}\u0000${item.prepared.dedupeKey}`
    const leader = leaders.get(eventKey)
    if (leader !== undefined) {
      leaderOf.push(leader)
      copies[leader] = (copies[leader] ?? 1) + 1
      copies.push(0)
      return
    }
    leaders.set(eventKey, i)
    leaderOf.push(i)
    copies.push(1)
    const keys =
      item.prepared.decoded.ok && item.prepared.flag === null
        ? projectionKeys(item.prepared.decoded.event, item.prepared.projectId)
        : []
    let wave = 0
    for (const k of keys) wave = Math.max(wave, (lastWave.get(k) ?? -1) + 1)
    for (const k of keys) lastWave.set(k, wave)
    while (waves.length <= wave) waves.push([])
    ;(waves[wave] as number[]).push(i)
  })
  return { waves, leaderOf, copies }
}

/** The jobs of a delivery: its own list, else its type's async handler when there is one. */
export function jobsOf(item: StoreItem, asyncHandlers: ReadonlySet<string>): readonly JobRow[] {
  if (item.jobs) return item.jobs
  const type = item.prepared.eventType
  return type !== null && asyncHandlers.has(type) ? [{ handler: type }] : []
}

function waveParams(
  items: readonly StoreItem[],
  wave: readonly number[],
  copies: readonly number[],
  asyncHandlers: ReadonlySet<string>,
  lockKeys: readonly string[],
): string[] {
  const rows: WaveRows = {
    events: [],
    messages: [],
    history: [],
    messageContacts: [],
    contactUpdates: [],
    broadcasts: [],
    jobs: [],
    carriedGroups: [],
    carriedVars: [],
    carriedBlocked: [],
  }
  for (const o of wave) {
    const item = items[o] as StoreItem
    const p = item.prepared
    rows.events.push({
      o,
      endpoint_id: item.endpoint.id,
      project_id: p.projectId,
      event: p.eventType ?? '',
      telerivet_id: p.telerivetId,
      dedupe_key: p.dedupeKey,
      payload: p.payload,
      reply: item.reply,
      valid: p.valid,
      errors: p.errors,
      handler_error: item.handlerError,
      flag: p.flag,
      copies: copies[o],
    })
    if (!p.decoded.ok || p.flag !== null) continue
    addMirrorRows(rows, o, p.decoded.event, p.projectId)
    for (const job of jobsOf(item, asyncHandlers)) rows.jobs.push({ o, ...job })
  }
  return [
    rows.events,
    rows.messages,
    rows.history,
    rows.messageContacts,
    rows.contactUpdates,
    rows.broadcasts,
    rows.jobs,
    rows.carriedGroups,
    rows.carriedVars,
    rows.carriedBlocked,
    lockKeys,
  ].map((r) => JSON.stringify(r))
}

export interface ResultRow {
  o: number
  id: string
  reply: unknown
  inserted: boolean
}

/** The parameters of each wave's statement; the first takes every row lock of the batch. */
export interface BatchPlan {
  waves: number[][]
  leaderOf: number[]
  params: string[][]
}

/**
 * Plans a batch (see `planWaves`) and builds its statements' parameters. With `lock`
 * (PostgreSQL) the first wave's statement takes the locks of every row the batch may write.
 */
export function planBatch(
  items: readonly StoreItem[],
  asyncHandlers: ReadonlySet<string>,
  lock: boolean,
): BatchPlan {
  const { waves, leaderOf, copies } = planWaves(items)
  const keys = lock ? waves.flat().flatMap((o) => lockKeysOf(items[o] as StoreItem)) : []
  const params = waves.map((wave, i) =>
    waveParams(items, wave, copies, asyncHandlers, i === 0 ? keys : []),
  )
  return { waves, leaderOf, params }
}

/** Every delivery's answer, from the rows the wave statements returned. */
export function batchResults(
  plan: BatchPlan,
  items: readonly StoreItem[],
  rows: readonly ResultRow[],
): Stored[] {
  const byOrd = new Map<number, ResultRow>()
  for (const row of rows) byOrd.set(Number(row.o), row)
  return items.map((_, i) => {
    const leader = plan.leaderOf[i] as number
    const row = byOrd.get(leader)
    if (!row) throw new Error('batch statement returned no row for a delivery')
    return {
      id: row.id,
      reply: (row.reply ?? null) as Stored['reply'],
      inserted: leader === i && row.inserted === true,
    }
  })
}

/**
 * Writes a planned batch of several waves inside the caller's transaction, one statement per
 * wave. The statements are issued together (postgres.js pipelines them) and all settle before
 * the first failure is thrown, so the caller's rollback is never sent while one is still running.
 */
export async function writeWaves(query: NativeQuery, plan: BatchPlan): Promise<ResultRow[]> {
  const settled = await Promise.allSettled(plan.params.map((p) => query<ResultRow>(BATCH_SQL, p)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.flatMap((s) => (s as PromiseFulfilledResult<ResultRow[]>).value)
}

/**
 * Writes a batch inside the caller's transaction (see `planBatch` and `writeWaves`).
 */
export async function writeBatch(
  query: NativeQuery,
  items: readonly StoreItem[],
  asyncHandlers: ReadonlySet<string>,
  lock: boolean,
): Promise<Stored[]> {
  const plan = planBatch(items, asyncHandlers, lock)
  return batchResults(plan, items, await writeWaves(query, plan))
}
