/**
 * @module Helpers for suites and scripts that start a real server (Bun): free ports, and waiting
 * until `/healthz` answers 200. Shared by apps/cli's tests and start-up script and tests/binary.
 */

/**
 * Distinct free ports on 127.0.0.1: all listeners are held open together, so they cannot coincide.
 * @example const [port, adminPort] = await freePorts(2)
 */
export async function freePorts(count = 2): Promise<number[]> {
  const servers = Array.from({ length: count }, () =>
    Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() }),
  )
  const ports = servers.map((s) => s.port ?? 0)
  await Promise.all(servers.map((s) => s.stop(true)))
  return ports
}

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number
  /** Pause between two polls (default 25 ms). */
  intervalMs?: number
  /** A further condition to wait for, e.g. that the banner was printed. */
  until?: () => boolean
  /** The exit code of the server's process, null while it runs: an exit ends the wait at once. */
  exitCode?: () => number | null
  /** Added to the error message, e.g. what the process printed. */
  context?: () => string
}

/**
 * Polls `GET <baseUrl>/healthz` until it answers 200 (and `until()` holds). Rejects when the
 * process exits or the time is up; the caller stops what it started.
 * @example await waitUntilHealthy('http://127.0.0.1:8000', { exitCode: () => proc.exitCode })
 */
export async function waitUntilHealthy(baseUrl: string, opts: WaitOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000
  const started = performance.now()
  const context = () => (opts.context ? `: ${opts.context()}` : '')
  for (;;) {
    const code = opts.exitCode?.() ?? null
    if (code !== null) throw new Error(`the server exited with ${code}${context()}`)
    const ok = await fetch(new URL('/healthz', baseUrl))
      .then(async (r) => {
        await r.body?.cancel()
        return r.status === 200
      })
      .catch(() => false)
    if (ok && (opts.until?.() ?? true)) return
    if (performance.now() - started > timeoutMs) {
      throw new Error(`no 200 from ${baseUrl}/healthz within ${timeoutMs} ms${context()}`)
    }
    await Bun.sleep(opts.intervalMs ?? 25)
  }
}
