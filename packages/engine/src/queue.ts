import { type Database, type Db, events, jobs, messageStatusHistory, queryRows } from '@telehook/db'
import {
  decodeEvent,
  type FormObject,
  type Handlers,
  type TelerivetEvent,
} from '@telehook/protocol'
import { and, eq, sql } from 'drizzle-orm'
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core'
import { createClaimReleaser, newClaimToken } from './claim'
import { enqueueForwards } from './forward/enqueue'
import { asyncHandlerTypes } from './ingest'
import { errorMessage, type Logger, silentLogger } from './logger'
import { applyProjections, projectionKeys } from './projections'
import { createSettleRetries, settlesBy } from './settle'
import { stopBudget } from './stop'
import { enqueueJobs, JOBS_CHANNEL, lockRows } from './store'

export interface WorkerOptions {
  database: Database
  handlers?: Handlers
  /** Jobs run at once by this worker (default 4). */
  concurrency?: number
  /** Polling interval besides LISTEN/NOTIFY wake-ups (default 1000 ms). */
  pollMs?: number
  logger?: Logger
  /**
   * How long a claimed job may run (default 5 min). Its signal aborts then and the job counts as
   * failed; a worker that died holding it loses it to another worker after this time. A claim
   * whose answer was lost (the connection cut after the commit) is given back by this worker at
   * once instead, or as soon as the database takes it.
   */
  leaseMs?: number
  /** Delay before retry number `attempt` (1-based); default 1 s doubling up to 1 h, +0–25 % jitter. */
  backoffMs?: (attempt: number) => number
  /**
   * How long stop() lets running jobs finish (default 4500 ms: {@link stopBudget} of the default
   * 8 s stop). Then their signals abort and they go back to the queue, due at once and without
   * counting the attempt, for this or another worker.
   */
  stopGraceMs?: number
  /**
   * How long stop(), once its jobs ended or were interrupted, keeps writing what gives jobs back
   * when the database does not take it at first (default 1500 ms): the requeues of interrupted
   * jobs, outcomes still being written again, the release of a failed claim. They are tried at
   * once, then every `settleRetryMs`; past this time stop() returns anyway, with a warn line
   * naming the jobs left to their leases (`leaseMs`).
   */
  stopSettleMs?: number
  /**
   * First delay before writing a job's outcome again when the database could not take it (an
   * outage), and before giving back again the jobs of a failed claim; doubles up to 30 s, and
   * stops when the lease is over (default 1000 ms).
   */
  settleRetryMs?: number
}

export interface Worker {
  /** Starts the loop: LISTEN on `telehook_jobs` plus polling. */
  start(): void
  /**
   * Stops claiming, waits for running jobs (at most `stopGraceMs`, then they are interrupted and
   * requeued), keeps writing what the database did not take at first (at most `stopSettleMs`),
   * and unlistens. Never waits longer, even if the database stays down.
   */
  stop(): Promise<void>
  /** Claims and runs the due jobs once (up to `concurrency`); returns how many ran. */
  runOnce(): Promise<number>
  /** After start(): resolves true once LISTEN is registered, false when only polling works. */
  whenListening(): Promise<boolean>
}

/** The default retry delay: 1 s, 2 s, 4 s … capped at one hour, with 0–25 % jitter. */
export function defaultBackoffMs(attempt: number): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempt - 1))
  return Math.round(base * (1 + Math.random() * 0.25))
}

/** The defaults fit the default whole stop of an entry point (see stopBudget). */
const DEFAULT_STOP = stopBudget()

/** The abort reason of a job interrupted because its worker stops: requeued, not failed. */
class WorkerStopping extends Error {
  override name = 'WorkerStopping'
}

interface ClaimedJob {
  id: number
  event_id: string
  handler: string
  attempts: number
  max_attempts: number
}

/**
 * Creates a worker that runs async handlers from `telehook.jobs`. Due jobs are claimed with
 * `FOR UPDATE SKIP LOCKED`, so any number of workers (in any number of processes) share the queue.
 * A failed job is retried with exponential backoff until `max_attempts`, then marked `dead` with
 * its `last_error`. A worker claims only jobs whose handler it has.
 * @example const worker = createWorker({ database, handlers }); worker.start()
 */
