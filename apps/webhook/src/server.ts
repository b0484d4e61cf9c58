/** @module Bun runtime pieces: listen, boot the whole webhook service, load a handlers module. */
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Database, openDb } from '@telehook/db'
import {
  createEngine,
  createJsonLogger,
  createWorker,
  type Engine,
  ensureSingleEndpoint,
  type Logger,
} from '@telehook/engine'
import { encodeForm, generateSecret, type Handlers } from '@telehook/protocol'
import { createWebhookApp, type WebhookApp } from './app'
import type { WebhookConfig } from './config'
import exampleHandlers from './example-handlers'
import { readOrCreateKeyFile } from './key-file'
import { createMetrics, type WebhookMetrics } from './metrics'

/** A listening server. */
export interface RunningServer {
  url: URL
  port: number
  /** Stops accepting connections and resolves once the requests in flight are answered. */
  stop(): Promise<void>
}

/**
 * Listens with Bun.serve. Bun's own body cap sits above the app's limit so that the app answers
 * the ordinary 413 itself (and logs it), while a huge body is still cut off by Bun.
 * @example const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit })
 */
export function startWebhookServer(
  app: WebhookApp,
  opts: { port: number; hostname: string; bodyLimit: number },
): RunningServer {
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    maxRequestBodySize: opts.bodyLimit + 64 * 1024,
    fetch: (request) => app.fetch(request),
  })
  return {
    url: server.url,
    port: server.port ?? opts.port,
    async stop() {
      await server.stop()
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

/** The single-project secret and where it came from. */
export interface SingleSecret {
  secret: string
  source: 'env' | 'generated' | 'file'
  /** Where a generated secret is kept, so that a restart keeps the webhook working. */
  file: string
}

/**
 * TELEHOOK_SECRET when set; else the secret kept in `<dataDir>/webhook-secret`; else a new one
 * written there (mode 0600). Only its hash goes to the database. With a `databaseUrl`, the config
 * loader has already required TELEHOOK_SECRET: a per-machine secret would break shared databases.
 */
export async function resolveSingleSecret(config: WebhookConfig): Promise<SingleSecret> {
  const file = join(config.dataDir, 'webhook-secret')
  if (config.secret) return { secret: config.secret, source: 'env', file }
  if (config.databaseUrl) {
    throw new Error('TELEHOOK_SECRET is required when DATABASE_URL is set (none is generated)')
  }
  const kept = await readOrCreateKeyFile(config.dataDir, 'webhook-secret', () => generateSecret())
  return { secret: kept.value, source: kept.created ? 'generated' : 'file', file: kept.path }
}

/**
 * A ready-to-run curl posting a sample incoming_message to the single-project endpoint. One line:
 * tools that prefix every output line (turbo) would break a command continued with backslashes.
 */
export function sampleCurl(baseUrl: string, secret: SingleSecret): string {
  const body = encodeForm({
    event: 'incoming_message',
    id: 'SMtelehooksample0001',
    message_type: 'sms',
    direction: 'incoming',
    content: 'Hello Telehook',
    from_number: '+16505550123',
    from_number_e164: '+16505550123',
    to_number: '+16505550100',
    time_created: Math.floor(Date.now() / 1000),
    contact_id: 'CTtelehooksample01',
    phone_id: 'PNtelehooksample01',
    project_id: 'PJtelehooksample01',
  })
  // The secret is printed in clear only the one time it is generated.
  const secretArg =
    secret.source === 'env'
      ? '"secret=$TELEHOOK_SECRET"'
      : secret.source === 'file'
        ? `"secret=$(cat '${secret.file}')"`
        : `'secret=${secret.secret}'`
  return [
    `curl -i -X POST '${new URL('/webhook', baseUrl).href}'`,
    `-H 'Content-Type: application/x-www-form-urlencoded'`,
    `--data '${body.replace(/'/g, '%27')}'`,
    `--data-urlencode ${secretArg}`,
  ].join(' ')
}

/** Everything bootWebhook started, and how to stop it in order. */
export interface WebhookService {
  config: WebhookConfig
  database: Database
  engine: Engine
  app: WebhookApp
  server: RunningServer
  metrics: WebhookMetrics
  secret: SingleSecret
  /** Stop accepting, drain requests in flight, stop the worker, close the database. */
  stop(): Promise<void>
}

/**
 * Boots the single-project webhook service: database (migrated), engine, the 'default' endpoint,
 * the async-job worker, and the listening server.
 * @example const service = await bootWebhook(loadWebhookConfig(process.env))
 */
export async function bootWebhook(
  config: WebhookConfig,
  opts: { logger?: Logger; handlers?: Handlers } = {},
): Promise<WebhookService> {
  const logger = opts.logger ?? createJsonLogger()
  const handlers =
    opts.handlers ??
    (config.handlersPath ? await loadHandlers(config.handlersPath) : exampleHandlers)
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  let worker: ReturnType<typeof createWorker> | undefined
  try {
    const engine = createEngine({
      database,
      handlers,
      handlerTimeoutMs: config.handlerTimeoutMs,
      logger,
    })
    const secret = await resolveSingleSecret(config)
    await ensureSingleEndpoint(database, secret.secret)
    const started = createWorker({ database, handlers, logger })
    worker = started
    started.start()
    const metrics = createMetrics()
    const app = createWebhookApp({
      engine,
      database,
      bodyLimit: config.bodyLimit,
      deadlineMs: config.deadlineMs,
      singleProject: true,
      logger,
      metrics,
    })
    const server = startWebhookServer(app, {
      port: config.port,
      hostname: config.host,
      bodyLimit: config.bodyLimit,
    })
    let stopping: Promise<void> | undefined
    return {
      config,
      database,
      engine,
      app,
      server,
      metrics,
      secret,
      stop() {
        stopping ??= (async () => {
          await server.stop()
          await started.stop()
          await database.close()
        })()
        return stopping
      },
    }
  } catch (error) {
    await worker?.stop().catch(() => {})
    await database.close().catch(() => {})
    throw error
  }
}
