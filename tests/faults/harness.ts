/**
 * @module Shared pieces of the fault drills: a fresh database (PGlite data folder or PostgreSQL
 * database), `telehook serve` started as a real process, deliveries posted over real sockets with
 * their answers kept, rows read back, and the report every drill returns.
 *
 * A drill is `tests/faults/<name>.drill.ts` exporting `run(opts): Promise<DrillReport>`;
 * `bun run drills` runs them all and its `<name>.test.ts` runs it at the `ci` size.
 */
import { rmSync } from 'node:fs'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Database, openDb, queryRows } from '@telehook/db'
import { TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import { incomingMessageWire, toBody } from '@telehook/protocol/fixtures'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'
import { sql } from 'drizzle-orm'

/** `ci`: small enough for every drill together to take a few minutes; `long`: the full drill. */
export type DrillSize = 'ci' | 'long'
export type DrillDriver = 'postgres' | 'pglite'

export interface DrillOptions {
  size: DrillSize
  driver: DrillDriver
}

/** What a drill found: `ok` only when `problems` is empty. Figures are printed as they are. */
export interface DrillReport {
  name: string
  driver: string
  ok: boolean
  figures: Record<string, string | number>
  problems: string[]
}

/** The repository's root folder. */
export const REPO_ROOT = join(import.meta.dir, '..', '..')
/** The `telehook` command, run from source. */
export const CLI_MAIN = join(REPO_ROOT, 'apps', 'cli', 'src', 'main.ts')
/** The secret of `POST /webhook` in every drill. */
export const DRILL_SECRET = 'drill-secret-4Qw8Zr2Lp9Xt'
/** Telerivet gives up on a delivery after 10 s. */
export const TELERIVET_TIMEOUT_MS = 10_000

/** `TELEHOOK_DRILLS=long` selects the long variant; anything else the `ci` one. */
export function drillSize(env: Record<string, string | undefined> = process.env): DrillSize {
  return env.TELEHOOK_DRILLS === 'long' ? 'long' : 'ci'
}

/** The drivers to drill (`TELEHOOK_TEST_DRIVERS`, default both), as the database suites use. */
export function drillDrivers(): DrillDriver[] {
  return [...TEST_DRIVERS]
}

/** Collects a drill's figures and problems. */
export class Report {
  readonly figures: Record<string, string | number> = {}
  readonly problems: string[] = []
  constructor(
    readonly name: string,
    readonly driver: string,
  ) {}
  figure(key: string, value: string | number): this {
    this.figures[key] = value
    return this
  }
  /** Records `problem` unless `holds`; returns `holds`. */
  check(holds: boolean, problem: string): boolean {
    if (!holds) this.problems.push(problem)
    return holds
  }
  problem(problem: string): void {
    this.problems.push(problem)
  }
  done(): DrillReport {
    return {
      name: this.name,
      driver: this.driver,
      ok: this.problems.length === 0,
      figures: this.figures,
      problems: this.problems,
    }
  }
}

/** One line for a report: `name (driver) ok|FAILED  key=value …  problems`. */
export function formatReport(r: DrillReport): string {
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  const problems = r.problems.length > 0 ? `  problems: ${r.problems.join('; ')}` : ''
  return `${r.name} (${r.driver}) ${r.ok ? 'ok' : 'FAILED'}  ${figures}${problems}`
}

// ---------------------------------------------------------------------------------------------
// Databases

/** A fresh database for one drill: a PGlite data folder, or a new database on PostgreSQL. */
export interface DrillDatabase {
  driver: DrillDriver
  /** A scratch folder of this drill (PGlite: its `data` subfolder is the data folder). */
  scratch: string
  /** The PGlite data folder (unused on PostgreSQL). */
  dataDir: string
  /** The database's URL on PostgreSQL, else null. */
  databaseUrl: string | null
  /**
   * Runs `fn` with the database open in this process. On PGlite the folder admits one process:
   * the server must be stopped (or killed) first.
   */
  withDb<T>(fn: (database: Database) => Promise<T>): Promise<T>
  /** Raw SQL rows (see withDb for PGlite). */
  query<T = Record<string, unknown>>(text: string): Promise<T[]>
  /** Drops the PostgreSQL database and removes the scratch folder. */
  cleanup(): Promise<void>
}

async function adminExec(statement: string): Promise<void> {
  const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false, maxConnections: 1 })
  try {
    await admin.db.execute(sql.raw(statement))
  } finally {
    await admin.close()
  }
}