export function createWorker(opts: WorkerOptions): Worker {
  const { database } = opts
  const logger = opts.logger ?? silentLogger
  const concurrency = Math.max(1, opts.concurrency ?? 4)
  const pollMs = opts.pollMs ?? 1000
  const leaseMs = opts.leaseMs ?? 300_000
  const backoff = opts.backoffMs ?? defaultBackoffMs
  const stopGraceMs = opts.stopGraceMs ?? DEFAULT_STOP.stopGraceMs
  const stopSettleMs = Math.max(0, opts.stopSettleMs ?? DEFAULT_STOP.stopSettleMs)
  const settleRetryMs = Math.max(1, opts.settleRetryMs ?? 1000)
  /** Outcomes being written again after a failure (tried until stop()'s deadline). */
  const retries = createSettleRetries({ retryMs: settleRetryMs, logger })
  /** Jobs claimed whose outcome is neither written nor handed to `retries` yet. */
  const unsettled = new Set<number>()
  const types = [...asyncHandlerTypes(opts.handlers)]
  /** The signals of the jobs running now, to interrupt them when a stop outlasts its grace. */
  const inFlight = new Set<AbortController>()
  /** Set once a stop outlasted its grace: a job that starts after it is given back, not run. */
  let interrupting: WorkerStopping | null = null
  // A failed claim may have committed: its jobs go back to the queue, uncounted and due as before.
  const releaser = createClaimReleaser({
    logger,
    retryMs: settleRetryMs,
    what: 'jobs',
    release: async (tokens) =>
      (
        await queryRows<{ id: number }>(
          database.db,
          sql`update telehook.jobs set status = 'queued', attempts = greatest(attempts - 1, 0),
                locked_until = null, updated_at = now()
              where status = 'running' and claim_token in ${tokens}
              returning id::int as id`,
        )
      ).length,
  })

  let running = false
  let loop: Promise<void> | null = null
  let waiter: (() => void) | null = null
  // A NOTIFY that arrives while a round is running must not be lost: it triggers the next round.
  let pending = false
  const wake = () => {
    if (waiter) waiter()
    else pending = true
  }
  let unlisten: (() => Promise<void>) | null = null
  let listening: Promise<boolean> = Promise.resolve(false)

  async function claim(limit: number): Promise<ClaimedJob[]> {
    if (types.length === 0) return []
    const handlerList = sql.join(
      types.map((t) => sql`${t}`),
      sql`, `,
    )
    const token = newClaimToken()
    const leaseOver = Date.now() + leaseMs
    let claimed: ClaimedJob[]
    try {
      claimed = await queryRows<ClaimedJob>(
        database.db,
        sql`update telehook.jobs set status = 'running', attempts = attempts + 1,
              locked_until = now() + ${`${leaseMs} milliseconds`}::interval,
              claim_token = ${token}, updated_at = now()
            where id in (
              select id from telehook.jobs
              where handler in (${handlerList})
                and ((status = 'queued' and run_at <= now())
                  or (status = 'running' and locked_until < now()))
              order by run_at, id
              limit ${limit}
              for update skip locked)
            returning id::int as id, event_id, handler, attempts, max_attempts`,
      )
    } catch (error) {
      // Committed or not, the worker cannot tell: what this token took, if anything, goes back.
      await releaser.release(token, leaseOver)
      throw error
    }
    releaser.nudge()
    return claimed
  }

  /**
   * Writes a job's outcome, only over this worker's own claim (still `running`, same attempt).
   * When the database cannot take it (an outage), it is written again in the background, 1 s
   * doubling up to 30 s, until it is or the lease is over: a job that ran during a short outage
   * is settled when the database is back instead of waiting out its lease (5 min) to run again.
   */
  async function settle(
    job: ClaimedJob,
    claimedAt: number,
    what: string,
    set: PgUpdateSetSource<typeof jobs>,
  ): Promise<void> {
    const write = () =>
      database.db
        .update(jobs)
        .set(set)
        .where(
          and(eq(jobs.id, job.id), eq(jobs.status, 'running'), eq(jobs.attempts, job.attempts)),
        )
    try {
      await write()
    } catch (error) {
      retries.retry({ write, what, job: job.id, leaseOver: claimedAt + leaseMs, error })
    }
  }

  async function runJob(job: ClaimedJob): Promise<void> {
    const claimedAt = Date.now()
    const fn = opts.handlers?.async?.[job.handler as TelerivetEvent['event']] as
      | ((e: TelerivetEvent, ctx: unknown) => unknown)
      | undefined
    const controller = new AbortController()
    inFlight.add(controller)
    // Claimed while a stop outlasted its grace (the claim was in flight): given back unrun.
    if (interrupting) controller.abort(interrupting)
    // Made now, not once the event row is read: an abort during that read must not be missed.
    const aborted = new Promise<never>((_, reject) => {
      const stop = () => reject(controller.signal.reason)
      if (controller.signal.aborted) stop()
      else controller.signal.addEventListener('abort', stop, { once: true })
    })
    aborted.catch(() => {})
    const timer = setTimeout(
      () => controller.abort(new Error(`job exceeded its ${leaseMs} ms lease`)),
      leaseMs,
    )
    const started = performance.now()
    try {
      const [row] = await database.db
        .select({ payload: events.payload, endpointId: events.endpointId, valid: events.valid })
        .from(events)
        .where(eq(events.id, job.event_id))
      if (!row) throw new Error(`event ${job.event_id} not found`)
      if (!fn) throw new Error(`no async handler for ${job.handler}`)
      const ctx = {
        eventId: job.event_id,
        endpointId: row.endpointId,
        attempt: job.attempts,
        signal: controller.signal,
      }
      controller.signal.throwIfAborted()
      await Promise.race([
        Promise.resolve().then(() => fn(row.payload as unknown as TelerivetEvent, ctx)),
        aborted,
      ])
    } catch (error) {
      await failed(job, claimedAt, error)
      return
    } finally {
      clearTimeout(timer)
      inFlight.delete(controller)
    }
    // The handler ran: its outcome is written (again, if need be), never the job run twice for a
    // database that failed after it.
    await settle(job, claimedAt, 'job done', { status: 'done', lockedUntil: null, lastError: null })
    logger.info({
      msg: 'job done',
      job: job.id,
      handler: job.handler,
      event_id: job.event_id,
      attempt: job.attempts,
      duration_ms: Math.round(performance.now() - started),
    })
  }

  /** Records a job that failed (or was interrupted by stop()), retrying the write if need be. */
  async function failed(job: ClaimedJob, claimedAt: number, error: unknown): Promise<void> {
    if (error instanceof WorkerStopping) {
      await settle(job, claimedAt, 'job requeue', {
        status: 'queued',
        attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
        runAt: new Date(),
        lockedUntil: null,
      })
      logger.warn({ msg: 'job interrupted by stop, requeued', job: job.id, handler: job.handler })
      return
    }
    const message = errorMessage(error)
    const dead = job.attempts >= job.max_attempts
    const runAt = new Date(Date.now() + (dead ? 0 : backoff(job.attempts)))
    await settle(job, claimedAt, 'job failure', {
      status: dead ? 'dead' : 'queued',
      runAt,
      lockedUntil: null,
      lastError: message.slice(0, 4000),
    })
    ;(dead ? logger.error : logger.warn)({
      msg: dead ? 'job dead' : 'job failed, will retry',
      job: job.id,
      handler: job.handler,
      event_id: job.event_id,
      attempt: job.attempts,
      error: message,
      ...(dead ? {} : { retry_at: runAt.toISOString() }),
    })
  }

  async function runOnce(): Promise<number> {
    const claimed = await claim(concurrency)
    await Promise.all(
      claimed.map(async (job) => {
        unsettled.add(job.id)
        try {
          await runJob(job)
        } finally {
          unsettled.delete(job.id)
        }
      }),
    )
    return claimed.length
  }

  async function run(): Promise<void> {
    while (running) {
      let ran = 0
      try {
        ran = await runOnce()
      } catch (error) {
        logger.error({ msg: 'worker could not claim jobs', error: errorMessage(error) })
      }
      if (ran > 0 || !running) continue
      if (pending) {
        pending = false
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs)
        function done() {
          clearTimeout(timer)
          waiter = null
          resolve()
        }
        waiter = done
      })
    }
  }

  return {
    start() {
      if (running) return
      running = true
      interrupting = null
      loop = run()
      if (database.listen && types.length > 0) {
        listening = database
          // onListen: jobs notified while the LISTEN was down (a database restart) are looked for
          // as soon as it is back, not at the next poll.
          .listen(JOBS_CHANNEL, wake, wake)
          .then(async (u) => {
            if (!running) {
              await u()
              return false
            }
            unlisten = u
            // Jobs enqueued before LISTEN took effect sent their NOTIFY to nobody: look now.
            wake()
            return true
          })
          .catch((error) => {
            logger.warn({ msg: 'LISTEN failed; polling only', error: errorMessage(error) })
            return false
          })
      }
    },
    async stop() {
      running = false
      wake()
      const done = loop
      let graceTimer: ReturnType<typeof setTimeout> | undefined
      const graceOver = new Promise<boolean>((resolve) => {
        graceTimer = setTimeout(() => resolve(true), stopGraceMs)
      })
      const outlasted = await Promise.race([done?.then(() => false), graceOver])
      clearTimeout(graceTimer)
      if (outlasted) {
        interrupting = new WorkerStopping('the worker is stopping')
        for (const c of inFlight) c.abort(interrupting)
      }
      // The requeues of the jobs just interrupted, and the writes still being retried, are what
      // gives these jobs back: dropped, they would wait out their leases. Bounded all the same.
      const deadline = Date.now() + stopSettleMs
      await settlesBy(done, deadline)
      loop = null
      const [notWritten] = await Promise.all([retries.stop(deadline), releaser.stop(deadline)])
      const left = [...new Set([...unsettled, ...notWritten])]
      if (left.length > 0) {
        logger.warn({
          msg: 'stopped with jobs not given back: the database did not take their writes in time; their leases hand them on',
          jobs: left,
          lease_ms: leaseMs,
        })
      }
      const u = unlisten
      unlisten = null
      await settlesBy(
        u?.().catch(() => {}),
        Math.max(deadline, Date.now() + 1000),
      )
    },
    runOnce,
    whenListening: () => listening,
  }
}

