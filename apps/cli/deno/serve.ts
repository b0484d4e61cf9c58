/// <reference lib="deno.ns" />
/**
 * @module Telehook on Deno: the webhook receiver, the admin API (`TELEHOOK_ROLE` with `admin`) and
 * the worker (async handlers and forwarding) over the same engine and database as `telehook
 * serve`, HTTP on `Deno.serve(app.fetch)` (see README "Deno").
 *
 *   DATABASE_URL=postgres://… deno run --no-check --allow-net --allow-env --allow-read \
 *     --allow-write --allow-sys apps/cli/deno/serve.ts
 */
import { openDb } from '@telehook/db'
import {
  createJsonLogger,
  drainServer,
  type Engine,
  type Logger,
  stopBudget,
  stopOnSignals,
} from '@telehook/engine'
import {
  assembleWebhook,
  ConfigError,
  handlersFor,
  loadHandlers,
  loadWebhookConfig,
} from '@telehook/webhook'
import { parseRoles, type Role, UsageError } from '../src/args.ts'
import { localOrigin, webhookBanner } from '../src/banner.ts'
import { checkForwarderConfig, loadForwardingKey, startWorkerRole } from '../src/roles.ts'

/** The admin settings, read with the admin app's own loader; its errors become usage errors. */
function loadAdminConfig(
  admin: typeof import('@telehook/admin'),
  env: Record<string, string | undefined>,
) {
  try {
    return admin.loadAdminConfig(env)
  } catch (error) {
    if (error instanceof admin.AdminConfigError) throw new UsageError(error.problems.join('; '))
    throw error
  }
}

/** Telehook's roles listening on Deno. */
export interface DenoServer {
  /** The webhook receiver's origin; null without the webhook role. */
  url: string | null
  /** The admin API's origin; null without the admin role. */
  adminUrl: string | null
  /** How long stop() may take in all (`TELEHOOK_STOP_TIMEOUT_MS`). */
  stopTimeoutMs: number
  stop(): Promise<void>
}

/**
 * Starts the roles `TELEHOOK_ROLE` names (default `webhook,worker`; `admin` serves the admin API
 * on `ADMIN_HOST:ADMIN_PORT`) from an environment (the variables of `telehook serve`), each HTTP
 * role on `Deno.serve`. The worker role runs the async handlers and forwarding.
 */
