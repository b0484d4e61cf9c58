/** @module The forwarding worker: claims forward jobs, signs and posts them, records every attempt. */
import { type Database, queryRows } from '@telehook/db'
import { sql } from 'drizzle-orm'
import { createClaimReleaser, newClaimToken } from '../claim'
import { errorMessage, type Logger, silentLogger } from '../logger'
import { createSettleRetries, settlesBy } from '../settle'
import { stopBudget } from '../stop'
import {
  AttemptAborted,
  type AttemptResult,
  attemptDelivery,
  classify,
  defaultForwardBackoffMs,
  nextAttemptAt,
  type Outcome,
  parseRetryAfter,
} from './deliver'
import { FORWARD_CHANNEL } from './enqueue'
import { forwardBody } from './payload'
import { openSecret } from './secret'
import { signatureHeaders } from './sign'

export interface ForwarderOptions {
  database: Database
  /** The AES-GCM master key that sealed the destinations' signing secrets. */
  masterKey: CryptoKey
  /** Requests in flight from this worker at once, over all destinations (default 16). */
  concurrency?: number
  /** Bound of one attempt: connect, send, response headers and first bytes (default 15 s). */
  timeoutMs?: number
  /** Retries stop this long after the job was enqueued; the job is dead then (default 24 h). */
  maxAgeMs?: number
  /**
   * How long a claimed job belongs to this worker (default `timeoutMs` + 60 s). A worker that
   * died holding a job loses it to another worker when the lease expires. A claim whose answer
   * was lost (the connection cut after the commit) is given back by this worker at once instead,
   * or as soon as the database takes it.
   */
  leaseMs?: number
  /**
   * First delay before writing an attempt's outcome again when the database could not take it
   * (an outage), and before giving back again the jobs of a failed claim; doubles up to 30 s, and
   * stops when the lease is over (default 1000 ms).
   */
  releaseRetryMs?: number
  /** Polling interval besides LISTEN/NOTIFY wake-ups; retries come due through it (default 1 s). */
  pollMs?: number
  /** Delay before retry number `attempt` (1-based); default {@link defaultForwardBackoffMs}. */
  backoffMs?: (attempt: number) => number
  /**
   * How long stop() lets requests in flight finish before they are aborted and requeued (default
   * 4500 ms: {@link stopBudget} of the default 8 s stop).
   */
  stopGraceMs?: number
  /**
   * How long stop(), once its requests ended or were aborted, keeps writing what gives jobs back
   * when the database does not take it at first (default 1500 ms): the requeues of aborted
   * requests, outcomes still being written again, the release of a failed claim. They are tried
   * at once, then every `releaseRetryMs`; past this time stop() returns anyway, with a warn line
   * naming the jobs left to their leases (`leaseMs`).
   */
  stopSettleMs?: number
  logger?: Logger
}

export interface Forwarder {
  /** Starts forwarding: LISTEN on `telehook_forward`, polling, and a claim whenever a slot frees. */
  start(): void
  /**
   * Stops claiming; requests still in flight after `stopGraceMs` are aborted and requeued, and
   * what the database did not take at first is written again for at most `stopSettleMs`. Never
   * waits longer, even if the database stays down.
   */
  stop(): Promise<void>
  /** Claims the due jobs once (up to `concurrency`) and runs them; returns how many ran. */
  runOnce(): Promise<number>
  /** After start(): resolves true once LISTEN is registered, false when only polling works. */
  whenListening(): Promise<boolean>
}

interface ClaimedJob {
  id: number
  event_id: string
  destination_id: string
  attempts: number
  first_queued_at: Date | string
  url: string
  secret_ciphertext: string
  previous_secret_ciphertext: string | null
  previous_secret_expires_at: Date | string | null
  endpoint_id: string
  project_id: string | null
  payload: Record<string, unknown>
  received_at: Date | string
}

/** The defaults fit the default whole stop of an entry point (see stopBudget). */
const DEFAULT_STOP = stopBudget()

/** PostgreSQL text cannot hold U+0000; a response body may. */
const storable = (s: string | null, max: number) =>
  s === null ? null : s.replaceAll('\u0000', '\uFFFD').slice(0, max)