/**
 * Applies a stored event again: projections (idempotent upserts; the status history row is added
 * only if missing) and a fresh job for its async handler. An event stored as invalid is decoded
 * again first, so events that failed under an older schema can be recovered.
 * Without `handlers`, a job is enqueued for the event type whatever handlers workers have.
 */
/** `replayEvent` was given the id of no stored event. */
export class EventNotFoundError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} not found`)
    this.name = 'EventNotFoundError'
  }
}

export async function replayEvent(
  database: Pick<Database, 'db'>,
  eventId: string,
  handlers?: Handlers,
): Promise<{ jobs: number; applied: boolean }> {
  return database.db.transaction(async (txn) => {
    const tx = txn as unknown as Db
    // The rows a replay writes are locked in the order ingest transactions use (see lockRows),
    // before the event row itself, which a batch holding those locks may be updating.
    const [peek] = await tx
      .select({
        endpointId: events.endpointId,
        dedupeKey: events.dedupeKey,
        payload: events.payload,
        valid: events.valid,
        projectId: events.projectId,
        flag: events.flag,
      })
      .from(events)
      .where(eq(events.id, eventId))
    if (!peek) throw new EventNotFoundError(eventId)
    // An event kept out of the mirror (another project's payload) stays out of it.
    if (peek.flag !== null) return { jobs: 0, applied: false }
    const decodedPeek = peek.valid ? null : decodeEvent(peek.payload as unknown as FormObject)
    const peeked = peek.valid
      ? (peek.payload as unknown as TelerivetEvent)
      : decodedPeek?.ok
        ? decodedPeek.event
        : null
    await lockRows(tx, [
      `events:${peek.endpointId}:${peek.dedupeKey}`,
      ...(peeked ? projectionKeys(peeked, peek.projectId) : []),
    ])
    const [row] = await tx.select().from(events).where(eq(events.id, eventId)).for('update')
    if (!row) throw new EventNotFoundError(eventId)
    let event: TelerivetEvent
    if (row.valid) {
      event = row.payload as unknown as TelerivetEvent
    } else {
      const decoded = decodeEvent(row.payload as unknown as FormObject)
      if (!decoded.ok) return { jobs: 0, applied: false }
      event = decoded.event
      await tx
        .update(events)
        .set({
          valid: true,
          event: event.event,
          payload: JSON.parse(JSON.stringify(event)) as Record<string, unknown>,
          errors: null,
        })
        .where(eq(events.id, eventId))
    }
    const history = await tx
      .select({ id: messageStatusHistory.id })
      .from(messageStatusHistory)
      .where(eq(messageStatusHistory.eventId, eventId))
      .limit(1)
    await applyProjections(tx, event, eventId, row.projectId, { history: history.length === 0 })
    const types = handlers ? asyncHandlerTypes(handlers) : new Set([event.event])
    const jobs = await enqueueJobs(tx, eventId, event, types)
    // Destinations that never got the event (it failed to decode until now, or they are new)
    // get it; those that did are not sent it again.
    await enqueueForwards(tx, [
      { id: eventId, endpointId: row.endpointId, projectId: row.projectId, event: event.event },
    ])
    return { jobs, applied: true }
  })
}
