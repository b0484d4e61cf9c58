/**
 * The reference path: one delivery per transaction, one Drizzle statement per table, as the engine
 * wrote before the batch statement. Kept as the oracle of the differential test (and it shares
 * `applyProjections` with `replayEvent`); the hot path is `writeBatch` in batch.ts.
 */
import { type Db, events } from '@telehook/db'
import type { WebhookReply } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import { enqueueForwards } from './forward/enqueue'
import { applyProjections } from './projections'
import { enqueueJobs, type Stored, type StoreItem } from './store'

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
    await enqueueForwards(tx, [
      { id: row.id, endpointId: endpoint.id, projectId: p.projectId, event: p.decoded.event.event },
    ])
  }
  return { id: row.id, reply: (row.reply as WebhookReply | null) ?? null, inserted: row.inserted }
}

/** Stores one delivery in its own transaction through the reference path. */
export function storeReference(
  db: Db,
  item: StoreItem,
  asyncHandlers: ReadonlySet<string>,
): Promise<Stored> {
  return db.transaction((txn) => storeInTx(txn as unknown as Db, item, asyncHandlers))
}
