/** @module `Idempotency-Key` support: the first successful answer is stored and replayed. */
import { type Database, idempotencyKeys } from '@telehook/db'
import { sha256Hex } from '@telehook/protocol'
import { and, eq, lt } from 'drizzle-orm'
import { ApiError } from './errors'

/** Status stored while the first request with a key is still running. */
const IN_PROGRESS = 0

/**
 * A request still marked running after this long died with its process (a createService call
 * and the look-up after a lost answer end well within it): a retry with its key takes it over
 * instead of being refused for ever. Anything it left on Telerivet is a pending endpoint that
 * the service list reconciles.
 */
export const IDEMPOTENCY_STALE_MS = 5 * 60_000

export interface StoredAnswer {
  status: number
  body: unknown
  replayed: boolean
}

/**
 * Runs `fn` once per (scope, key). A retry with the same key and body gets the stored answer; the
 * same key with another body is a 422; a retry while the first is running is a 409 (until it
 * is {@link IDEMPOTENCY_STALE_MS} old). Only 2xx answers are kept: after a failure the same key may
 * be tried again.
 */
export async function withIdempotency(
  database: Database,
  scope: string,
  key: string | undefined,
  request: unknown,
  fn: () => Promise<{ status: number; body: unknown }>,
  staleMs = IDEMPOTENCY_STALE_MS,
): Promise<StoredAnswer> {
  if (key === undefined) return { ...(await fn()), replayed: false }
  if (key.length === 0 || key.length > 200) {
    throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-200 characters')
  }
  const requestHash = await sha256Hex(JSON.stringify(request ?? null))
  const where = and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key))
  // Only one retry can delete a given stale row, so only one takes it over.
  await database.db
    .delete(idempotencyKeys)
    .where(
      and(
        where,
        eq(idempotencyKeys.status, IN_PROGRESS),
        lt(idempotencyKeys.createdAt, new Date(Date.now() - staleMs)),
      ),
    )
  const inserted = await database.db
    .insert(idempotencyKeys)
    .values({ scope, key, requestHash, status: IN_PROGRESS, response: null })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key })
  if (inserted.length === 0) {
    const [row] = await database.db.select().from(idempotencyKeys).where(where)
    if (!row) throw new ApiError(409, 'idempotency_conflict', 'Retry the request')
    if (row.requestHash !== requestHash) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was used with a different request',
      )
    }
    if (row.status === IN_PROGRESS) {
      throw new ApiError(
        409,
        'idempotency_in_progress',
        'A request with this Idempotency-Key is still running',
      )
    }
    return { status: row.status, body: row.response, replayed: true }
  }
  try {
    const answer = await fn()
    if (answer.status >= 200 && answer.status < 300) {
      await database.db
        .update(idempotencyKeys)
        .set({ status: answer.status, response: answer.body })
        .where(where)
    } else {
      await database.db.delete(idempotencyKeys).where(where)
    }
    return { ...answer, replayed: false }
  } catch (error) {
    await database.db
      .delete(idempotencyKeys)
      .where(where)
      .catch(() => {})
    throw error
  }
}
