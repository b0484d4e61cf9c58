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
  /** Drops the writes still waiting (their leases hand the jobs on); one in flight runs out. */
  stop(): void
}

/**
 * Writes outcomes again for one worker, 1 s doubling up to 30 s, until one is taken or its lease
 * is over: a job that ran during a short outage is settled when the database is back instead of
 * waiting out its lease and running again.
 * @example
 * const retries = createSettleRetries({ retryMs: 1000, logger })
 * await write().catch((error) => retries.retry({ write, what: 'job done', job, leaseOver, error }))
 */
export function createSettleRetries(opts: SettleRetryOptions): SettleRetries {
  const { logger } = opts
  const retryMs = Math.max(1, opts.retryMs)
  const waiting = new Set<ReturnType<typeof setTimeout>>()
  return {
    retry({ write, what, job, leaseOver, error }) {
      logger.error({
        msg: `could not record ${what}; retrying until the lease is over`,
        job,
        error: errorMessage(error),
      })
      const later = (delay: number) => {
        if (Date.now() + delay >= leaseOver) {
          logger.warn({ msg: `gave up recording ${what}; the lease hands it on`, job })
          return
        }
        const timer = setTimeout(async () => {
          waiting.delete(timer)
          try {
            await write()
            logger.info({ msg: `recorded ${what} after retrying`, job })
          } catch {
            later(Math.min(delay * 2, MAX_RETRY_MS))
          }
        }, delay)
        ;(timer as { unref?: () => void }).unref?.()
        waiting.add(timer)
      }
      later(retryMs)
    },
    stop() {
      for (const t of waiting) clearTimeout(t)
      waiting.clear()
    },
  }
}
