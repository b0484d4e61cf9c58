/**
 * @module What the public-port drills (hostile input, slow clients) share: the drill report type,
 * a webhook server run as its own process (so the drill sees its status, memory and survival as an
 * operator would), and a raw HTTP/1.1 client that can send anything, from any loopback address.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openDb, queryRows } from '@telehook/db'
import { TEST_DATABASE_URL } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'

/** What every drill returns. */
export interface DrillReport {
  name: string
  driver: 'postgres' | 'pglite'
  ok: boolean
  figures: Record<string, string | number>
  problems: string[]
}

export interface DrillOptions {
  size: 'ci' | 'long'
  driver: 'postgres' | 'pglite'
}

/** The single-project secret of every drill server. */
export const DRILL_SECRET = 'drill-secret-Hq4Vn8Zx2Lm6'

const MAIN = resolve(import.meta.dir, '../../apps/webhook/src/main.ts')

/** A webhook server in a child process. */
export interface ServerProcess {
  port: number
  pid: number
  /** Resident memory of the server process, in MiB (from /proc). */
  rssMiB(): Promise<number>
  alive(): boolean
  /** Everything it wrote to stderr so far. */
  stderr(): string
  /** Every JSON log line it wrote to stdout so far. */
  logLines(): Record<string, unknown>[]
  /** Rows in telehook.events, read through a connection of the drill's own. */
  countEvents(): Promise<number>
  stop(): Promise<void>
}

/**
 * Starts `apps/webhook/src/main.ts` on 127.0.0.1 on a fresh database of `driver` (a new PostgreSQL
 * database, dropped at stop, or a new PGlite folder, removed at stop).
 */
export async function startServerProcess(
  driver: DrillOptions['driver'],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'telehook-drill-'))
  let databaseUrl: string | undefined
  let dbName: string | undefined
  if (driver === 'postgres') {
    dbName = `telehook_drill_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false })
    try {
      await queryRows(admin.db, sql.raw(`create database ${dbName}`))
    } finally {
      await admin.close()
    }
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${dbName}`
    databaseUrl = url.toString()
  }
  const child = Bun.spawn([process.execPath, 'run', MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      TELEHOOK_SECRET: DRILL_SECRET,
      TELEHOOK_DATA_DIR: join(dir, 'data'),
      TELEHOOK_HANDLERS: 'none',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let err = ''
  let out = ''
  const pump = async (stream: ReadableStream<Uint8Array>, into: (s: string) => void) => {
    const decoder = new TextDecoder()
    const reader = stream.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      into(decoder.decode(value, { stream: true }))
    }
  }
  void pump(child.stderr, (s) => {
    err += s
  })
  void pump(child.stdout, (s) => {
    out += s
  })
  let port = 0
  for (let i = 0; i < 1200 && port === 0; i++) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)
    if (m) port = Number(m[1])
    else if (child.exitCode !== null) break
    else await Bun.sleep(50)
  }
  let exited = false
  void child.exited.then(() => {
    exited = true
  })
  let reader: Awaited<ReturnType<typeof openDb>> | undefined
  const cleanup = async () => {
    await reader?.close().catch(() => {})
    if (dbName) {
      const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false })
      try {
        await queryRows(admin.db, sql.raw(`drop database if exists ${dbName} with (force)`))
      } finally {
        await admin.close()
      }
    }
    await rm(dir, { recursive: true, force: true })
  }
  if (port === 0) {
    child.kill('SIGKILL')
    await child.exited
    await cleanup()
    throw new Error(`the webhook server did not start: ${err.slice(-2000)}`)
  }
  return {
    port,
    pid: child.pid,
    async rssMiB() {
      const status = await Bun.file(`/proc/${child.pid}/status`).text()
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
      return Math.round(kb / 102.4) / 10
    },
    alive: () => !exited,
    stderr: () => err,
    logLines() {
      const lines: Record<string, unknown>[] = []
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          lines.push(JSON.parse(line))
        } catch {}
      }
      return lines
    },
    async countEvents() {
      // PGlite allows one opener per folder: count from the server's own answer instead.
      if (!databaseUrl) return Number.NaN
      reader ??= await openDb({ databaseUrl, migrate: false })
      const [row] = await queryRows<{ n: number }>(
        reader.db,
        sql`select count(*)::int as n from telehook.events`,
      )
      return row?.n ?? 0
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await child.exited
        clearTimeout(timer)
      }
      await cleanup()
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