export async function startOnDeno(
  env: Record<string, string | undefined>,
  { logger }: { logger?: Logger } = {},
): Promise<DenoServer & { banner: string }> {
  const roles = env.TELEHOOK_ROLE?.trim()
    ? parseRoles(env.TELEHOOK_ROLE, 'TELEHOOK_ROLE')
    : new Set<Role>(['webhook', 'worker'])
  const config = loadWebhookConfig(env)
  // Loaded only for the admin role: the admin app's docs page is Bun-only for now (a `file`
  // import and Bun.file), so importing it would stop the other roles from running on Deno.
  const adminModule = roles.has('admin') ? await import('@telehook/admin') : null
  const adminConfig = adminModule ? loadAdminConfig(adminModule, env) : null
  if (roles.has('worker')) checkForwarderConfig(env)
  logger ??= createJsonLogger(undefined, { level: config.logLevel })
  // Same words as `telehook serve --handlers`: the bundled bot, no handlers, or a module path.
  const handlers = await handlersFor(config.handlersPath, loadHandlers)
  const database = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    connectTimeoutMs: config.connectTimeoutMs,
    waitMs: config.waitForDbMs,
    onRetry: (r) =>
      console.error(
        `telehook: waiting for PostgreSQL (DATABASE_URL=${r.url}), attempt ${r.attempt} failed: ${r.reason}`,
      ),
  })
  const ac = new AbortController()
  const budget = stopBudget(config.stopTimeoutMs)
  const servers: Deno.HttpServer[] = []
  const stops: (() => Promise<unknown>)[] = []
  const lines: string[] = []
  const where = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`
  let url: string | null = null
  let adminUrl: string | null = null
  try {
    if (roles.has('worker')) {
      const worker = await startWorkerRole({
        database,
        handlers,
        logger,
        env,
        dataDir: config.dataDir,
        stopTimeoutMs: budget.totalMs,
      })
      stops.push(() => worker.stop())
      lines.push(worker.banner)
    }
    let engine: Engine | undefined
    if (roles.has('webhook')) {
      const parts = await assembleWebhook(config, database, { handlers, logger, worker: false })
      stops.push(() => parts.stop())
      engine = parts.engine
      const server = Deno.serve(
        { port: config.port, hostname: config.host, signal: ac.signal, onListen() {} },
        parts.app.fetch,
      )
      servers.push(server)
      url = localOrigin(config.host, server.addr.port)
      lines.unshift(
        ...webhookBanner({
          host: config.host,
          port: server.addr.port,
          where,
          secret: parts.secret,
          terminal: Deno.stderr.isTerminal(),
        }),
      )
    } else {
      lines.unshift(`Telehook on ${where} (roles: ${[...roles].join(', ')})`)
    }
    if (adminModule && adminConfig) {
      const admin = adminModule.createAdminApp({
        database,
        engine,
        handlers,
        publicUrl: adminConfig.publicUrl ?? url ?? undefined,
        telerivetApiUrl: adminConfig.telerivetApiUrl,
        adminToken: adminConfig.adminToken,
        allowedHosts: adminConfig.allowedHosts,
        masterKey: await loadForwardingKey(env, config.dataDir),
        logger,
      })
      const server = Deno.serve(
        { port: adminConfig.port, hostname: adminConfig.host, signal: ac.signal, onListen() {} },
        admin.fetch,
      )
      servers.push(server)
      adminUrl = localOrigin(adminConfig.host, server.addr.port)
      lines.push(
        `Admin API listening on ${adminUrl} (Authorization: Bearer <TELEHOOK_ADMIN_TOKEN or a token from telehook token create>)`,
      )
    }
  } catch (error) {
    ac.abort()
    for (const stop of stops.reverse()) await stop().catch(() => {})
    await database.close()
    throw error
  }
  let stopping: Promise<void> | undefined
  return {
    url,
    adminUrl,
    stopTimeoutMs: budget.totalMs,
    banner: [...lines, '(on Deno)'].join('\n'),
    stop() {
      stopping ??= (async () => {
        // Within the budget: the servers drain while the workers stop, then the database closes.
        // Deno cannot close a connection that is still open: past the drain, exiting does.
        const drain = (server: Deno.HttpServer) =>
          drainServer({ stop: (force) => (force ? undefined : server.finished) }, budget.drainMs, {
            logger,
          })
        ac.abort()
        const results = await Promise.allSettled([
          ...servers.map(drain),
          ...stops.map((stop) => stop()),
        ])
        await database.close()
        for (const r of results) if (r.status === 'rejected') throw r.reason
      })()
      return stopping
    },
  }
}

if (import.meta.main) {
  try {
    const env = Deno.env.toObject()
    const server = await startOnDeno(env)
    console.error(server.banner)
    // As `telehook serve`: the first signal stops within the budget, one 2 s later exits at once.
    const signal = await stopOnSignals(
      { on: (name, listener) => Deno.addSignalListener(name, listener) },
      { name: 'telehook', exit: (code) => Deno.exit(code) },
    )
    console.error(
      `telehook: ${signal}, stopping (draining requests in flight and jobs, at most ${server.stopTimeoutMs / 1000} s; a later signal exits at once)`,
    )
    await server.stop().then(
      () => Deno.exit(0),
      (error: unknown) => {
        console.error(`telehook: stop failed: ${error instanceof Error ? error.message : error}`)
        Deno.exit(1)
      },
    )
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      (error instanceof Error && error.name === 'AdminConfigError')
    ) {
      console.error(`telehook: ${error.message.replaceAll('\n', '; ')}`)
      Deno.exit(2)
    }
    throw error
  }
}
