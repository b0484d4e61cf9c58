import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { PGliteOptions } from '@electric-sql/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import {
  bounded,
  type ConnectOptions,
  connectWithin,
  DEFAULT_CONNECT_TIMEOUT_MS,
  StartupAbortedError,
} from './connect'
import { lockDataDir, makeFilesPrivate, syncTree } from './data-lock'
import { migrate } from './migrate'
import { bundledSeed } from './pgdata'
import { PgliteHost, type PgliteReport } from './pglite'
import { type AutovacuumOptions, startAutovacuum } from './pglite-maintenance'
import { DRIZZLE_PGLITE_PARSERS, withInstanceParsers } from './pglite-parsers'
import * as schema from './schema'
import { seedDataDir } from './seed'

/** The Drizzle database, the same type whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

/** An open database with its driver-specific extras. */
export interface Database {
  db: Db
  driver: 'pglite' | 'postgres'
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>
  /** Closes the connections (PostgreSQL: within `closeTimeoutMs`) and frees a PGlite folder. */
  close(): Promise<void>
  /**
   * Subscribes to `NOTIFY channel`; resolves to an unsubscribe function. `onListen` runs each time
   * the LISTEN takes effect: at first, and on PostgreSQL again whenever the driver re-listens on a
   * fresh connection (after a restart), so a caller can look for what was notified in the gap.
   */
  listen?(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>
}

export interface OpenDbOptions extends ConnectOptions {
  /** postgres.js connection string; when absent and neither `dataDir` nor `memory` is given, `DATABASE_URL`. */
  databaseUrl?: string
  /** PGlite data folder (default `TELEHOOK_DATA_DIR`, else `./.telehook`). */
  dataDir?: string
  /** PGlite in memory (tests, throw-away runs). */
  memory?: boolean
  /** Extra PGlite options, e.g. `wasmModule`/`fsBundle` for the compiled binary. */
  pglite?: Record<string, unknown>
  /**
   * PGlite: the gzipped tarball of an initialised data directory (PGlite's `dumpDataDir`, made by
   * the same PGlite version), written into a data folder that has none (or loaded into memory)
   * instead of running initdb. Called only then. Default: the one this package ships
   * (src/pgdata.ts); null runs initdb.
   */
  pgliteSeed?: () => Promise<Uint8Array | null>
  /**
   * PGlite: what autovacuum would do, which PGlite lacks (single-user mode): ANALYZE and VACUUM of
   * the tables past autovacuum's thresholds, looked at every `intervalMs` (default 1000). `false`
   * turns it off. See pglite-maintenance.ts.
   */
  autovacuum?: false | AutovacuumOptions
  /**
   * PGlite: where the reports go when the embedded PostgreSQL dies (a PANIC: a disk turned
   * read-only or full) and while it is started again (default: one line each on stderr).
   */
  log?: (report: PgliteReport) => void
  /** Extra postgres.js options. */
  postgres?: Record<string, unknown>
  /**
   * PostgreSQL: skip the first connection, so openDb resolves even while the server is down and
   * the driver connects on the first query (tests of outages). Implies `migrate: false`.
   */
  lazy?: boolean
  /** Apply pending migrations on open (default true). */
  migrate?: boolean
  /** postgres.js pool size (default 10). */
  maxConnections?: number
  /**
   * postgres.js: how long `close()` lets queries in flight finish before it cuts the connections
   * (default 1000 ms). After an outage a connection may never answer; close still returns then.
   */
  closeTimeoutMs?: number
}

const env = (name: string): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] ||
  undefined

/**
 * Opens the database: postgres.js when a URL is given (or `DATABASE_URL` is set and no PGlite
 * option is), else PGlite in `dataDir` (or in memory). Migrates unless `migrate: false`.
 * On PostgreSQL the first connection is bounded by `connectTimeoutMs` (and retried while `waitMs`
 * lasts): a server that does not answer as PostgreSQL gives a {@link DatabaseConnectError} naming
 * the URL (password hidden) and the cause. Aborting `signal` stops the opening at once
 * ({@link StartupAbortedError}); a PGlite folder being created is finished and closed first.
 * A PGlite data folder is locked while open: a second opener, in this process or another, gets a
 * {@link DataDirLockedError}.
 * @example const database = await openDb({ memory: true })
 */