let template: Promise<string> | undefined
let templateRoot: string | undefined

/**
 * A PGlite data folder made (initdb, migrations) once per process and copied for each drill:
 * initdb takes 5–30 s on a busy 2-core machine, and every PGlite drill starts from a new folder.
 */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telehook-drill-template-'))
    templateRoot = dir
    // bun test fires no 'exit' event: test files call removeTemplate() in afterAll.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const dataDir = join(dir, 'data')
    const database = await openDb({ dataDir })
    await database.close()
    return dataDir
  })()
  return template
}

/** Removes the template data folder made by this process, if any (the next drill makes another). */
export async function removeTemplate(): Promise<void> {
  const dir = templateRoot
  template = undefined
  templateRoot = undefined
  if (dir) await rm(dir, { recursive: true, force: true })
}

/**
 * Creates the database of one drill. PostgreSQL: `telehook_drill_<random>` on the test server
 * (`TEST_DATABASE_URL`), migrated by the server at its first start like a user's database.
 * PGlite: a copy of a new, migrated, never-served data folder (`initdb: true`: an empty folder,
 * initialised by the server's first start).
 */
export async function freshDatabase(
  driver: DrillDriver,
  opts: { scratch?: string; initdb?: boolean } = {},
): Promise<DrillDatabase> {
  const scratch = opts.scratch ?? (await mkdtemp(join(tmpdir(), 'telehook-drill-')))
  const dataDir = join(scratch, 'data')
  if (driver === 'pglite' && !opts.initdb)
    await cp(await pgliteTemplate(), dataDir, { recursive: true })
  let databaseUrl: string | null = null
  let dbName: string | null = null
  if (driver === 'postgres') {
    dbName = `telehook_drill_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    await adminExec(`create database ${dbName}`)
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${dbName}`
    databaseUrl = url.toString()
  }
  let pgShared: Database | null = null
  const withDb = async <T>(fn: (database: Database) => Promise<T>): Promise<T> => {
    if (databaseUrl) {
      pgShared ??= await openDb({ databaseUrl, migrate: false, maxConnections: 2 })
      return fn(pgShared)
    }
    const database = await openDb({ dataDir, migrate: false })
    try {
      return await fn(database)
    } finally {
      await database.close()
    }
  }
  return {
    driver,
    scratch,
    dataDir,
    databaseUrl,
    withDb,
    query: <T>(text: string) => withDb((d) => rawRows<T>(d, text)),
    async cleanup() {
      await pgShared?.close().catch(() => {})
      pgShared = null
      if (dbName) await adminExec(`drop database if exists ${dbName} with (force)`).catch(() => {})
      if (!opts.scratch) await rm(scratch, { recursive: true, force: true })
    },
  }
}

/** Raw SQL rows on an open database (inside `withDb`). */
export function rawRows<T = Record<string, unknown>>(
  database: Database,
  text: string,
): Promise<T[]> {
  return queryRows<T>(database.db, sql.raw(text))
}

// ---------------------------------------------------------------------------------------------
// The server process

export interface ServeOptions {
  /** Reuse a port across restarts, so clients keep one URL (default: a free one). */
  port?: number
  /** `--handlers` (default `example`, the bundled bot that answers incoming messages). */
  handlers?: string
  /** PostgreSQL URL to use instead of the database's own (e.g. through a proxy). */
  databaseUrl?: string
  /** Extra environment (TELEHOOK_DEADLINE_MS …). */
  env?: Record<string, string>
  /** How long to wait for `/healthz` 200 (default 120 s: PGlite's first start runs initdb). */
  timeoutMs?: number
  /** Wait for a healthy server (default true). */
  waitHealthy?: boolean
}

