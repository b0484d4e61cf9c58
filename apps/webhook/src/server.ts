/** @module Bun runtime pieces: listen, boot the whole webhook service, load a handlers module. */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Database, openDb } from '@telehook/db'
import {
  createJsonLogger,
  drainServer,
  type Engine,
  type Logger,
  pgliteReportsTo,
  stopBudget,
  stopEach,
  stopTogether,
} from '@telehook/engine'
import type { Handlers } from '@telehook/protocol'
import { rememberClientAddress, type WebhookApp } from './app'
import { assembleWebhook, handlersFor, type WebhookParts } from './compose'
import type { WebhookConfig } from './config'
import type { WebhookMetrics } from './metrics'
import type { SingleSecret } from './secret'

/** A listening server. */
export interface RunningServer {
  url: URL
  port: number
  /**
   * Stops accepting connections and resolves once the requests in flight are answered; with
   * `drainMs`, closes the connections still open after that long (a warn line says so).
   */
  stop(drainMs?: number): Promise<void>
}

/**
 * Listens with Bun.serve in production mode (an error never gets Bun's development page with its
 * stack and source lines). Bun's own body cap sits above the app's limit so that the app answers
 * the ordinary 413 itself (and logs it), while a huge body is still cut off by Bun. Each request's
 * peer address is handed to the app for its per-client limit of failed attempts.
 * @example const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit })
 */
export function startWebhookServer(
  app: WebhookApp,
  opts: { port: number; hostname: string; bodyLimit: number; logger?: Logger },
): RunningServer {
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    maxRequestBodySize: opts.bodyLimit + 64 * 1024,
    development: false,
    fetch(request, server) {
      rememberClientAddress(request, server.requestIP(request)?.address)
      return app.fetch(request)
    },
    error: () => new Response('Internal error', { status: 500 }),
  })
  return {
    url: server.url,
    port: server.port ?? opts.port,
    async stop(drainMs) {
      if (drainMs === undefined) await server.stop()
      else await drainServer(server, drainMs, { logger: opts.logger, what: 'webhook' })
    },
  }
}

/**
 * Imports a handlers module from a path: its default export, or a named `handlers` export.
 * Throws when the module exports neither as an object with `sync` or `async`.
 */
export async function loadHandlers(path: string): Promise<Handlers> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  const candidate = mod.default ?? mod.handlers
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    !('sync' in candidate || 'async' in candidate)
  ) {
    throw new Error(`${path} must export default defineHandlers({ sync, async })`)
  }
  return candidate as Handlers
}

/** Everything bootWebhook started, and how to stop it in order. */
export interface WebhookService {
  config: WebhookConfig
  database: Database
  engine: Engine
  app: WebhookApp
  server: RunningServer
  metrics: WebhookMetrics
  secret: SingleSecret | null
  /**
   * Stop accepting, drain requests in flight while the worker stops, close the database: within
   * `config.stopTimeoutMs` (engine's `stopBudget`).
   */
  stop(): Promise<void>
}

/**
 * Boots the single-project webhook service: database (migrated; a PGlite folder locked), the
 * 'default' endpoint, engine, the async-job worker, and the listening server.
 * @example const service = await bootWebhook(loadWebhookConfig(process.env))
 */
export async function bootWebhook(
  config: WebhookConfig,
  opts: { logger?: Logger; handlers?: Handlers } = {},
): Promise<WebhookService> {
  const logger = opts.logger ?? createJsonLogger()
  const handlers = opts.handlers ?? (await handlersFor(config.handlersPath, loadHandlers))
  const database = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    log: pgliteReportsTo(logger),
  })
  let parts: WebhookParts | undefined
  try {
    parts = await assembleWebhook(config, database, { handlers, logger })
    const started = parts
    const server = startWebhookServer(parts.app, {
      port: config.port,
      hostname: config.host,
      bodyLimit: config.bodyLimit,
      logger,
    })
    let stopping: Promise<void> | undefined
    return {
      config,
      database,
      engine: parts.engine,
      app: parts.app,
      server,
      metrics: parts.metrics,
      secret: parts.secret,
      stop() {
        // Side by side: the worker's grace runs while deliveries in flight are answered; then the
        // database closes, whatever failed before it.
        const { drainMs } = stopBudget(config.stopTimeoutMs)
        stopping ??= stopEach([
          () => stopTogether([() => server.stop(drainMs), () => started.stop()]),
          () => database.close(),
        ])
        return stopping
      },
    }
  } catch (error) {
    await parts?.stop().catch(() => {})
    await database.close().catch(() => {})
    throw error
  }
}
