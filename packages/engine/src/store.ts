import { type Db, jobs, nativeClient } from '@telehook/db'
import type { TelerivetEvent, WebhookReply } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import type { ResultRow } from './batch'
import { BATCH_SQL, batchResults, JOBS_CHANNEL, lockRowsSql, planBatch, writeWaves } from './batch'
import type { Endpoint } from './endpoints'
import type { Prepared } from './ingest'

export { JOBS_CHANNEL, lockKeysOf } from './batch'

/**
 * One job to enqueue for a newly stored event (a row of `jobs`, its event id added by the
 * statement). More kinds (e.g. one per forwarding destination) are more rows.
 */
export interface JobRow {
  handler: string
}

/** One delivery ready to be written. */
export interface StoreItem {
  endpoint: Endpoint
  prepared: Prepared
  reply: WebhookReply | null
  handlerError: string | null
  /**
   * The jobs to enqueue if this delivery is new (valid and of its endpoint's project); when
   * absent, the async handler of its type, if the store was given one.
   */
  jobs?: readonly JobRow[]
}

/** What the database decided for one delivery. */
export interface Stored {
  id: string
  /** The stored reply, read back from jsonb: the same bytes for every copy of the delivery. */
  reply: WebhookReply | null
  inserted: boolean
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
  // The batch statement's lock query, with the keys as one bound parameter.
  const [before, after] = lockRowsSql('\u0000').split('\u0000') as [string, string]
  await tx.execute(sql`${sql.raw(before)}${JSON.stringify(keys)}${sql.raw(after)}`)
}

/**
 * Stores one delivery in its own transaction (see `storeBatch`).
 */
export function storeAlone(
  db: Db,
  item: StoreItem,
  asyncHandlers: ReadonlySet<string>,
  lock = false,
): Promise<Stored> {
  return storeBatch(db, [item], asyncHandlers, lock).then((r) => r[0] as Stored)
}

/**
 * Stores deliveries all or none, with the hot path's prepared statement (`BATCH_SQL`): with
 * `lock` (PostgreSQL) it first takes the rows' locks in the one order every writer uses. The
 * usual batch (no message or contact written twice) is one statement sent alone, its own
 * transaction: one round trip, no BEGIN or COMMIT. A batch of several waves runs them in one
 * transaction. Copies of one delivery in the batch share one event row and one answer.
 */
export async function storeBatch(
  db: Db,
  items: readonly StoreItem[],
  asyncHandlers: ReadonlySet<string>,
  lock = false,
): Promise<Stored[]> {
  const native = nativeClient(db)
  const plan = planBatch(items, asyncHandlers, lock)
  const rows =
    plan.params.length === 1
      ? await native.query<ResultRow>(BATCH_SQL, plan.params[0] as string[])
      : await native.transaction((query) => writeWaves(query, plan))
  return batchResults(plan, items, rows)
}

export interface BatchOptions {
  /** Most deliveries in one transaction (default in `createEngine`: 64). */
  maxSize?: number
  /**
   * Batch transactions in flight at once (default in `createEngine`: 2 on PostgreSQL, 1 on PGlite;
   * the pool must have more connections).
   */
  maxInflight?: number
  /**
   * Longest wait of a delivery that finds a transaction slot free while others are on their way
   * (announced, not arrived yet), so that they share its transaction (see `createBatcher`). 0
   * sends at once. Default in `createEngine`.
   */
  gatherMs?: number
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

/** A delivery announced to the batcher: it will be stored, or dropped if it never gets there. */
export interface Arrival {
  /** Stores the delivery (as the batcher's `store`) and ends the announcement. */
  store(item: StoreItem): Promise<Stored>
  /** Ends the announcement without storing (the delivery failed on its way); idempotent. */
  drop(): void
}

/** The batcher: `store` a delivery; `announce` one still on its way (see `createBatcher`). */
export interface Batcher {
  (item: StoreItem): Promise<Stored>
  announce(): Arrival
  stats: BatchStats
}

/**
 * Group commit: deliveries that arrive while a transaction is in flight are written together in
 * the next one, one statement per batch (see `storeBatch`). Under light load every delivery gets
 * its own transaction at once; under load the commits (and their fsyncs) are shared. If any
 * delivery of a batch fails, the batch rolls back and each is retried alone before its error is
 * reported — a delivery is never answered as stored unless its own transaction (or its batch's)
 * committed.
 *
 * Gathering: deliveries are announced when they enter the engine (`announce`), before the stored
 * check and the handler. One that arrives at a free slot while others are announced and not yet
 * here waits for them, at most `gatherMs`; with none on the way it goes at once. Without it, the
 * first deliveries of a wave (the clients answered by one commit come back together) each took the
 * free slot alone, and the rest of the wave queued behind that small batch: half the batches of a
 * 50-connection run were of 1 to 4 deliveries, each paying a whole statement (~1 ms of
 * PostgreSQL's time). Like PostgreSQL's `commit_delay`, which waits only when `commit_siblings`
 * transactions are active.
 */
export function createBatcher(
  db: Db,
  asyncHandlers: ReadonlySet<string>,
  opts: Required<BatchOptions> & { lock?: boolean },
): Batcher {
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
      // Spread the waiting deliveries over the free transaction slots (a batch runs on one
      // connection, serially on the server); the only free slot takes them all, rather than half
      // of them with the rest left waiting for it to free again.
      const batch = queue.splice(
        0,
        Math.min(opts.maxSize, Math.ceil(queue.length / (opts.maxInflight - inflight))),
      )
      inflight++
      void run(batch).finally(() => {
        inflight--
        pump()
      })
    }
  }

  /** Deliveries announced and not yet stored or dropped. */
  let onTheWay = 0
  let gathering: ReturnType<typeof setTimeout> | null = null
  const send = () => {
    if (gathering) clearTimeout(gathering)
    gathering = null
    pump()
  }

  const store = (item: StoreItem) =>
    new Promise<Stored>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      // A busy slot takes the queue when it frees; a free one waits only for announced deliveries.
      if (inflight >= opts.maxInflight || onTheWay === 0 || queue.length >= opts.maxSize) send()
      else gathering ??= setTimeout(send, opts.gatherMs)
    })

  const announce = (): Arrival => {
    let open = opts.gatherMs > 0
    if (open) onTheWay++
    const end = () => {
      if (!open) return
      open = false
      onTheWay--
      // The last one on the way has arrived (or given up): the gathered batch need not wait.
      if (onTheWay === 0 && gathering) send()
    }
    return {
      store(item) {
        // Counted off before it is queued, so that the last arrival sends the batch itself.
        if (open) {
          open = false
          onTheWay--
        }
        return store(item)
      },
      drop: end,
    }
  }
  return Object.assign(store, { stats, announce })
}
