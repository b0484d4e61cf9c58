/**
 * @module PGlite as Telehook runs it, for the three things PGlite does not do by itself:
 *
 * - Durable commits. PGlite starts PostgreSQL with `-F` (fsync off), and its Node file system
 *   (Emscripten's NODEFS) has no fsync at all: `fsync()` returns success without a system call
 *   and `fdatasync()` is a stub. A commit reached the operating system's cache, never the disk.
 *   Here PostgreSQL runs with fsync on and `wal_sync_method=fsync`, and NODEFS gets an fsync
 *   that calls fdatasync(2) (fsync(2) for a folder) on the real file: a commit returns once its
 *   WAL is on disk, and a failed flush is PostgreSQL's PANIC, never a success.
 * - Bounded memory. PostgreSQL's defaults (128 MB of shared buffers, statistics from samples of
 *   30 000 rows) are sized for a server; in WebAssembly every page PostgreSQL touches stays
 *   resident, since linear memory never shrinks. See {@link PGLITE_SETTINGS}.
 * - A clean stop when PostgreSQL dies. A PANIC (a WAL write or flush that failed: a disk turned
 *   read-only, or full) aborts the WebAssembly instance in the middle of a commit. PGlite catches
 *   the abort and runs the next query in the broken instance, which spins for ever inside
 *   WebAssembly (a lock the aborted code held is never released): the thread is blocked, no
 *   answer, SIGTERM never handled. Here an instance is fenced off at its first fatal error: every
 *   call fails at once with a {@link PgliteUnavailableError}, and a new instance is started on the
 *   same folder (PostgreSQL's crash recovery) with backoff until one comes up.
 */
import { closeSync, fdatasyncSync, fsyncSync } from 'node:fs'
import { PGlite, type PGliteOptions } from '@electric-sql/pglite'
import { NodeFS } from '@electric-sql/pglite/nodefs'

/**
 * PostgreSQL settings of every PGlite instance (after PGlite's own start parameters, minus `-F`).
 * Measured in packages/db/README.md.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  // The WAL is flushed with fsync(), the call that reaches NODEFS (see DurableNodeFS).
  wal_sync_method: 'fsync',
  // 128 MB by default, allocated and zeroed at start: 120 MB more RSS. The data folder's pages
  // stay in the operating system's cache; throughput was the same with 8, 16 and 32 MB.
  shared_buffers: '8MB',
  // Shared memory is sized for this many backends (locks, PGPROCs…); PGlite runs one.
  // 100 + 16 autovacuum slots + 10 WAL senders by default: 4 MB more at start.
  max_connections: '5',
  autovacuum_worker_slots: '1',
  max_wal_senders: '0',
  max_replication_slots: '0',
  // ANALYZE keeps its sample rows in memory: with 100, a 50 000-event table added 61 MB of
  // WebAssembly memory for good (and took 0.5–0.7 s); with 10 (3 000 sample rows), 5 MB and 0.2 s.
  default_statistics_target: '10',
  // VACUUM's list of dead rows and index builds; 64 MB by default.
  maintenance_work_mem: '16MB',
}

/** PGlite's own start parameters with fsync on, then {@link PGLITE_SETTINGS}. */
export function pgliteStartParams(): string[] {
  const params = PGlite.defaultStartParams.filter((p) => p !== '-F')
  for (const [name, value] of Object.entries(PGLITE_SETTINGS)) params.push('-c', `${name}=${value}`)
  return params
}

/** Flushes an open file (`directory`: a folder) to disk; throws a Node error when it cannot. */
export type SyncFile = (fd: number, directory: boolean) => void

const syncFile: SyncFile = (fd, directory) => (directory ? fsyncSync(fd) : fdatasyncSync(fd))

/** The parts of Emscripten's module and NODEFS this file reaches into. */
interface NodeFsStream {
  nfd?: number
  node?: { mode: number }
}
interface EmscriptenModule {
  NODEFS: {
    stream_ops: Record<string, unknown>
    tryFSOperation<T>(f: () => T): T
  }
  FS: { streams: (NodeFsStream | null | undefined)[] }
  onAbort?: (what: unknown) => void
  _PostgresMainLoopOnce(): void
  _PostgresMainLongJmp(): void
  _PostgresSendReadyForQueryIfNecessary(): void
  _pgl_pq_flush(): void
  _pq_buffer_remaining_data(): number
}

const S_IFMT = 0o170000
const S_IFDIR = 0o040000

