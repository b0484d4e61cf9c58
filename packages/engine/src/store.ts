import { type Db, events, jobs } from '@telehook/db'
import type { TelerivetEvent, WebhookReply } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import type { Endpoint } from './endpoints'
import type { Prepared } from './ingest'
import { applyProjections, projectionKeys } from './projections'

/** The channel on which the ingest transaction announces new jobs to workers. */
export const JOBS_CHANNEL = 'telehook_jobs'

/** One delivery ready to be written. */
export interface StoreItem {
  endpoint: Endpoint
  prepared: Prepared
  reply: WebhookReply | null
  handlerError: string | null
}

/** What the database decided for one delivery. */
export interface Stored {
  id: string
  /** The stored reply, read back from jsonb: the same bytes for every copy of the delivery. */
  reply: WebhookReply | null
  inserted: boolean
}

/** jsonb wants plain JSON: the decoded objects have null prototypes and may hold `undefined`. */
export function toJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/**
 * Writes one delivery inside the caller's transaction: the event row (the unique key decides
 * between concurrent copies), then — only for the copy that inserted — projections and jobs.
 */
export async function storeInTx(
  tx: Db,
  item: StoreItem,
  asyncHandlers: ReadonlySet<string>,
): Promise<Stored> {
  const { endpoint, prepared: p, reply, handlerError } = item
  const [row] = await tx
    .insert(events)
    .values({
      endpointId: endpoint.id,
      projectId: p.projectId,
      event: p.eventType ?? '',
      telerivetId: p.telerivetId,
      dedupeKey: p.dedupeKey,
      payload: toJson(p.payload),
      reply: reply === null ? null : (toJson(reply) as Record<string, unknown>),
      valid: p.valid,
      errors: p.errors === null ? null : toJson(p.errors),
      handlerError,
      flag: p.flag,
    })
    .onConflictDoUpdate({
      target: [events.endpointId, events.dedupeKey],
      set: {
        deliveryCount: sql`${events.deliveryCount} + 1`,
        lastReceivedAt: sql`now()`,
      },
    })
    .returning({
      id: events.id,
      reply: events.reply,
      // xmax is 0 only for a row this statement inserted (not one it updated on conflict).
      inserted: sql<boolean>`(xmax = 0)`,
    })
  if (!row) throw new Error('event upsert returned nothing')
  if (row.inserted && p.decoded.ok && p.flag === null) {
    await applyProjections(tx, p.decoded.event, row.id, p.projectId)
    await enqueueJobs(tx, row.id, p.decoded.event, asyncHandlers)
  }
  return { id: row.id, reply: (row.reply as WebhookReply | null) ?? null, inserted: row.inserted }
}

/** Enqueues the async handler of the event's type, if any, and wakes the workers on commit. */
export async function enqueueJobs(
  tx: Db,
  eventId: string,
  event: TelerivetEvent,
  asyncHandlers: ReadonlySet<string>,
): Promise<number> {
  if (!asyncHandlers.has(event.event)) return 0
  // One round trip: the insert and the NOTIFY (delivered by PostgreSQL on commit).
  await tx.execute(
    sql`with job as (insert into ${jobs} (event_id, handler) values (${eventId}, ${event.event}) returning 1)
        select pg_notify(${JOBS_CHANNEL}, ${eventId}) from job`,
  )
  return 1
}

/** Namespace of the row locks (the two-key advisory locks, apart from the one-key ones). */
const ROW_LOCK_SPACE = 0x7e1e

/** The rows one delivery may write: its event's unique key, then its mirror rows. */
export function lockKeysOf(item: StoreItem): string[] {
  const p = item.prepared
  const keys = [`events:${item.endpoint.id}:${p.dedupeKey}`]
  if (p.decoded.ok && p.flag === null) keys.push(...projectionKeys(p.decoded.event, p.projectId))
  return keys
}

/**
 * Takes transaction-scoped advisory locks on `keys`, in ascending order of their hashes, before
 * any row is written. Two transactions that write the same rows (a batch holding M1 then M2,
 * another M2 then M1; a batch and a single delivery) would otherwise wait on each other's row
 * locks until PostgreSQL declares a deadlock (after `deadlock_timeout`, 1 s) and one batch is
 * rolled back and retried delivery by delivery. With every writer locking in one order, the later
 * one waits before it holds anything. A hash collision only makes two unrelated writers wait for
 * each other: sorted by the hash itself, it cannot make a cycle.
 */
