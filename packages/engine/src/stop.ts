/**
 * @module How long a stop may take, and how a process asks for one: the budget every entry point
 * splits between its HTTP drain, the workers' grace and settle, and its last steps; the signals
 * that start a stop, and the later one that cuts it short.
 */
import type { Logger } from './logger'
import { settlesBy } from './settle'

/**
 * The whole stop of an entry point by default, from the signal to the exit. `docker stop` sends
 * SIGKILL 10 s after SIGTERM (Kubernetes 30 s, systemd 90 s): 8 s leaves 2 s for what no bound
 * covers (the PGlite close, the runtime's exit, timers late on a loaded machine).
 */
export const DEFAULT_STOP_TIMEOUT_MS = 8000
/**
 * The part of a budget kept for the last steps, whose own bounds are fixed: the UNLISTEN of each
 * worker (at most 1 s past its settle time) and closing PostgreSQL's connections (at most 1 s).
 */
export const STOP_FINAL_MS = 2000
/** The least budget accepted: the last steps, and 1 s to split between grace and settle. */
export const MIN_STOP_TIMEOUT_MS = STOP_FINAL_MS + 1000
/** The most accepted (an hour); longer than any supervisor waits. */
export const MAX_STOP_TIMEOUT_MS = 3_600_000

/** What `TELEHOOK_STOP_TIMEOUT_MS` must be, in the words of every loader that reads it. */
export const STOP_TIMEOUT_RULE = `must be a whole number of milliseconds from ${MIN_STOP_TIMEOUT_MS} to ${MAX_STOP_TIMEOUT_MS}: the whole stop, to keep under the time your supervisor waits before SIGKILL (docker stop: 10 s)`

/** A stop budget split into the workers' options and the HTTP servers' drain. */
export interface StopBudget {
  /** The whole stop, from the signal to the exit. */
  totalMs: number
  /** Running jobs and requests to destinations may finish for this long (`stopGraceMs`). */
  stopGraceMs: number
  /** Then what the database did not take is written again for at most this long (`stopSettleMs`). */
  stopSettleMs: number
  /**
   * HTTP servers answer the requests in flight for at most this long (grace + settle, as the
   * workers beside them); connections still open then are closed.
   */
  drainMs: number
}

/**
 * Splits a whole-stop budget: {@link STOP_FINAL_MS} is kept for the last steps; of the rest, three
 * quarters are the workers' grace (running jobs finish) and one quarter their settle time (what
 * the database did not take is written again); HTTP servers drain for grace + settle, at the same
 * time. The default 8 s: grace 4.5 s, settle 1.5 s, drain 6 s.
 * @example createWorker({ database, handlers, ...stopBudget(config.stopTimeoutMs) })
 */
export function stopBudget(totalMs: number = DEFAULT_STOP_TIMEOUT_MS): StopBudget {
  const rest = Math.max(0, Math.round(totalMs) - STOP_FINAL_MS)
  const stopSettleMs = Math.round(rest / 4)
  return { totalMs, stopGraceMs: rest - stopSettleMs, stopSettleMs, drainMs: rest }
}

/**
 * Runs every step in order, even when one before it fails (a server that would not stop must not
 * leave the database open and its data folder locked), then throws the first failure, if any.
 * @example await stopEach([() => server.stop(), () => database.close()])
 */
export async function stopEach(steps: readonly (() => unknown)[]): Promise<void> {
  const failures: unknown[] = []
  for (const step of steps) {
    try {
      await step()
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length > 0) throw failures[0]
}

/**
 * Runs every step at once and waits for all of them (a server draining and a worker in its grace
 * wait for nothing of each other), then throws the first failure in the order given, if any.
 * @example await stopTogether([() => server.stop(), () => worker.stop()])
 */
export async function stopTogether(steps: readonly (() => unknown)[]): Promise<void> {
  const results = await Promise.allSettled(steps.map(async (step) => step()))
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
}

/** An HTTP server as `Bun.serve` returns it: `stop()` drains, `stop(true)` closes what is open. */
export interface DrainableServer {
  stop(closeActiveConnections?: boolean): Promise<unknown> | unknown
}

/**
 * Stops a server: it takes no new connection, and its requests in flight have `drainMs` to be
 * answered; what is still open then (a console's live log, a body that stops arriving, a delivery
 * waiting for the database) is closed, with a warn line. Resolves true when everything was
 * answered in time.
 * @example await drainServer(server, stopBudget(config.stopTimeoutMs).drainMs, { logger, what: 'admin' })
 */
export async function drainServer(
  server: DrainableServer,
  drainMs: number,
  { logger, what = 'server' }: { logger?: Logger; what?: string } = {},
): Promise<boolean> {
  const drained = Promise.resolve(server.stop())
  if (await settlesBy(drained, Date.now() + drainMs)) {
    await drained
    return true
  }
  logger?.warn({
    msg: 'stopping: connections still open after the drain are closed',
    server: what,
    drain_ms: drainMs,
  })
  await server.stop(true)
  return false
}

export type StopSignal = 'SIGINT' | 'SIGTERM'

/** What stopOnSignals listens on: `process`, Deno's signal listeners, or a test's stand-in. */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown
}

export interface StopOnSignalsOptions {
  /** Who speaks in the line a later signal prints (`telehook`, `telehook-webhook`). */
  name: string
  /** Where that line goes (default `console.error`). */
  log?: (line: string) => void
  /** Ends the process at once for a later signal (default `process.exit`). */
  exit?: (code: number) => void
  /** The clock (default performance.now). */
  now?: () => number
  /**
   * Signals this soon after the first one are the same request (default 2000 ms). One Ctrl-C on
   * `bun run dev` reaches the server two or three times: from the terminal, from turbo and from
   * `bun run`, each passing it on; counting them as two requests skipped the drain.
   */
  sameRequestMs?: number
}

/** The exit status of a process stopped by `signal`, as shells report it: 128 + its number. */
export const signalExitCode = (signal: StopSignal): number => (signal === 'SIGTERM' ? 143 : 130)

/**
 * Resolves with the first signal's name: the caller stops (drains, closes) then exits. A signal
 * more than `sameRequestMs` later means "stop now": one line says the stop was cut short and what
 * it leaves, then `exit(128 + signal number)` (130 for SIGINT, 143 for SIGTERM) without waiting.
 * @example const signal = await stopOnSignals(process, { name: 'telehook' }) // then stop and exit
 */
export function stopOnSignals(
  source: SignalSource,
  {
    name,
    log = (line) => console.error(line),
    exit = (code) => process.exit(code),
    now = () => performance.now(),
    sameRequestMs = 2000,
  }: StopOnSignalsOptions,
): Promise<StopSignal> {
  let first: number | null = null
  return new Promise((resolve) => {
    const onSignal = (signal: StopSignal) => {
      if (first === null) {
        first = now()
        resolve(signal)
        return
      }
      if (now() - first <= sameRequestMs) return
      const code = signalExitCode(signal)
      log(
        `${name}: ${signal} while stopping: stop cut short, exit ${code} now; running jobs not given back are left to their leases (another worker takes them when the lease ends), requests in flight get no answer`,
      )
      exit(code)
    }
    source.on('SIGINT', () => onSignal('SIGINT'))
    source.on('SIGTERM', () => onSignal('SIGTERM'))
  })
}
