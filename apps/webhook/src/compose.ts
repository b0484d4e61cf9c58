/**
 * @module The single-project webhook service, assembled without listening: shared by `main.ts`
 * (Bun.serve), `telehook serve` (apps/cli) and the Deno entry (`Deno.serve`).
 */
import type { Database } from '@telehook/db'
import {
  createEngine,
  createWorker,
  type Engine,
  ensureSingleEndpoint,
  type Logger,
  stopBudget,
} from '@telehook/engine'
import type { Handlers } from '@telehook/protocol'
import { createWebhookApp, type WebhookApp } from './app'
import type { WebhookConfig } from './config'
import exampleHandlers from './example-handlers'
import { createMetrics, type WebhookMetrics } from './metrics'
import { resolveSingleSecret, type SingleSecret } from './secret'

/**
 * The handlers a `TELEHOOK_HANDLERS` / `--handlers` value names: unset or `example` the bundled
 * two-step bot, `none` no handlers, anything else a module path given to `load`.
 */
export async function handlersFor(
  spec: string | undefined,
  load: (path: string) => Promise<Handlers>,
): Promise<Handlers | undefined> {
  if (spec === undefined || spec === 'example') return exampleHandlers
  if (spec === 'none') return undefined
  return load(spec)
}

/** The parts of a running webhook service, and how to stop what they started. */
export interface WebhookParts {
  engine: Engine
  app: WebhookApp
  metrics: WebhookMetrics
  /** The single-project endpoint's secret; null when `TELEHOOK_SINGLE_PROJECT=0` turned it off. */
  secret: SingleSecret | null
  /**
   * Stops the async-job worker, if one was started, within the grace and settle of the
   * configured stop budget (the caller closes the database).
   */
  stop(): Promise<void>
}

/**
 * Assembles the single-project service on an open database: the `default` endpoint with the
 * configured (or kept, or generated) secret, the engine, the async-job worker unless
 * `worker: false`, and the app. The caller listens and, on stop, closes the database after stop().
 * @example const parts = await assembleWebhook(config, database, { handlers, logger })
 */
export async function assembleWebhook(
  config: WebhookConfig,
  database: Database,
  opts: { handlers: Handlers | undefined; logger: Logger; worker?: boolean },
): Promise<WebhookParts> {
  const { handlers, logger } = opts
  const single = config.singleProject !== false
  const secret = single ? await resolveSingleSecret(config) : null
  if (secret) await ensureSingleEndpoint(database, secret.secret)
  const engine = createEngine({
    database,
    // Off: a `default` endpoint left in the database by an earlier run is refused too.
    singleEndpoint: single,
    handlers,
    handlerTimeoutMs: config.handlerTimeoutMs,
    logger,
  })
  const { stopGraceMs, stopSettleMs } = stopBudget(config.stopTimeoutMs)
  const worker =
    opts.worker === false
      ? null
      : createWorker({ database, handlers, logger, stopGraceMs, stopSettleMs })
  worker?.start()
  const metrics = createMetrics()
  const app = createWebhookApp({
    engine,
    database,
    bodyLimit: config.bodyLimit,
    deadlineMs: config.deadlineMs,
    singleProject: single,
    logger,
    metrics,
    publicMetrics: config.publicMetrics,
    trustedProxies: config.trustedProxies,
  })
  return {
    engine,
    app,
    metrics,
    secret,
    async stop() {
      await worker?.stop()
    },
  }
}