export async function lockRows(tx: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  const list = sql.join(
    keys.map((k) => sql`${k}`),
    sql`, `,
  )
  // One statement; unnest walks the sorted array in order, so the locks are taken in that order.
  await tx.execute(
    sql`select pg_advisory_xact_lock(${ROW_LOCK_SPACE}, h) from unnest((
          select array_agg(distinct hashtext(k) order by hashtext(k)) from unnest(array[${list}]::text[]) k
        )) h`,
  )
}

/**
 * Stores one delivery in its own transaction; `lock` (PostgreSQL) first takes its rows' locks in
 * the order every writer uses (see `lockRows`).
 */
export function storeAlone(
  db: Db,
  item: StoreItem,
  asyncHandlers: ReadonlySet<string>,
  lock = false,
): Promise<Stored> {
  return db.transaction(async (txn) => {
    const tx = txn as unknown as Db
    if (lock) await lockRows(tx, lockKeysOf(item))
    return storeInTx(tx, item, asyncHandlers)
  })
}

/**
 * Stores deliveries in one transaction, all or none: the rows' locks first, in one sorted order
 * (see `lockRows`), then every delivery's statements issued together (pipelined). Throws the first
 * failure after every statement has settled; the transaction is then rolled back.
 */
export function storeBatch(
  db: Db,
  items: readonly StoreItem[],
  asyncHandlers: ReadonlySet<string>,
  lock = false,
): Promise<Stored[]> {
  return db.transaction(async (txn) => {
    const tx = txn as unknown as Db
    if (lock) await lockRows(tx, items.flatMap(lockKeysOf))
    // allSettled, not all: every statement must have settled before the rollback is sent.
    const outcomes = await Promise.allSettled(
      items.map((item) => storeInTx(tx, item, asyncHandlers)),
    )
    const failed = outcomes.find((o) => o.status === 'rejected')
    if (failed) throw failed.reason
    return outcomes.map((o) => (o as PromiseFulfilledResult<Stored>).value)
  })
}

export interface BatchOptions {
  /** Most deliveries in one transaction (default 16). */
  maxSize?: number
  /** Batch transactions in flight at once (default 6; the pool must have more connections). */
  maxInflight?: number
}

/** Counters of a batcher, for metrics and tests. */
export interface BatchStats {
  /** Transactions of two or more deliveries that committed. */
  batches: number
  /** Batches rolled back and retried delivery by delivery (a bad row, a deadlock, a lost connection). */
  retried: number
}

interface Pending {
  item: StoreItem
  resolve(stored: Stored): void
  reject(error: unknown): void
}

/**
 * Group commit: deliveries that arrive while a transaction is in flight are written together in
 * the next one. Their statements are issued together, so postgres.js pipelines them on the
 * transaction's connection: a batch costs about the round trips of one delivery, not of all of
 * them (each under its own savepoint, one after the other, made a batch of 46 take 250 ms and
 * gave the uneven tail). Nothing waits for a timer: under light load every delivery gets its own
 * transaction at once; under load the commits (and their fsyncs) are shared. If any delivery of a
 * batch fails, the batch rolls back and each is retried alone before its error is reported — a
 * delivery is never answered as stored unless its own transaction (or its batch's) committed.
 */
export function createBatcher(
  db: Db,
  asyncHandlers: ReadonlySet<string>,
  opts: Required<BatchOptions> & { lock?: boolean },
): ((item: StoreItem) => Promise<Stored>) & { stats: BatchStats } {
  const queue: Pending[] = []
  let inflight = 0
  const lock = opts.lock ?? true
  const stats: BatchStats = { batches: 0, retried: 0 }

  const settleAlone = (p: Pending) =>
    storeAlone(db, p.item, asyncHandlers, lock).then(p.resolve, p.reject)

  async function run(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      await settleAlone(batch[0] as Pending)
      return
    }
    let stored: Stored[]
    try {
      stored = await storeBatch(
        db,
        batch.map((p) => p.item),
        asyncHandlers,
        lock,
      )
    } catch {
      // A bad row, a lost connection…: one by one.
      stats.retried++
      await Promise.all(batch.map(settleAlone))
      return
    }
    stats.batches++
    batch.forEach((p, i) => {
      p.resolve(stored[i] as Stored)
    })
  }

  function pump(): void {
    while (inflight < opts.maxInflight && queue.length > 0) {
      // Spread the waiting deliveries over the transaction slots rather than giving one slot all
      // of them: a batch runs on one connection, serially on the server.
      const batch = queue.splice(
        0,
        Math.min(opts.maxSize, Math.ceil(queue.length / opts.maxInflight)),
      )
      inflight++
      void run(batch).finally(() => {
        inflight--
        pump()
      })
    }
  }

  const store = (item: StoreItem) =>
    new Promise<Stored>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      pump()
    })
  return Object.assign(store, { stats })
}
