/** @module `telehook serve`: the webhook app, the admin API and the job worker in one process. */
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  adminFetch,
  createAdminApp,
  createFirstAdminToken,
  loadMasterKey,
  verifyStoredApiKeys,
} from '@telehook/admin'
import {
  type Database,
  DatabaseConnectError,
  openDb,
  type PgliteReport,
  readOrCreateKeyFile,
  StartupAbortedError,
} from '@telehook/db'
import {
  createJsonLogger,
  createRetention,
  drainServer,
  type Engine,
  pgliteReportsTo,
  stopBudget,
  stopEach,
  stopTogether,
} from '@telehook/engine'
import { generateSecret, type Handlers } from '@telehook/protocol'
import {
  assembleWebhook,
  handlersFor,
  metricsHandler,
  type SingleSecret,
  startWebhookServer,
  type WebhookMetrics,
} from '@telehook/webhook'
import type { DbConfig } from './args.ts'
import { listeningOn, localOrigin, webhookBanner } from './banner.ts'
import type { ServeConfig } from './config.ts'
import { loadHandlerModule } from './handlers.ts'
import { pgdataSeed, pgliteAssets } from './pglite-embedded.ts'
import { startWorkerRole } from './roles.ts'

/** Where output goes; tests pass their own to capture it. */
export interface Io {
  out(line: string): void
  err(line: string): void
  cwd: string
  /**
   * The directory the user ran the command in, for relative handler paths (default `cwd`):
   * under `bun run dev` the process runs in apps/cli, not where its user is.
   */
  invokedFrom?: string
  /** Where the JSON log lines go (default: stdout). */
  log?(line: string): void
  /** Whether `err` is a terminal: generated secrets are printed only then (default false). */
  terminal?: boolean
}

/** A running `telehook serve`. */
export interface RunningServer {
  /** Null when this process does not run the webhook role. */
  webhookUrl: string | null
  adminUrl: string | null
  database: Database
  stop(): Promise<void>
}

/**
 * Opens the database named by `db` — PostgreSQL for a URL, else PGlite in the data folder with
 * its WebAssembly and file bundle taken from the binary (`openDb` holds the folder's lock until
 * closed) — and applies the migrations.
 */
export async function openConfiguredDb(
  db: DbConfig,
  {
    migrate = true,
    signal,
    err,
    log,
  }: {
    migrate?: boolean
    signal?: AbortSignal
    err?: (line: string) => void
    /** Where PGlite's reports go (it stopped, it is back); default one line each on stderr. */
    log?: (report: PgliteReport) => void
  } = {},
): Promise<Database> {
  if (db.databaseUrl) {
    try {
      return await openDb({
        databaseUrl: db.databaseUrl,
        migrate,
        signal,
        connectTimeoutMs: db.connectTimeoutMs,
        waitMs: db.waitForDbMs,
        onRetry: (r) =>
          err?.(
            `telehook: waiting for PostgreSQL (${db.urlSource ?? 'DATABASE_URL'}=${r.url}), attempt ${r.attempt} failed, next in ${(r.retryInMs / 1000).toFixed(1)} s: ${r.reason}`,
          ),
      })
    } catch (error) {
      if (error instanceof DatabaseConnectError) {
        // Name the setting, so the user knows what to change.
        throw new Error(
          `${db.urlSource ?? 'DATABASE_URL'}: cannot connect to ${error.url}: ${error.reason}`,
        )
      }
      throw error
    }
  }
  return openDb({
    dataDir: db.dataDir,
    pglite: { ...(await pgliteAssets()) },
    pgliteSeed: pgdataSeed,
    migrate,
    signal,
    ...(log ? { log } : {}),
  })
}

/** The handlers `spec` names: `example`, `none`, or a module path relative to `cwd`. */
export function resolveHandlers(
  spec: string,
  cwd: string,
  setting?: string,
): Promise<Handlers | undefined> {
  return handlersFor(spec, (path) => loadHandlerModule(path, cwd, setting))
}