/**
 * NODEFS mounted on `dataDir`, with an fsync that reaches the disk. A failure comes back to
 * PostgreSQL as its errno (NODEFS's own conversion), and PostgreSQL PANICs on it.
 */
export class DurableNodeFS extends NodeFS {
  constructor(
    dataDir: string,
    private readonly sync: SyncFile = syncFile,
  ) {
    super(dataDir)
  }

  override async init(...args: Parameters<NodeFS['init']>): ReturnType<NodeFS['init']> {
    const { emscriptenOpts } = await super.init(...args)
    const addFsync = (mod: unknown) => {
      const nodefs = (mod as EmscriptenModule).NODEFS
      nodefs.stream_ops.fsync = (stream: NodeFsStream) => {
        const fd = stream.nfd
        if (fd === undefined) return 0
        const directory = ((stream.node?.mode ?? 0) & S_IFMT) === S_IFDIR
        nodefs.tryFSOperation(() => this.sync(fd, directory))
        return 0
      }
    }
    const preRun = [...(emscriptenOpts.preRun ?? []), addFsync] as typeof emscriptenOpts.preRun
    return { emscriptenOpts: { ...emscriptenOpts, preRun } }
  }
}

/** The embedded database is down (PostgreSQL died) or could not be started again yet. */
export class PgliteUnavailableError extends Error {
  override name = 'PgliteUnavailableError'
}

/** PGlite's signal for an ERROR: PostgreSQL jumps back to its main loop (exit status 100). */
const isMainLoopJump = (error: unknown) =>
  (error as { name?: string; status?: number } | null)?.name === 'ExitStatus' &&
  (error as { status?: number }).status === 100

/** What a fatal error says: the PANIC/FATAL line PostgreSQL printed, else the error itself. */
function describe(error: unknown, lastLine: string | null): string {
  if (lastLine) return lastLine
  const e = error as { name?: string; status?: number; message?: string } | null
  if (e?.name === 'ExitStatus') return `PostgreSQL exited with status ${e.status}`
  return e?.message || String(error)
}

/** The PANIC or FATAL part of a line PostgreSQL printed, or null. */
function fatalLine(line: string): string | null {
  const at = line.search(/\b(PANIC|FATAL):/)
  return at < 0 ? null : line.slice(at).replace(/\s+/g, ' ').trim()
}

/**
 * Fences off `pg` at its first fatal error (an abort, or an exit other than PGlite's ERROR jump):
 * the call that met it throws, and so does every later call, before reaching WebAssembly.
 * `died` gets the reason once. Returns the handler of PostgreSQL's stderr lines, which keeps the
 * PANIC line PostgreSQL prints before it aborts, for the reason.
 */
function guard(
  pg: PGlite,
  died: (reason: string) => void,
  unavailable: () => Error,
): (line: string) => void {
  const mod = pg.Module as unknown as EmscriptenModule
  const raw = pg.execProtocolRawSync.bind(pg)
  let dead = false
  let lastLine: string | null = null
  const die = (error: unknown) => {
    if (dead) return
    dead = true
    fenced.add(pg)
    died(describe(error, lastLine))
  }
  const loopOnce = mod._PostgresMainLoopOnce
  const longJmp = mod._PostgresMainLongJmp
  const sendReady = mod._PostgresSendReadyForQueryIfNecessary
  const flush = mod._pgl_pq_flush
  const remaining = mod._pq_buffer_remaining_data
  // PGlite's loop catches every error of one step and goes on while input remains: a dead
  // instance answers its next step with an ERROR jump, and the jump with the reason, which ends
  // the loop; nothing else of the instance is called.
  mod._PostgresMainLoopOnce = () => {
    if (dead) throw Object.assign(new Error('PGlite instance is dead'), { status: 100 })
    try {
      loopOnce()
    } catch (error) {
      if (!isMainLoopJump(error)) die(error)
      throw error
    }
  }
  mod._PostgresMainLongJmp = () => {
    if (dead) throw unavailable()
    longJmp()
  }
  mod._PostgresSendReadyForQueryIfNecessary = () => {
    if (!dead) sendReady()
  }
  mod._pgl_pq_flush = () => {
    if (!dead) flush()
  }
  mod._pq_buffer_remaining_data = () => (dead ? 0 : remaining())
  mod.onAbort = (what) => die(new Error(`aborted ${String(what)}`))
  // Whatever a call into a dying instance returned is not an answer.
  ;(pg as unknown as { execProtocolRawSync(m: Uint8Array): Uint8Array }).execProtocolRawSync = (
    message,
  ) => {
    if (dead) throw unavailable()
    const out = raw(message)
    if (dead) throw unavailable()
    return out
  }
  return (line) => {
    lastLine = fatalLine(line) ?? lastLine
  }
}

