/**
 * @module What the public-port drills (hostile input, slow clients) add to the harness: a server
 * handle with its memory, survival and stored-event count, and a raw HTTP/1.1 client that can send
 * anything, from any loopback address (so the per-client limit of failed attempts stays out of a
 * corpus sent from many addresses).
 */
import { connect } from 'node:net'
import { type DrillDriver, freshDatabase, killAll, rssKb, serve } from './harness'

export { DRILL_SECRET, type DrillOptions, type DrillReport } from './harness'

/** `telehook serve` (webhook only) in a child process, as the harness starts it. */
export interface ServerProcess {
  port: number
  pid: number
  /** Resident memory of the server process, in MiB. */
  rssMiB(): Promise<number>
  alive(): boolean
  /** Every JSON log line it wrote so far. */
  logLines(): Record<string, unknown>[]
  /** Rows in telehook.events (PostgreSQL; NaN on PGlite, whose folder the server holds). */
  countEvents(): Promise<number>
  stop(): Promise<void>
}

/** Starts the server on a fresh database of `driver`, without handlers, with `env` laid over. */
export async function startServerProcess(
  driver: DrillDriver,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const database = await freshDatabase(driver)
  let served: Awaited<ReturnType<typeof serve>>
  try {
    served = await serve(database, { handlers: 'none', env })
  } catch (error) {
    await database.cleanup()
    throw error
  }
  const { proc } = served
  return {
    port: served.port,
    pid: served.pid,
    async rssMiB() {
      return Math.round((await rssKb(served.pid)) / 102.4) / 10
    },
    alive: () => proc.exitCode === null && proc.signalCode === null,
    logLines: () => served.logLines(),
    async countEvents() {
      if (!database.databaseUrl) return Number.NaN
      const [row] = await database.query<{ n: number }>(
        'select count(*)::int as n from telehook.events',
      )
      return row?.n ?? 0
    },
    async stop() {
      try {
        await served.stop()
      } finally {
        await killAll()
        await database.cleanup()
      }
    },
  }
}

/** One step of a raw request: bytes to write, or a pause. */
export type Step = string | Uint8Array | { waitMs: number }

/** What came back: a status, or the server closed the connection without one, or nothing came. */
export interface RawAnswer {
  status: number | 'closed' | 'timeout'
  ms: number
  head: string
}

/**
 * Writes `steps` on a fresh connection from `localAddress` (any 127.x.y.z works on Linux) and
 * waits up to `timeoutMs` for the answer's status line; the connection is then closed.
 */
export function rawRequest(
  port: number,
  steps: Step[],
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const started = performance.now()
  return new Promise((done) => {
    let settled = false
    let received = ''
    const socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress })
    const finish = (status: RawAnswer['status']) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      done({ status, ms: performance.now() - started, head: received.slice(0, 400) })
    }
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 15_000)
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received)
      if (m && received.includes('\r\n\r\n')) finish(Number(m[1]))
    })
    socket.on('close', () => finish('closed'))
    socket.on('error', () => finish('closed'))
    socket.on('connect', async () => {
      for (const step of steps) {
        if (settled) return
        if (typeof step === 'object' && 'waitMs' in step) await Bun.sleep(step.waitMs)
        else if (!socket.destroyed) socket.write(step)
      }
    })
  })
}

/** A complete request: head (with Host and Connection: close unless given) and body. */
export function httpRequest(
  method: string,
  path: string,
  headers: [string, string][] = [],
  body?: string | Uint8Array,
): Step[] {
  const names = new Set(headers.map(([k]) => k.toLowerCase()))
  const all: [string, string][] = [...headers]
  if (!names.has('host')) all.unshift(['Host', 'telehook.test'])
  if (!names.has('connection')) all.push(['Connection', 'close'])
  if (body !== undefined && !names.has('content-length') && !names.has('transfer-encoding')) {
    all.push([
      'Content-Length',
      String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
    ])
  }
  const head = `${method} ${path} HTTP/1.1\r\n${all.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`
  return body === undefined ? [head] : [head, body]
}

/** Percentiles of `values` (ms), rounded to 0.1. */
export function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  const round = (n: number) => Math.round(n * 10) / 10
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) }
}
