/** @module How `telehook` reads SIGINT/SIGTERM: one stop request per keypress, however relayed. */

/** What stopOnSignals listens on: `process`, or a test's stand-in. */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
}

export interface StopOnSignalsOptions {
  /** Called for a second stop request, to give up on a stuck drain (default process.exit). */
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

/**
 * Resolves with the first signal's name (`SIGINT` or `SIGTERM`). A signal more than
 * `sameRequestMs` later means "stop now": `exit(128 + signal number)` without waiting for the drain.
 * @example const stop = stopOnSignals(process); await stop // then drain and close
 */
export function stopOnSignals(
  source: SignalSource,
  {
    exit = (code) => process.exit(code),
    now = () => performance.now(),
    sameRequestMs = 2000,
  }: StopOnSignalsOptions = {},
): Promise<string> {
  let first: number | null = null
  return new Promise((resolve) => {
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
      if (first === null) {
        first = now()
        resolve(signal)
      } else if (now() - first > sameRequestMs) {
        exit(signal === 'SIGTERM' ? 143 : 130)
      }
    }
    source.on('SIGINT', () => onSignal('SIGINT'))
    source.on('SIGTERM', () => onSignal('SIGTERM'))
  })
}