export async function openDb(opts: OpenDbOptions = {}): Promise<Database> {
  const wantsPglite = opts.memory === true || opts.dataDir !== undefined
  const url = opts.databaseUrl ?? (wantsPglite ? undefined : env('DATABASE_URL'))
  const database = url ? await openPostgres(url, opts) : await openPglite(opts)
  try {
    if (opts.signal?.aborted) throw new StartupAbortedError(opts.signal.reason)
    if (opts.migrate !== false && !opts.lazy) {
      await bounded(migrate(database), null, () => new Error('unreachable'), opts.signal)
    }
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
  return database
}

async function openPostgres(url: string, opts: OpenDbOptions): Promise<Database> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const connect = () =>
    postgres(url, {
      max: opts.maxConnections ?? 10,
      connect_timeout: Math.max(1, Math.ceil(connectTimeoutMs / 1000)),
      // CREATE ... IF NOT EXISTS notices are expected noise.
      onnotice: () => {},
      ...opts.postgres,
    })
  if (opts.lazy) return postgresDatabase(connect(), opts)
  let client: ReturnType<typeof connect> | undefined
  await connectWithin(
    url,
    opts,
    async () => {
      client = connect()
      await client`select 1`
    },
    async () => {
      // A client left alone goes on reconnecting for ever to a server that closes on it.
      const failed = client
      client = undefined
      await failed?.end({ timeout: 0 })
    },
  )
  if (!client) throw new Error('unreachable: connected without a client')
  return postgresDatabase(client, opts)
}

function postgresDatabase(client: postgres.Sql, opts: OpenDbOptions): Database {
  const db = drizzlePostgres({ client, schema, casing: 'snake_case' }) as unknown as Db
  const closeTimeoutMs = opts.closeTimeoutMs ?? 1000
  return {
    db,
    driver: 'postgres',
    async ping() {
      await client`select 1`
    },
    async close() {
      // end() waits for every connection's goodbye, which a black-holed socket never sends; past
      // the timeout it destroys them, so close() is bounded by it.
      await client.end({ timeout: closeTimeoutMs / 1000 })
    },
    async listen(channel, onNotify, onListen) {
      const { unlisten } = await client.listen(channel, onNotify, onListen)
      return unlisten
    },
  }
}

async function openPglite(opts: OpenDbOptions): Promise<Database> {
  const given = (opts.pglite ?? {}) as PGliteOptions
  const options: PGliteOptions = {
    ...given,
    parsers: { ...DRIZZLE_PGLITE_PARSERS, ...given.parsers },
  }
  const dataDir = opts.memory
    ? undefined
    : (opts.dataDir ?? env('TELEHOOK_DATA_DIR') ?? './.telehook')
  // Every opener (server, CLI command, script) takes the folder's lock before PGlite touches it.
  // A lock file that cannot be removed on close (the disk turned read-only) is a warning: one
  // line through `log` when given, else on stderr.
  const log = opts.log
  const release =
    dataDir === undefined
      ? async () => {}
      : await lockDataDir(
          dataDir,
          log
            ? {
                warn: (msg, error) =>
                  log({ level: 'warn', msg, reason: error.message, data_dir: dataDir }),
              }
            : {},
        )
  let host: PgliteHost
  try {
    const seed = opts.pgliteSeed ?? bundledSeed
    if (dataDir !== undefined) await seedDataDir(dataDir, seed)
    else if (!options.loadDataDir) {
      const tar = await seed()
      if (tar) options.loadDataDir = new Blob([tar as Uint8Array<ArrayBuffer>])
    }
    // What is acknowledged must not rest on files that never reached the disk.
    if (dataDir !== undefined) syncTree(dataDir)
    const initdb = dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION'))
    host = await PgliteHost.start({
      ...(dataDir === undefined ? {} : { dataDir }),
      options,
      // PGlite is one session and only the hot path names its statements (see native.ts): a
      // generic plan made once instead of a custom plan per batch (the ingest statement: 4 ms,
      // not 17 ms). Kept right as tables grow by the autovacuum below.
      prepare: (pg) => pg.exec('set plan_cache_mode = force_generic_plan').then(() => {}),
      ...(opts.log ? { log: opts.log } : {}),
    })
    if (dataDir !== undefined) {
      // PGlite's first start writes its initial files as 0666 whatever the umask, and never
      // flushes what its initdb wrote.
      await makeFilesPrivate(dataDir)
      if (initdb) syncTree(dataDir)
    }
  } catch (error) {
    await release()
    throw error
  }
  const client = withInstanceParsers(() => host.current)
  const db = drizzlePglite({ client, schema, casing: 'snake_case' }) as unknown as Db
  const autovacuum =
    opts.autovacuum === false
      ? null
      : startAutovacuum(
          {
            rows: async <T>(q: string) => (await host.current.query<T>(q)).rows,
            exec: async (q) => {
              await host.current.exec(q)
            },
          },
          opts.autovacuum,
        )
  return {
    db,
    driver: 'pglite',
    async ping() {
      await host.current.query('select 1')
    },
    async close() {
      try {
        await autovacuum?.stop()
        await host.close()
      } finally {
        await release()
      }
    },
    listen: (channel, onNotify, onListen) => host.listen(channel, onNotify, onListen),
  }
}
