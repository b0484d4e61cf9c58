import { type Db, events, jobs } from '@telehook/db'
import type { TelerivetEvent, WebhookReply } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import type { Endpoint } from './endpoints'
import type { Prepared } from './ingest'
import { applyProjections } from './projections'

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
  if (row.inserted && p.decoded.ok) {
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

/** Stores one delivery in its own transaction. */
export function storeAlone(
  db: Db,
  item: StoreItem,
  asyncHandlers: ReadonlySet<string>,
): Promise<Stored> {
  return db.transaction((tx) => storeInTx(tx as unknown as Db, item, asyncHandlers))
}

export interface BatchOptions {
  /** Most deliveries in one transaction (default 64). */
  maxSize?: number
  /** Batch transactions in flight at once (default 4). */
  maxInflight?: number
}

interface Pending {
  item: StoreItem
  resolve(stored: Stored): void
  reject(error: unknown): void
}

/**
 * Group commit: deliveries that arrive while a transaction is in flight are written together in
 * the next one, each under its own savepoint so a bad row cannot sink the others. Nothing waits
 * for a timer: under light load every delivery gets its own transaction at once; under load the
 * commits (and their fsyncs) are shared. A delivery whose savepoint failed, or whose batch could
 * not commit, is retried alone before its error is reported — it is never answered as stored
 * unless its own transaction (or its batch's) committed.
 */
export function createBatcher(
  db: Db,
  asyncHandlers: ReadonlySet<string>,
  opts: Required<BatchOptions>,
): (item: StoreItem) => Promise<Stored> {
  const queue: Pending[] = []
  let inflight = 0

  const settleAlone = (p: Pending) =>
    storeAlone(db, p.item, asyncHandlers).then(p.resolve, p.reject)

  async function run(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      await settleAlone(batch[0] as Pending)
      return
    }
    const outcomes: ({ ok: Stored } | { error: unknown })[] = []
    try {
      await db.transaction(async (txn) => {
        const tx = txn as unknown as Db
        for (const p of batch) {
          try {
            const stored = await tx.transaction((sp) =>
              storeInTx(sp as unknown as Db, p.item, asyncHandlers),
            )
            outcomes.push({ ok: stored })
          } catch (error) {
            outcomes.push({ error })
          }
        }
      })
    } catch {
      // The batch did not commit (deadlock with another batch, lost connection…): one by one.
      await Promise.all(batch.map(settleAlone))
      return
    }
    await Promise.all(
      batch.map((p, i) => {
        const o = outcomes[i]
        if (o && 'ok' in o) {
          p.resolve(o.ok)
          return undefined
        }
        return settleAlone(p)
      }),
    )
  }

  function pump(): void {
    while (inflight < opts.maxInflight && queue.length > 0) {
      const batch = queue.splice(0, opts.maxSize)
      inflight++
      void run(batch).finally(() => {
        inflight--
        pump()
      })
    }
  }

  return (item) =>
    new Promise<Stored>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      pump()
    })
}