/** A running `telehook serve` process. */
export interface Served {
  proc: ReturnType<typeof Bun.spawn>
  pid: number
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `POST` target of the single-project mode. */
  hook: string
  /** Milliseconds from spawn to the first 200 of `/healthz` (NaN when not waited for). */
  readyMs: number
  /** Everything the process wrote so far (stdout and stderr, interleaved by arrival). */
  output(): string
  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[]
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL and wait: a crash, nothing flushed or closed. */
  kill(): Promise<void>
  exited: Promise<number>
}

const CHILD_ENV_DROP = /^(TELEHOOK_|DATABASE_URL$|PORT$|HOST$|ADMIN_)/

/** Every process started, so that a drill that throws never leaves a server running. */
const spawned = new Set<ReturnType<typeof Bun.spawn>>()
process.once('exit', () => {
  for (const proc of spawned) if (proc.exitCode === null) proc.kill('SIGKILL')
})

/** SIGKILLs every server still running (a drill's `finally`). */
export async function killAll(): Promise<void> {
  for (const proc of spawned) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await proc.exited
  }
  spawned.clear()
}

const MAX_OUTPUT = 8 * 1024 * 1024

/**
 * Starts `bun apps/cli/src/main.ts serve` on `database` (webhook only, no admin API, on
 * 127.0.0.1), with `DRILL_SECRET` as the secret of `POST /webhook`, and waits until `/healthz`
 * answers 200.
 */
export async function serve(database: DrillDatabase, opts: ServeOptions = {}): Promise<Served> {
  const port = opts.port ?? (await freePorts(1))[0] ?? 0
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !CHILD_ENV_DROP.test(k)) env[k] = v
  }
  Object.assign(env, opts.env ?? {})
  const args = [
    process.execPath,
    CLI_MAIN,
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--no-admin',
    '--secret',
    DRILL_SECRET,
    '--handlers',
    opts.handlers ?? 'example',
  ]
  const url = opts.databaseUrl ?? database.databaseUrl
  if (url) args.push('--database-url', url)
  else args.push('--data-dir', database.dataDir)
  const started = performance.now()
  const proc = Bun.spawn(args, { cwd: database.scratch, env, stdout: 'pipe', stderr: 'pipe' })
  spawned.add(proc)
  let out = ''
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    const reader = stream.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (out.length < MAX_OUTPUT) out += decoder.decode(value, { stream: true })
    }
  }
  const pumped = Promise.all([
    pump(proc.stdout as ReadableStream<Uint8Array>),
    pump(proc.stderr as ReadableStream<Uint8Array>),
  ])
  const base = `http://127.0.0.1:${port}`
  const served: Served = {
    proc,
    pid: proc.pid,
    port,
    url: base,
    hook: `${base}/webhook`,
    readyMs: Number.NaN,
    output: () => out,
    logLines: () => parseLogLines(out),
    async stop() {
      proc.kill('SIGTERM')
      const code = await proc.exited
      await pumped
      spawned.delete(proc)
      return code
    },
    async kill() {
      proc.kill('SIGKILL')
      await proc.exited
      await pumped
      spawned.delete(proc)
    },
    exited: proc.exited,
  }
  if (opts.waitHealthy !== false) {
    try {
      await waitUntilHealthy(base, {
        timeoutMs: opts.timeoutMs ?? 120_000,
        intervalMs: 20,
        exitCode: () => proc.exitCode,
        context: () => out.slice(-2000),
      })
    } catch (error) {
      await served.kill()
      throw error
    }
    served.readyMs = Math.round(performance.now() - started)
  }
  return served
}

