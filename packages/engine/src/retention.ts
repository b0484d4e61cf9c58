/**
 * @module Retention: stored events older than a configured age are deleted, in small batches, so
 * the events table does not grow for ever. Off unless an age is given. Only `events` is pruned
 * (with the finished jobs of the events it deletes); the mirror — messages, their status history,
 * contacts, broadcasts — is kept whatever its age.
 */
import { type Database, queryRows } from '@telehook/db'
import { sql } from 'drizzle-orm'
import { errorMessage, type Logger, silentLogger } from './logger'

export interface RetentionOptions {
  database: Database
  /** Events received longer ago than this are deleted. */
  maxAgeMs: number
  /** Events deleted per statement (default 1000): each batch is its own short transaction. */
  batchSize?: number
  /** Pause between two batches (default 20 ms), so ingestion is never queued behind a round. */
  pauseMs?: number
  /** Time between two rounds (default one hour); the first round runs at start. */
  intervalMs?: number
  logger?: Logger
}

/** A running pruner. */
export interface Retention {
  start(): void
  /** Stops after the batch in flight; resolves once it is done. */
  stop(): Promise<void>
  /** One round now: batches until none is left; resolves to the number of events deleted. */
  runOnce(): Promise<number>
}

/**
 * Deletes one batch of events received before `cutoff` and returns how many. Events that still
 * have a queued, running or dead (dead-lettered, kept for inspection and replay) job are kept;
 * the done jobs of the deleted events go with them. Rows locked by another pruner are skipped,
 * so instances sharing a database never wait for each other.
 * @example const n = await pruneEventsBatch(database, new Date(Date.now() - 30 * 86_400_000), 1000)
 */
export async function pruneEventsBatch(
  database: Pick<Database, 'db'>,
  cutoff: Date,
  batchSize: number,
): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    database.db,
    sql`with doomed as (
          select e.id from telehook.events e
          where e.received_at < ${cutoff.toISOString()}::timestamptz
            and not exists (
              select 1 from telehook.jobs j
              where j.event_id = e.id and j.status <> 'done'
            )
          limit ${batchSize}
          for update of e skip locked
        ),
        finished_jobs as (
          delete from telehook.jobs j using doomed where j.event_id = doomed.id
        ),
        deleted as (
          delete from telehook.events e using doomed where e.id = doomed.id returning 1
        )
        select count(*)::int as n from deleted`,
  )
  return rows[0]?.n ?? 0
}

/**
 * A pruner that deletes events older than `maxAgeMs`, a round at start and then every
 * `intervalMs`, in batches of `batchSize` with a pause between them. Logs one line per round that
 * deleted anything.
 * @example
 * const retention = createRetention({ database, maxAgeMs: 30 * 86_400_000, logger })
 * retention.start() // … await retention.stop()
 */
export function createRetention(opts: RetentionOptions): Retention {
  const { database, maxAgeMs } = opts
  const batchSize = Math.max(1, opts.batchSize ?? 1000)
  const pauseMs = opts.pauseMs ?? 20
  const intervalMs = opts.intervalMs ?? 3_600_000
  const logger = opts.logger ?? silentLogger
  let started = false
  let stopping = false
  let timer: ReturnType<typeof setTimeout> | null = null
  let round: Promise<number> | null = null

  async function runOnce(): Promise<number> {
    const cutoff = new Date(Date.now() - maxAgeMs)
    const began = performance.now()
    let total = 0
    for (;;) {
      const n = await pruneEventsBatch(database, cutoff, batchSize)
      total += n
      if (n < batchSize || stopping) break
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
    if (total > 0) {
      logger.info({
        msg: 'retention: old events deleted',
        deleted: total,
        older_than: cutoff.toISOString(),
        ms: Math.round(performance.now() - began),
      })
    }
    return total
  }

  function schedule(delayMs: number) {
    timer = setTimeout(() => {
      timer = null
      round = runOnce()
        .catch((error: unknown) => {
          logger.warn({ msg: 'retention: round failed', error: errorMessage(error) })
          return 0
        })
        .finally(() => {
          round = null
          if (!stopping) schedule(intervalMs)
        })
    }, delayMs)
  }

  return {
    start() {
      if (started) return
      started = true
      schedule(0)
    },
    async stop() {
      stopping = true
      if (timer) clearTimeout(timer)
      timer = null
      await round
    },
    runOnce,
  }
}
