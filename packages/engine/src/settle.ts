/** @module Outcomes the database could not take, written again until the lease is over. */
import { errorMessage, type Logger } from './logger'

/** The longest wait between two retries of a write after an outage (settle.ts, claim.ts). */
export const MAX_RETRY_MS = 30_000

export interface SettleRetryOptions {
  /** First delay before writing again; doubles up to 30 s. */
  retryMs: number
  logger: Logger
}

export interface FailedSettle {
  /** Writes the outcome, only over the worker's own claim (a write that finds none is a no-op). */
  write: () => Promise<unknown>
  /** What is written, for log lines (`job done`, `forward attempt`). */
  what: string
  job: number
  /** When the claim's lease is over (`Date.now()` ms): then the lease hands the job on. */
  leaseOver: number
  /** Why the first write failed. */
  error: unknown
}

export interface SettleRetries {
  /** After a job's outcome write failed: writes it again later, in the background. */
  retry(failed: FailedSettle): void
  /**
   * The worker stops: what waits is written at once, then again every `retryMs` (no longer
   * doubling) until each write is taken, its lease is over, or `deadline` (`Date.now()` ms) has
   * come, even if a write hangs. Resolves the ids of the jobs whose write was not taken by then
   * (their leases hand them on); nothing is written again afterwards.
   */
  stop(deadline: number): Promise<number[]>
}

/**
 * Resolves true once `work` settles, or false at `deadline` (`Date.now()` ms) if it has not: a
 * stop() waits no longer for a write the database never answers.
 */
export function settlesBy(
  work: Promise<unknown> | null | undefined,
  deadline: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))
    const settled = () => {
      clearTimeout(timer)
      resolve(true)
    }
    Promise.resolve(work).then(settled, settled)
  })
}

/**
 * Writes outcomes again for one worker, 1 s doubling up to 30 s, until one is taken or its lease
 * is over: a job that ran during a short outage is settled when the database is back instead of
 * waiting out its lease and running again. At stop they are tried until a deadline: they include
 * the requeues of the jobs stop() interrupted, which would otherwise wait out their leases.
 * @example
 * const retries = createSettleRetries({ retryMs: 1000, logger })
 * await write().catch((error) => retries.retry({ write, what: 'job done', job, leaseOver, error }))
 * const left = await retries.stop(Date.now() + 5000) // at stop: the jobs left to their leases
 */
export function createSettleRetries(opts: SettleRetryOptions): SettleRetries {
  const { logger } = opts
  const retryMs = Math.max(1, opts.retryMs)
  interface Waiting {
    failed: FailedSettle
    /** Set while the next try waits; a try in flight has none. */
    timer?: ReturnType<typeof setTimeout>
  }
  const waiting = new Set<Waiting>()
  /** Set by stop(): tries go every retryMs until then. */
  let stopBy: number | null = null
  let stopped = false
  /** stop() waiting for the last write: called when `waiting` empties. */
  let drained: (() => void) | null = null

  const done = (entry: Waiting) => {
    waiting.delete(entry)
    if (waiting.size === 0) drained?.()
  }

  async function attempt(entry: Waiting, delay: number): Promise<void> {
    entry.timer = undefined
    const { write, what, job } = entry.failed
    try {
      await write()
    } catch {
      if (!stopped) later(entry, stopBy === null ? Math.min(delay * 2, MAX_RETRY_MS) : retryMs)
      return
    }
    logger.info({ msg: `recorded ${what} after retrying`, job })
    done(entry)
  }

  function later(entry: Waiting, delay: number): void {
    const { what, job, leaseOver } = entry.failed
    if (Date.now() + delay >= leaseOver) {
      logger.warn({ msg: `gave up recording ${what}; the lease hands it on`, job })
      done(entry)
      return
    }
    entry.timer = setTimeout(() => void attempt(entry, delay), delay)
    // Outside stop() (whose deadline keeps the process up), a retry does not hold it open.
    ;(entry.timer as { unref?: () => void }).unref?.()
  }

  return {
    retry(failed) {
      const { what, job, error } = failed
      if (stopped) {
        logger.warn({
          msg: `could not record ${what} and the worker has stopped; the lease hands it on`,
          job,
          error: errorMessage(error),
        })
        return
      }
      logger.error({
        msg: `could not record ${what}; retrying until the lease is over`,
        job,
        error: errorMessage(error),
      })
      const entry: Waiting = { failed }
      waiting.add(entry)
      later(entry, retryMs)
    },
    async stop(deadline) {
      stopBy = deadline
      // What waits for its next try goes now: the process is about to let go of these jobs.
      for (const entry of waiting) {
        if (entry.timer === undefined) continue
        clearTimeout(entry.timer)
        void attempt(entry, retryMs)
      }
      if (waiting.size > 0) {
        const empty = new Promise<void>((resolve) => {
          drained = resolve
        })
        await settlesBy(empty, deadline)
        drained = null
      }
      stopped = true
      const left = [...waiting].map((entry) => entry.failed.job)
      for (const entry of waiting) clearTimeout(entry.timer)
      waiting.clear()
      return left
    },
  }
}