/** Instances fenced off by {@link guard}: never called into again, not even to close them. */
const fenced = new WeakSet<PGlite>()

/** Closes an instance, or only lets go of its files when it is dead. */
async function shut(pg: PGlite): Promise<void> {
  if (fenced.has(pg)) return releaseFiles(pg)
  await pg.close().catch(() => releaseFiles(pg))
}

/** Closes the host files a dead instance still holds (it cannot be closed the normal way). */
function releaseFiles(pg: PGlite): void {
  const streams = (pg.Module as unknown as EmscriptenModule | undefined)?.FS?.streams ?? []
  for (const stream of streams) {
    if (stream?.nfd === undefined) continue
    try {
      closeSync(stream.nfd)
    } catch {}
    stream.nfd = undefined
  }
}

export interface PgliteHostOptions {
  /** The data folder; in memory when absent. */
  dataDir?: string
  /** PGlite options (wasm modules, parsers…); `startParams` replaces {@link pgliteStartParams}. */
  options: PGliteOptions
  /** Runs on each new instance before it is used (session settings). */
  prepare?: (pg: PGlite) => Promise<void>
  /**
   * Where the reports of a death and of restarts go (default: one line each on stderr, see
   * {@link pgliteReportLine}); a service passes them to its JSON logger.
   */
  log?: (report: PgliteReport) => void
  /** The flush of a file to disk (default fdatasync/fsync); replaced in tests to inject failures. */
  sync?: SyncFile
}

/**
 * A report of the embedded PostgreSQL: it stopped (a PANIC: the disk turned read-only or full), a
 * restart failed, it is back; or, on close, its folder's lock file stayed behind (a warning, see
 * `lockDataDir`). `msg` is the whole sentence; the other fields are its parts.
 */
export interface PgliteReport {
  level: 'error' | 'warn' | 'info'
  msg: string
  /** Why it stopped (PostgreSQL's PANIC line), or why the lock file stayed (the file error). */
  reason: string
  /** The data folder, or `memory`. */
  data_dir: string
  /** Why the last restart failed. */
  error?: string
  /** When the next restart is tried. */
  retry_in_s?: number
  /** How long it was down. */
  down_s?: number
}

/** The one line a report makes on stderr when no logger takes it. */
export const pgliteReportLine = (report: PgliteReport): string => `telehook: ${report.msg}`

interface Listener {
  channel: string
  onNotify: (payload: string) => void
  onListen?: () => void
}

const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 10_000

/**
 * One PGlite database over its lifetime: the current instance, and a new one started on the same
 * folder when the current one dies. While none is up, every call fails at once with a
 * {@link PgliteUnavailableError} naming the cause.
 */
export class PgliteHost {
  private instance: PGlite
  private down: {
    reason: string
    since: number
    retryMs: number
    lastError: string | null
  } | null = null
  private restarting: Promise<void> | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private readonly listeners = new Set<Listener>()

  private constructor(
    private readonly opts: PgliteHostOptions,
    first: PGlite,
  ) {
    this.instance = first
  }

  /** Starts the first instance; rejects when it cannot start. */
  static async start(opts: PgliteHostOptions): Promise<PgliteHost> {
    const holder: { host?: PgliteHost } = {}
    const first = await PgliteHost.spawn(opts, {
      died: (pg, reason) => holder.host?.died(pg, reason),
      unavailable: () => holder.host?.unavailable() ?? new PgliteUnavailableError('PGlite stopped'),
    })
    holder.host = new PgliteHost(opts, first)
    return holder.host
  }

  /** The instance to use now (a fenced-off one while down: its calls throw). */
  get current(): PGlite {
    return this.instance
  }

  /** Null while up, else why not. */
  get unavailableReason(): string | null {
    return this.down ? this.unavailable().message : null
  }

