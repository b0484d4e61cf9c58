/** @module `telehook serve`: the webhook app, the admin API and the job worker in one process. */
import { resolve } from 'node:path'
import { createAdminApp, createFirstAdminToken, loadMasterKey } from '@telehook/admin'
import { type Database, openDb, readOrCreateKeyFile } from '@telehook/db'
import { createJsonLogger } from '@telehook/engine'
import { generateSecret, type Handlers } from '@telehook/protocol'
import {
  assembleWebhook,
  displayOrigin,
  handlersFor,
  startBanner,
  startWebhookServer,
} from '@telehook/webhook'
import type { DbConfig } from './args.ts'
import type { ServeConfig } from './config.ts'
import { loadHandlerModule } from './handlers.ts'
import { pgliteAssets } from './pglite-embedded.ts'

/** Where output goes; tests pass their own to capture it. */
export interface Io {
  out(line: string): void
  err(line: string): void
  cwd: string
  /** Where the JSON log lines go (default: stdout). */
  log?(line: string): void
}

/** A running `telehook serve`. */
export interface RunningServer {
  webhookUrl: string
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
  { migrate = true }: { migrate?: boolean } = {},
): Promise<Database> {
  if (db.databaseUrl) return openDb({ databaseUrl: db.databaseUrl, migrate })
  return openDb({ dataDir: db.dataDir, pglite: { ...(await pgliteAssets()) }, migrate })
}

/** The handlers `spec` names: `example`, `none`, or a module path relative to `cwd`. */
export function resolveHandlers(spec: string, cwd: string): Promise<Handlers | undefined> {
  return handlersFor(spec, (path) => loadHandlerModule(path, cwd))
}

/**
 * Starts everything `config` asks for and returns once both ports listen. On PGlite, a webhook
 * secret or an admin token that is not configured is generated once and kept (mode 0600) in the
 * data folder. On PostgreSQL the secret and the master key must be configured (checked before),
 * and an unconfigured admin token is made once for the database, stored hashed in `admin_tokens`.
 */
export async function startServer(config: ServeConfig, io: Io): Promise<RunningServer> {
  // Absolute, so the printed paths (and the curl that reads the kept secret) work from any folder:
  // `bun run dev` runs in apps/cli while its user's shell is at the repository root.
  const dataDir = resolve(io.cwd, config.webhook.dataDir)
  const wh = { ...config.webhook, dataDir }
  const adminConfig = config.admin
  // User code first: a broken module should fail before the database is touched.
  const handlers = await resolveHandlers(config.handlers, io.cwd)
  const database = await openConfiguredDb({ ...config.db, dataDir })
  const logger = createJsonLogger(io.log)
  const stops: (() => Promise<void> | void)[] = []
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop()
    await database.close()
  }
  try {
    const { engine, app, secret, stop } = await assembleWebhook(wh, database, {
      handlers,
      logger,
      worker: config.worker,
    })
    stops.push(stop)
    const server = startWebhookServer(app, {
      port: wh.port,
      hostname: wh.host,
      bodyLimit: wh.bodyLimit,
    })
    stops.push(() => server.stop())
    const webhookUrl = displayOrigin(wh.host, server.port)

    let adminUrl: string | null = null
    if (adminConfig) {
      let adminToken = adminConfig.adminToken
      if (!adminToken && config.db.databaseUrl) {
        // Shared database: a token file on this machine would be accepted by this instance only.
        // The first token goes to admin_tokens (hashed), where every instance looks.
        const created = await createFirstAdminToken(database)
        if (created) {
          io.err(
            `Generated an admin token (shown once; only its hash is stored, in admin_tokens, so every instance on this database accepts it): ${created}`,
          )
        } else {
          io.err(
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
        if (file.created) io.err(`Generated an admin token (kept in ${file.path}): ${file.value}`)
        else io.err(`Admin token: the one kept in ${file.path}`)
      }
      const admin = createAdminApp({
        database,
        engine,
        handlers,
        publicUrl: adminConfig.publicUrl ?? webhookUrl,
        telerivetApiUrl: adminConfig.telerivetApiUrl,
        adminToken,
        allowedHosts: adminConfig.allowedHosts,
        masterKey: await loadMasterKey({ env: config.env, dataDir: wh.dataDir }),
        logger,
      })
      const adminServer = Bun.serve({
        hostname: adminConfig.host,
        port: adminConfig.port,
        // Production mode: an error never gets Bun's development page (stack, paths, source).
        development: false,
        fetch: (request) => admin.fetch(request),
        error: () => new Response('Internal error', { status: 500 }),
      })
      stops.push(() => adminServer.stop())
      adminUrl = displayOrigin(adminConfig.host, adminServer.port ?? adminConfig.port)
    }

    const where = config.db.databaseUrl ? 'PostgreSQL' : `PGlite in ${dataDir}`
    const lines = startBanner(webhookUrl, where, secret)
    if (adminUrl) lines.push(`Admin API on ${adminUrl} (Authorization: Bearer <token>)`)
    io.err(lines.join('\n'))

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