/**
 * Creates a forwarding worker. Jobs are claimed with `FOR UPDATE SKIP LOCKED`, so any number of
 * workers in any number of processes share them; a destination gets at most its `max_in_flight`
 * requests at once over all workers (checked at claim time), so one slow destination holds a
 * bounded share of the slots and the others keep flowing. Each request carries the Standard
 * Webhooks headers, `webhook-id` being the event id on every attempt.
 * @example
 * const forwarder = createForwarder({ database, masterKey }); forwarder.start()
 */
export function createForwarder(opts: ForwarderOptions): Forwarder {
  const { database, masterKey } = opts
  const logger = opts.logger ?? silentLogger
  const concurrency = Math.max(1, opts.concurrency ?? 16)
  const timeoutMs = opts.timeoutMs ?? 15_000
  const maxAgeMs = opts.maxAgeMs ?? 86_400_000
  const leaseMs = opts.leaseMs ?? timeoutMs + 60_000
  const pollMs = opts.pollMs ?? 1000
  const backoffMs = opts.backoffMs ?? defaultForwardBackoffMs
  const stopGraceMs = opts.stopGraceMs ?? DEFAULT_STOP.stopGraceMs
  const stopSettleMs = Math.max(0, opts.stopSettleMs ?? DEFAULT_STOP.stopSettleMs)
  const retryMs = opts.releaseRetryMs ?? 1000
  /** Outcomes being written again after a failure (tried until stop()'s deadline). */
  const retries = createSettleRetries({ retryMs, logger })
  // A failed claim may have committed: its jobs go back to the queue, uncounted and due as before
  // (until then they also hold their destinations' max_in_flight slots).
  const releaser = createClaimReleaser({
    logger,
    retryMs,
    what: 'forward jobs',
    release: async (tokens) =>
      (
        await queryRows<{ id: number }>(
          database.db,
          sql`update telehook.forward_jobs set status = 'queued',
                attempts = greatest(attempts - 1, 0), locked_until = null, updated_at = now()
              where status = 'running' and claim_token in ${tokens}
              returning id::int as id`,
        )
      ).length,
  })

  /**
   * The jobs running, by the signal of their request (aborted when a stop outlasts its grace);
   * `done` once the outcome is written or handed to `retries`.
   */
  const inFlight = new Map<AbortController, { job: number; done: Promise<void> }>()
  /** Set once a stop outlasted its grace: a job claimed after it is given back, not sent. */
  let interrupting: Error | null = null
  const secrets = new Map<string, string>()
  let running = false
  let filling: Promise<void> | null = null
  let fillAgain = false
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let unlisten: (() => Promise<void>) | null = null
  let listening: Promise<boolean> = Promise.resolve(false)

  async function open(sealed: string): Promise<string> {
    const known = secrets.get(sealed)
    if (known !== undefined) return known
    const plain = await openSecret(masterKey, sealed)
    if (secrets.size > 1000) secrets.clear()
    secrets.set(sealed, plain)
    return plain
  }

  async function claim(limit: number): Promise<ClaimedJob[]> {
    const token = newClaimToken()
    const leaseOver = Date.now() + leaseMs
    let claimed: ClaimedJob[]
    try {
      claimed = await claimStatement(limit, token)
    } catch (error) {
      // Committed or not, the worker cannot tell: what this token took, if anything, goes back.
      await releaser.release(token, leaseOver)
      throw error
    }
    releaser.nudge()
    return claimed
  }

  function claimStatement(limit: number, token: string): Promise<ClaimedJob[]> {
    // Per destination, at most max_in_flight minus its requests running now (any worker's) are
    // taken, due jobs and jobs whose lease expired, skipping rows other workers hold. Each branch
    // walks the (destination, status, run_at) index in order and stops at the limit: a backlog of
    // any size costs a claim the same.
    return queryRows<ClaimedJob>(
      database.db,
      sql`with cand as (
          select j.id, j.run_at from telehook.destinations d
          cross join lateral (
            select c.id, c.run_at from (
              select q.id, q.run_at from telehook.forward_jobs q
              where q.destination_id = d.id and q.status = 'queued' and q.run_at <= now()
              order by q.run_at
              limit least(${limit}, d.max_in_flight)
              for update of q skip locked
            ) c
            union all
            select x.id, x.run_at from (
              select q.id, q.run_at from telehook.forward_jobs q
              where q.destination_id = d.id and q.status = 'running' and q.locked_until < now()
              limit least(${limit}, d.max_in_flight)
              for update of q skip locked
            ) x
            order by run_at
            limit (select greatest(0, d.max_in_flight - count(*)) from telehook.forward_jobs r
                   where r.destination_id = d.id and r.status = 'running' and r.locked_until >= now())
          ) j
          where d.enabled
          order by j.run_at
          limit ${limit}
        )
        update telehook.forward_jobs f
        set status = 'running', attempts = f.attempts + 1,
          locked_until = now() + ${`${leaseMs} milliseconds`}::interval, claim_token = ${token},
          updated_at = now()
        from cand, telehook.events e, telehook.destinations d
        where f.id = cand.id and e.id = f.event_id and d.id = f.destination_id
        returning f.id::int as id, f.event_id::text as event_id, f.destination_id, f.attempts,
          f.first_queued_at, d.url, d.secret_ciphertext, d.previous_secret_ciphertext,
          d.previous_secret_expires_at, e.endpoint_id, e.project_id, e.payload, e.received_at`,
    )
  }

  interface Settlement {
    job_id: number
    destination_id: string
    event_id: string
    attempt: number
    started_at: string
    status: number | null
    outcome: Outcome
    latency_ms: number
    response_body: string | null
    error: string | null
    job_status: 'queued' | 'done' | 'dead'
    run_at: string
    reason: string | null
    /** Written again: the first write may have committed with only its answer lost. */
    again: boolean
  }
  let settling: { row: Settlement; resolve(settled: boolean): void; reject(e: unknown): void }[] =
    []
  let flushing = false

  /**
   * Group commit of settlements: the attempts that end while a write is in flight are written
   * together by the next one, in one statement (one commit, one fsync) instead of one each.
   */
  async function flush(): Promise<void> {
    if (flushing) return
    flushing = true
    try {
      while (settling.length > 0) {
        const batch = settling
        settling = []
        try {
          const rows = await queryRows<{ id: number }>(
            database.db,
            sql`with s as (
                select * from jsonb_to_recordset(${JSON.stringify(batch.map((b) => b.row))}::jsonb)
                  as s(job_id bigint, destination_id text, event_id uuid, attempt int,
                    started_at timestamptz, status int, outcome text, latency_ms int,
                    response_body text, error text, job_status text, run_at timestamptz,
                    reason text, again boolean)
              ), a as (
                insert into telehook.forward_attempts (job_id, destination_id, event_id, attempt,
                  started_at, status, outcome, latency_ms, response_body, error)
                select job_id, destination_id, event_id, attempt, started_at, status, outcome,
                  latency_ms, response_body, error from s
                -- A job deleted meanwhile (with its destination) must not fail the whole batch.
                where exists (select 1 from telehook.forward_jobs f where f.id = s.job_id)
                  and (not s.again or not exists (select 1 from telehook.forward_attempts x
                    where x.job_id = s.job_id and x.attempt = s.attempt
                      and x.started_at = s.started_at))
              ), j as (
                update telehook.forward_jobs f set status = s.job_status, run_at = s.run_at,
                  locked_until = null, last_status = s.status, last_error = s.error,
                  updated_at = now()
                from s
                where f.id = s.job_id and f.status = 'running' and f.attempts = s.attempt
                returning f.id
              ), g as (
                update telehook.destinations d set enabled = false, disabled_reason = s.reason,
                  updated_at = now()
                from s
                where s.outcome = 'gone' and d.id = s.destination_id and d.enabled
                  -- Written again: only if it settles the job now, not over a re-enabling since.
                  and (not s.again or s.job_id in (select id from j))
                returning 1
              )
              select id::int as id from j`,
          )
          const settled = new Set(rows.map((r) => r.id))
          for (const b of batch) b.resolve(settled.has(b.row.job_id))
        } catch (error) {
          for (const b of batch) b.reject(error)
        }
      }
    } finally {
      flushing = false
    }
  }

  /**
   * Records the attempt and settles the job if this worker still holds it (still `running`, same
   * attempt); false if it lost it. `again` when the row is written again after a failure.
   */
  function settle(
    job: ClaimedJob,
    startedAt: Date,
    result: AttemptResult,
    outcome: Outcome,
    runAt: Date,
    error: string | null,
    again = false,
  ): Promise<boolean> {
    const row: Settlement = {
      job_id: job.id,
      destination_id: job.destination_id,
      event_id: job.event_id,
      attempt: job.attempts,
      started_at: startedAt.toISOString(),
      status: result.status,
      outcome,
      latency_ms: result.latencyMs,
      response_body: storable(result.responseBody, 4096),
      error: storable(error, 4000),
      job_status: outcome === 'retry' ? 'queued' : outcome === 'done' ? 'done' : 'dead',
      run_at: runAt.toISOString(),
      reason:
        outcome === 'gone'
          ? `the destination answered 410 Gone at ${startedAt.toISOString()}`
          : null,
      again,
    }
    return new Promise<boolean>((resolve, reject) => {
      settling.push({ row, resolve, reject })
      void flush()
    })
  }

  /** Gives a job interrupted by stop() back to the queue without counting its attempt. */
  async function requeue(job: ClaimedJob, leaseOver: number): Promise<void> {
    const write = () =>
      database.db.execute(
        sql`update telehook.forward_jobs set status = 'queued', attempts = attempts - 1,
              run_at = now(), locked_until = null, updated_at = now()
            where id = ${job.id} and status = 'running' and attempts = ${job.attempts}`,
      )
    try {
      await write()
    } catch (error) {
      retries.retry({ write, what: 'forward job requeue', job: job.id, leaseOver, error })
    }
  }

  async function runJob(job: ClaimedJob, controller: AbortController): Promise<void> {
    const startedAt = new Date()
    const leaseOver = startedAt.getTime() + leaseMs
    let result: AttemptResult
    try {
      const keys = [await open(job.secret_ciphertext)]
      const previousUntil = job.previous_secret_expires_at
      if (
        job.previous_secret_ciphertext &&
        previousUntil !== null &&
        new Date(previousUntil).getTime() > startedAt.getTime()
      ) {
        keys.push(await open(job.previous_secret_ciphertext))
      }
      const body = forwardBody({
        id: job.event_id,
        endpointId: job.endpoint_id,
        projectId: job.project_id,
        payload: job.payload,
        receivedAt: new Date(job.received_at),
      })
      const headers = signatureHeaders({ id: job.event_id, body, secrets: keys })
      result = await attemptDelivery({
        url: job.url,
        body,
        headers,
        timeoutMs,
        signal: controller.signal,
      })
    } catch (error) {
      if (error instanceof AttemptAborted) {
        await requeue(job, leaseOver)
        logger.warn({ msg: 'forward interrupted by stop, requeued', job: job.id })
        return
      }
      // A secret that cannot be opened (wrong master key) is retried: fixing the key resumes it.
      const message = `could not prepare the request: ${errorMessage(error)}`
      result = { status: null, latencyMs: 0, responseBody: null, error: message, retryAfter: null }
    }
    let outcome = classify(result)
    let error = result.error ?? (outcome === 'done' ? null : `HTTP ${result.status}`)
    let runAt = new Date()
    if (outcome === 'retry') {
      const at = nextAttemptAt({
        attempt: job.attempts,
        firstQueuedAt: new Date(job.first_queued_at),
        maxAgeMs,
        retryAfterMs: parseRetryAfter(result.retryAfter),
        backoffMs,
      })
      if (at === null) {
        outcome = 'dead'
        error = `${error}; no retry: the job is older than ${maxAgeMs} ms`
      } else runAt = at
    }
    // The request was made: its outcome is written (again, if need be), never the event sent
    // twice for a database that failed after it.
    const settled = await settle(job, startedAt, result, outcome, runAt, error).catch((e) => {
      const write = () => settle(job, startedAt, result, outcome, runAt, error, true)
      retries.retry({ write, what: 'forward attempt', job: job.id, leaseOver, error: e })
      return true
    })
    if (!settled) {
      logger.warn({ msg: 'forward job lease lost before the attempt ended', job: job.id })
      return
    }
    const log = outcome === 'done' ? logger.info : outcome === 'retry' ? logger.warn : logger.error
    log({
      msg: `forward ${outcome}`,
      job: job.id,
      destination: job.destination_id,
      event_id: job.event_id,
      attempt: job.attempts,
      status: result.status,
      latency_ms: result.latencyMs,
      ...(error ? { error } : {}),
      ...(outcome === 'retry' ? { retry_at: runAt.toISOString() } : {}),
    })
  }

  function launch(job: ClaimedJob): Promise<void> {
    const controller = new AbortController()
    // Claimed while a stop outlasted its grace (the claim was in flight): given back unsent.
    if (interrupting) controller.abort(interrupting)
    const done = runJob(job, controller)
      .catch((error) =>
        logger.error({ msg: 'forward job crashed', job: job.id, error: errorMessage(error) }),
      )
      .finally(() => {
        inFlight.delete(controller)
        if (running) void fill()
      })
    inFlight.set(controller, { job: job.id, done })
    return done
  }

  /** Claims into every free slot; a trigger during a claim makes it claim again afterwards. */
  function fill(): Promise<void> {
    if (filling) {
      fillAgain = true
      return filling
    }
    filling = (async () => {
      do {
        fillAgain = false
        while (running && inFlight.size < concurrency) {
          let claimed: ClaimedJob[]
          try {
            claimed = await claim(concurrency - inFlight.size)
          } catch (error) {
            logger.error({ msg: 'forwarder could not claim jobs', error: errorMessage(error) })
            return
          }
          if (claimed.length === 0) break
          for (const job of claimed) void launch(job)
        }
      } while (fillAgain && running)
    })().finally(() => {
      filling = null
    })
    return filling
  }

  return {
    start() {
      if (running) return
      running = true
      interrupting = null
      void fill()
      pollTimer = setInterval(() => void fill(), pollMs)
      if (database.listen) {
        const wake = () => {
          if (running) void fill()
        }
        listening = database
          .listen(FORWARD_CHANNEL, wake, wake)
          .then(async (u) => {
            if (!running) {
              await u()
              return false
            }
            unlisten = u
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
      clearInterval(pollTimer)
      const jobsDone = () => Promise.all([...inFlight.values()].map((j) => j.done))
      // A claim in progress (its jobs then run) is part of what the grace waits for.
      const all = Promise.resolve(filling).then(jobsDone)
      let graceTimer: ReturnType<typeof setTimeout> | undefined
      const graceOver = new Promise<boolean>((resolve) => {
        graceTimer = setTimeout(() => resolve(true), stopGraceMs)
      })
      const outlasted = await Promise.race([all.then(() => false), graceOver])
      clearTimeout(graceTimer)
      if (outlasted) {
        interrupting = new Error('the worker is stopping')
        for (const c of inFlight.keys()) c.abort(interrupting)
      }
      // The requeues of the requests just aborted, and the writes still being retried, are what
      // gives these jobs back: dropped, they would wait out their leases. Bounded all the same.
      const deadline = Date.now() + stopSettleMs
      await settlesBy(jobsDone(), deadline)
      const [notWritten] = await Promise.all([retries.stop(deadline), releaser.stop(deadline)])
      const left = [...new Set([...[...inFlight.values()].map((j) => j.job), ...notWritten])]
      if (left.length > 0) {
        logger.warn({
          msg: 'stopped with forward jobs not given back: the database did not take their writes in time; their leases hand them on',
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
    async runOnce() {
      const claimed = await claim(concurrency)
      await Promise.all(claimed.map(launch))
      return claimed.length
    },
    whenListening: () => listening,
  }
}