  private static async spawn(
    opts: PgliteHostOptions,
    hooks: { died(pg: PGlite, reason: string): void; unavailable(): Error },
  ): Promise<PGlite> {
    const given = opts.options
    let startupLine: string | null = null
    let onLine = (line: string) => {
      startupLine = fatalLine(line) ?? startupLine
    }
    const pg = new PGlite({
      ...given,
      startParams: given.startParams ?? pgliteStartParams(),
      ...(opts.dataDir === undefined ? {} : { fs: new DurableNodeFS(opts.dataDir, opts.sync) }),
      onStderr: (text) => {
        onLine(text)
        return given.onStderr?.(text) ?? false
      },
    })
    try {
      await pg.waitReady
    } catch (error) {
      if (pg.Module) releaseFiles(pg)
      const why = startupLine ?? (error instanceof Error ? error.message : String(error))
      throw new PgliteUnavailableError(`PGlite could not start: ${why}`, { cause: error })
    }
    onLine = guard(pg, (reason) => hooks.died(pg, reason), hooks.unavailable)
    try {
      await opts.prepare?.(pg)
    } catch (error) {
      await shut(pg)
      throw error
    }
    return pg
  }

  /** Where the data lives, as the reports and errors name it. */
  private get where(): string {
    return this.opts.dataDir ?? 'memory'
  }

  private log(report: PgliteReport): void {
    if (this.opts.log) this.opts.log(report)
    else console.error(pgliteReportLine(report))
  }

  /** The error every call gets while down: the cause, and what is being done about it. */
  unavailable(): PgliteUnavailableError {
    const down = this.down
    if (!down) return new PgliteUnavailableError('PGlite stopped')
    const next = down.lastError ? `; restart failed: ${down.lastError}` : ''
    return new PgliteUnavailableError(
      `the embedded database stopped: ${down.reason}${next}; restarting it (data in ${this.where})`,
    )
  }

  private died(pg: PGlite, reason: string): void {
    if (pg !== this.instance || this.down || this.closed) return
    this.down = { reason, since: Date.now(), retryMs: FIRST_RETRY_MS, lastError: null }
    const dataDir = this.where
    this.log({
      level: 'error',
      msg: `PGlite stopped: ${reason}; nothing more is acknowledged until it is back; starting it again on ${dataDir} (crash recovery)`,
      reason,
      data_dir: dataDir,
    })
    releaseFiles(pg)
    this.schedule()
  }

  private schedule(): void {
    const down = this.down
    if (!down || this.closed) return
    this.timer = setTimeout(() => {
      this.restarting = this.restart().finally(() => {
        this.restarting = null
      })
    }, down.retryMs)
    this.timer.unref?.()
  }

  private async restart(): Promise<void> {
    const down = this.down
    if (!down || this.closed) return
    let next: PGlite
    try {
      next = await PgliteHost.spawn(this.opts, {
        died: (pg, reason) => this.died(pg, reason),
        unavailable: () => this.unavailable(),
      })
    } catch (error) {
      down.lastError = error instanceof Error ? error.message : String(error)
      const retryInS = Number((down.retryMs / 1000).toFixed(1))
      this.log({
        level: 'error',
        msg: `PGlite restart failed: ${down.lastError}; next attempt in ${retryInS.toFixed(1)} s`,
        reason: down.reason,
        data_dir: this.where,
        error: down.lastError,
        retry_in_s: retryInS,
      })
      down.retryMs = Math.min(down.retryMs * 2, MAX_RETRY_MS)
      this.schedule()
      return
    }
    if (this.closed) {
      await shut(next)
      return
    }
    // An in-memory database comes back empty: only a data folder survives a restart.
    this.instance = next
    this.down = null
    const downS = Number(((Date.now() - down.since) / 1000).toFixed(1))
    this.log({
      level: 'info',
      msg: `PGlite is back after ${downS.toFixed(1)} s (it had stopped: ${down.reason})`,
      reason: down.reason,
      data_dir: this.where,
      down_s: downS,
    })
    for (const l of this.listeners) {
      try {
        await next.listen(l.channel, l.onNotify)
        l.onListen?.()
      } catch {}
    }
  }

  /**
   * Subscribes to `NOTIFY channel` on the current instance and on every later one; `onListen`
   * runs each time the LISTEN takes effect, so the caller can look for what it missed.
   */
  async listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>> {
    const listener: Listener = { channel, onNotify, ...(onListen ? { onListen } : {}) }
    await this.instance.listen(channel, onNotify)
    this.listeners.add(listener)
    onListen?.()
    return async () => {
      this.listeners.delete(listener)
      if (!this.down && !this.instance.closed) await this.instance.unlisten(channel, onNotify)
    }
  }

  /** Closes the current instance (a dead one only lets go of its files). */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.restarting
    if (!this.instance.closed) await shut(this.instance)
  }
}