/** The JSON lines of a server's output (other lines are skipped). */
export function parseLogLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // a line cut by a kill
    }
  }
  return lines
}

/** Resident memory of a process in KiB (Linux /proc), or NaN when unknown. */
export async function rssKb(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`)
    .text()
    .catch(() => '')
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status)
  return match ? Number(match[1]) : Number.NaN
}

// ---------------------------------------------------------------------------------------------
// Deliveries

/** The answer to one delivery; `status` 0 when no HTTP answer came (refused, reset, timed out). */
export interface Answer {
  status: number
  retryAfter: string | null
  body: string
  /** From sending to the end of the answer's body. */
  ms: number
  /** Performance-clock time the answer arrived. */
  at: number
  error?: string
}

/**
 * Posts one form body as Telerivet does and waits for the whole answer (at most `timeoutMs`,
 * default Telerivet's 10 s plus a margin, so that a hang is seen as one).
 */
export async function deliver(
  url: string,
  body: string,
  timeoutMs = TELERIVET_TIMEOUT_MS + 5000,
): Promise<Answer> {
  const start = performance.now()
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await res.text()
    const at = performance.now()
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: text,
      ms: at - start,
      at,
    }
  } catch (error) {
    const at = performance.now()
    return {
      status: 0,
      retryAfter: null,
      body: '',
      ms: at - start,
      at,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }
  }
}

/**
 * Runs `work` over `items` with at most `concurrency` at once; stops taking new items once
 * `stop()` returns true. Resolves when every started item is done.
 */
export async function pool<T>(
  items: Iterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  const it = items[Symbol.iterator]()
  const lane = async () => {
    for (;;) {
      if (stop()) return
      const next = it.next()
      if (next.done) return
      await work(next.value)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane))
}

/** Polls `check` every `intervalMs` until it is true or `timeoutMs` has passed; returns the last value. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const end = performance.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (performance.now() > end) return false
    await Bun.sleep(intervalMs)
  }
}

/** A Telerivet-looking id, unique to this run: `SM` + 16 hex digits by default. */
export function newId(prefix = 'SM'): string {
  return `${prefix}${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
}

/** Fisher–Yates shuffle in place, from `Math.random`. */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const a = items[i] as T
    items[i] = items[j] as T
    items[j] = a
  }
  return items
}

/** Telehook's event rows whose Telerivet id is in `ids` (missing ones are simply absent). */
export async function storedIds(
  database: DrillDatabase,
  ids: Iterable<string>,
): Promise<Set<string>> {
  const list = [...ids]
  const found = new Set<string>()
  for (let i = 0; i < list.length; i += 5000) {
    const chunk = list.slice(i, i + 5000)
    const literal = `'{${chunk.map((id) => `"${id.replace(/[^A-Za-z0-9_-]/g, '')}"`).join(',')}}'`
    const rows = await database.query<{ telerivet_id: string }>(
      `select distinct telerivet_id from telehook.events where telerivet_id = any(${literal}::text[])`,
    )
    for (const row of rows) found.add(row.telerivet_id)
  }
  return found
}

/** `p`-quantile of `values` (0 for none), e.g. p = 0.99. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

/** Counts of each status, as `200:123 503:4`. */
export function statusCounts(answers: readonly Answer[]): string {
  const counts = new Map<number, number>()
  for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1)
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ')
}

/**
 * The body of an `incoming_message` with Telerivet id `id`, from a contact of its own (so that
 * deliveries do not all write one contact row), signed with `DRILL_SECRET`.
 */
export function incomingBody(id: string, over: Record<string, unknown> = {}): string {
  return toBody(
    incomingMessageWire('sms', {
      id,
      contact_id: `CT${id.slice(2)}`,
      contact: { id: `CT${id.slice(2)}`, name: 'Drill', phone_number: '+16505550123' },
      state: undefined,
      content: `drill ${id}`,
      secret: DRILL_SECRET,
      ...over,
    }),
  )
}