/** Writes `value` to `<dir>/<name>`, readable by this user only, replacing an older one. */
async function handOver(dir: string, name: string, value: string): Promise<string> {
  const path = join(dir, name)
  await rm(path, { force: true })
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
  return path
}

/** `webhook, admin, worker` as configured. */
function roleNames(config: ServeConfig): string {
  const names = [
    config.webhookRole && 'webhook',
    config.admin && 'admin',
    config.worker && 'worker',
  ]
  return names.filter(Boolean).join(', ')
}

/**
 * Starts the roles `config` asks for (webhook receiver, admin API, worker) and returns once their
 * ports listen. On PGlite, a webhook
 * secret or an admin token that is not configured is generated once and kept (mode 0600) in the
 * data folder. On PostgreSQL the secret and the master key must be configured (checked before),
 * and an unconfigured admin token is made once for the database, stored hashed in `admin_tokens`.
 */
export async function startServer(
  config: ServeConfig,
  io: Io,
  signal?: AbortSignal,
): Promise<RunningServer> {
  // Absolute, so the printed paths (and the curl that reads the kept secret) work from any folder:
  // `bun run dev` runs in apps/cli while its user's shell is at the repository root.
  const dataDir = resolve(io.cwd, config.webhook.dataDir)
  const wh = { ...config.webhook, dataDir }
  const adminConfig = config.admin
  // User code first: a broken module should fail before the database is touched.
  const handlers = await resolveHandlers(
    config.handlers,
    io.invokedFrom ?? io.cwd,
    config.handlersSetting,
  )
  const logger = createJsonLogger(io.log, { level: config.webhook.logLevel })
  const database = await openConfiguredDb(
    { ...config.db, dataDir },
    { signal, err: io.err, log: pgliteReportsTo(logger) },
  )
  const stops: (() => unknown)[] = []
  // Within the budget: servers drain while the workers stop, then the database closes.
  const budget = stopBudget(config.webhook.stopTimeoutMs)
  /** Aborted when the stop begins: the console's live logs end instead of holding the drain. */
  const stopBegun = new AbortController()
  const stopAll = () => {
    stopBegun.abort()
    return stopEach([() => stopTogether(stops), () => database.close()])
  }
  try {
    const aborted = () => {
      if (signal?.aborted) throw new StartupAbortedError(signal.reason)
    }
    aborted()
    let workerBanner: string | null = null
    if (config.worker) {
      const workerRole = await startWorkerRole({
        database,
        handlers,
        logger,
        env: config.env,
        dataDir: wh.dataDir,
        stopTimeoutMs: budget.totalMs,
      })
      stops.push(() => workerRole.stop())
      workerBanner = workerRole.banner
      if (wh.retentionDays > 0) {
        // Beside the worker: every instance may run it, batches skip rows another one has locked.
        const retention = createRetention({
          database,
          maxAgeMs: wh.retentionDays * 86_400_000,
          logger,
        })
        retention.start()
        stops.push(() => retention.stop())
      }
    }
    aborted()
    let engine: Engine | undefined
    let metrics: WebhookMetrics | undefined
    let webhook: { port: number; secret: SingleSecret | null } | null = null
    if (config.webhookRole) {
      const parts = await assembleWebhook(wh, database, { handlers, logger, worker: false })
      stops.push(parts.stop)
      engine = parts.engine
      metrics = parts.metrics
      aborted()
      const server = startWebhookServer(parts.app, {
        port: wh.port,
        hostname: wh.host,
        bodyLimit: wh.bodyLimit,
        logger,
      })
      stops.push(() => server.stop(budget.drainMs))
      webhook = { port: server.port, secret: parts.secret }
    }
    const webhookUrl = webhook ? localOrigin(wh.host, webhook.port) : null

    let adminUrl: string | null = null
    const banner: string[] = []
    if (adminConfig) {
      let adminToken = adminConfig.adminToken
      if (!adminToken && config.db.databaseUrl) {
        // Shared database: a token file on this machine would be accepted by this instance only.
        // The first token goes to admin_tokens (hashed), where every instance looks.
        const created = await createFirstAdminToken(database)
        if (created && io.terminal) {
          banner.push(
            `Generated an admin token (shown once; only its hash is stored, in admin_tokens, so every instance on this database accepts it): ${created}`,
          )
        } else if (created) {
          // Not into logs: handed over in a file readable by this user only.
          const file = await handOver(wh.dataDir, 'first-admin-token', created)
          banner.push(
            `Generated an admin token (only its hash is stored, in admin_tokens, so every instance on this database accepts it); its value is in ${file}: read it, then delete the file`,
          )
        } else {
          banner.push(
            'Admin tokens: the ones in admin_tokens (`telehook token create` makes one; TELEHOOK_ADMIN_TOKEN adds one)',
          )
        }
      } else if (!adminToken) {
        const file = await readOrCreateKeyFile(
          wh.dataDir,
          'admin-token',
          () => `thk_${generateSecret(32)}`,
        )
        adminToken = file.value
        if (file.created && io.terminal) {
          banner.push(`Generated an admin token (kept in ${file.path}): ${file.value}`)
        } else if (file.created) {
          banner.push(`Generated an admin token, kept in ${file.path} (not printed into logs)`)
        } else banner.push(`Admin token: the one kept in ${file.path}`)
      }
      // The webhook's counters, when this process receives webhooks.
      const renderMetrics = metrics && engine ? metricsHandler({ metrics, engine }) : null
      const masterKey = await loadMasterKey({ env: config.env, dataDir: wh.dataDir })
      // A wrong master key is one line now, not a 500 on the first Telerivet call.
      const keys = await verifyStoredApiKeys(database, masterKey)
      if (keys.problem) throw new Error(keys.problem)
      const admin = createAdminApp({
        database,
        engine,
        handlers,
        publicUrl: adminConfig.publicUrl ?? localOrigin(wh.host, webhook?.port ?? wh.port),
        telerivetApiUrl: adminConfig.telerivetApiUrl,
        adminToken,
        allowedHosts: adminConfig.allowedHosts,
        masterKey,
        // The webhook's counters, on the private port behind the admin token.
        ...(renderMetrics ? { metrics: () => renderMetrics().text() } : {}),
        logger,
        stopping: stopBegun.signal,
      })
      const adminServer = Bun.serve({
        hostname: adminConfig.host,
        port: adminConfig.port,
        // Production mode: an error never gets Bun's development page (stack, paths, source).
        development: false,
        // adminFetch hands the app the client's address: failed tokens are limited per address.
        fetch: adminFetch(admin),
        error: () => new Response('Internal error', { status: 500 }),
      })
      // What is still open at the end of the drain (a body that stops arriving) is closed then.
      stops.push(() => drainServer(adminServer, budget.drainMs, { logger, what: 'admin' }))
      const adminPort = adminServer.port ?? adminConfig.port
      adminUrl = localOrigin(adminConfig.host, adminPort)
      banner.push(
        `Admin API listening on ${listeningOn(adminConfig.host, adminPort)} (Authorization: Bearer <token>)`,
      )
    }

    const where = config.db.databaseUrl ? 'PostgreSQL' : `PGlite in ${dataDir}`
    const lines = webhook
      ? webhookBanner({
          host: wh.host,
          port: webhook.port,
          where,
          secret: webhook.secret,
          terminal: io.terminal === true,
        })
      : [`Telehook on ${where} (roles: ${roleNames(config)})`]
    if (workerBanner) banner.push(workerBanner)
    if (config.worker && wh.retentionDays > 0) {
      banner.push(
        `Retention: stored events older than ${wh.retentionDays} days are deleted (hourly; the mirror is kept)`,
      )
    }
    io.err([...lines, ...banner].join('\n'))
    logger.debug?.({
      msg: 'started',
      webhook: webhook ? listeningOn(wh.host, webhook.port) : null,
      admin: adminUrl,
      driver: database.driver,
      worker: config.worker,
      handlers: config.handlers,
    })

    let stopping: Promise<void> | null = null
    return {
      webhookUrl,
      adminUrl,
      database,
      stop() {
        stopping ??= stopAll()
        return stopping
      },
    }
  } catch (error) {
    await stopAll().catch(() => {})
    throw error
  }
}
