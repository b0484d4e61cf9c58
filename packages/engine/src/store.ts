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
  /** Most deliveries in one transaction (default 16). */
  maxSize?: number
  /** Batch transactions in flight at once (default 6; the pool must have more connections). */
  maxInflight?: number
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
    let stored: Stored[]
    try {
      stored = await db.transaction(async (txn) => {
        const tx = txn as unknown as Db
        // allSettled, not all: every statement must have settled before the rollback is sent.
        const outcomes = await Promise.allSettled(
          batch.map((p) => storeInTx(tx, p.item, asyncHandlers)),
        )
        const failed = outcomes.find((o) => o.status === 'rejected')
        if (failed) throw failed.reason
        return outcomes.map((o) => (o as PromiseFulfilledResult<Stored>).value)
      })
    } catch {
      // A bad row, a deadlock with another batch, a lost connection…: one by one.
      await Promise.all(batch.map(settleAlone))
      return
    }
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

  return (item) =>
    new Promise<Stored>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      pump()
    })
}
