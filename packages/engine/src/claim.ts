/** @module Claims whose answer was lost: one token per claim, and giving back what it took. */
import { errorMessage, type Logger } from './logger'
import { MAX_RETRY_MS, settlesBy } from './settle'

/** A token of one claim statement alone, stored in the `claim_token` of the rows it claims. */
export const newClaimToken = (): string => crypto.randomUUID()

export interface ClaimReleaserOptions {
  /**
   * Gives back the rows still `running` under any of `tokens` (due again, the attempt uncounted)
   * and resolves how many there were. Rows claimed since by another worker carry another token.
   */
  release: (tokens: string[]) => Promise<number>
  /** First delay before trying again; doubles up to 30 s. */
  retryMs: number
  logger: Logger
  /** What the rows are, for log lines (`jobs`, `forward jobs`). */
  what: string
}

export interface ClaimReleaser {
  /**
   * After a claim statement failed: PostgreSQL may have committed it with only its answer lost (a
   * network cut, a restart), leaving rows `running` that no worker runs. Gives them back now, and
   * if the database cannot take it, again in the background until it can or `leaseOver`
   * (`Date.now()` ms) has come, when the lease hands them on as before.
   */
  release(token: string, leaseOver: number): Promise<void>
  /** After a claim that worked: a release waiting for its next try goes at once. */
  nudge(): void
  /**
   * The worker stops: a release waiting for its next try goes at once, then again every `retryMs`
   * until the database takes it, the leases are over, or `deadline` (`Date.now()` ms) has come,
   * even if the statement hangs. Resolves how many failed claims were not given back by then
   * (their leases hand their rows on, and a warn line says so); nothing is tried afterwards.
   */
  stop(deadline: number): Promise<number>
}

/**
 * Releases lost claims for one worker. Tokens waiting (one per failed claim, every poll of an
 * outage) are given back together in one statement; the retries go 1 s doubling to 30 s, as
 * outcomes are written again.
 * @example
 * const releaser = createClaimReleaser({ release, retryMs: 1000, logger, what: 'jobs' })
 * try { rows = await claimStatement(token) } catch (e) { await releaser.release(token, over); throw e }
 */
export function createClaimReleaser(opts: ClaimReleaserOptions): ClaimReleaser {
  const { logger, what } = opts
  const retryMs = Math.max(1, opts.retryMs)
  /** Token → when its lease is over (`Date.now()` ms). */
  const pending = new Map<string, number>()
  let delay = retryMs
  let timer: ReturnType<typeof setTimeout> | undefined
  let inFlight: Promise<void> | null = null
  let failing = false
  /** Set by stop(): tries go every retryMs until then, and none after. */
  let stopBy: number | null = null
  let stopped = false
  /** stop() waiting for the last release: called when none is left. */
  let drained: (() => void) | null = null

  function attempt(): Promise<void> {
    if (inFlight) return inFlight
    inFlight = (async () => {
      try {
        // Tokens added while a statement runs go in the next one.
        while (pending.size > 0) {
          const tokens = [...pending.keys()]
          try {
            const released = await opts.release(tokens)
            for (const t of tokens) pending.delete(t)
            delay = retryMs
            if (failing) logger.info({ msg: 'gave back lost claims after retrying', what })
            failing = false
            if (released > 0) {
              logger.warn({ msg: `gave back ${what} of a claim whose answer was lost`, released })
            }
          } catch (error) {
            if (!failing) {
              logger.error({
                msg: `could not give back ${what} of a failed claim; retrying until the lease is over`,
                error: errorMessage(error),
              })
            }
            failing = true
            retryLater()
            return
          }
        }
      } finally {
        inFlight = null
      }
      drained?.()
    })()
    return inFlight
  }

  function retryLater(): void {
    if (stopped) return
    const now = Date.now()
    for (const [token, leaseOver] of pending) {
      if (now + delay < leaseOver) continue
      pending.delete(token)
      logger.warn({ msg: `gave up giving back ${what} of a failed claim; the lease hands them on` })
    }
    if (pending.size === 0) {
      delay = retryMs
      failing = false
      drained?.()
      return
    }
    timer = setTimeout(() => {
      timer = undefined
      void attempt()
    }, delay)
    // Outside stop() (whose deadline keeps the process up), a retry does not hold it open.
    ;(timer as { unref?: () => void }).unref?.()
    delay = stopBy === null ? Math.min(delay * 2, MAX_RETRY_MS) : retryMs
  }

  return {
    release(token, leaseOver) {
      pending.set(token, leaseOver)
      // The database failed the last try a moment ago: the next one takes this token too.
      if (timer !== undefined) return Promise.resolve()
      return attempt()
    },
    nudge() {
      if (timer === undefined) return
      clearTimeout(timer)
      timer = undefined
      void attempt()
    },
    async stop(deadline) {
      stopBy = deadline
      delay = retryMs
      // What waits for its next try goes now: the process is about to let go of these rows.
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
        void attempt()
      }
      if (pending.size > 0 || inFlight) {
        const empty = new Promise<void>((resolve) => {
          drained = resolve
        })
        await settlesBy(empty, deadline)
        drained = null
      }
      stopped = true
      clearTimeout(timer)
      timer = undefined
      const left = pending.size
      pending.clear()
      if (left > 0) {
        logger.warn({
          msg: `stopped without giving back ${what} of failed claims: the database did not take it in time; their leases hand them on`,
          claims: left,
        })
      }
      return left
    },
  }
}
