/// <reference lib="deno.ns" />
/**
 * @module The webhook receiver on Deno: `Deno.serve(app.fetch)` over the same engine and database
 * as `telehook serve` (no admin API; see README "Deno").
 *
 *   DATABASE_URL=postgres://… deno run --no-check --allow-net --allow-env --allow-read \
 *     --allow-write --allow-sys apps/cli/deno/serve.ts
 */
import { openDb } from '@telehook/db'
import {
  createEngine,
  createJsonLogger,
  createWorker,
  ensureSingleEndpoint,
  type Logger,
} from '@telehook/engine'
import type { Handlers } from '@telehook/protocol'
import {
  ConfigError,
  createMetrics,
  createWebhookApp,
  exampleHandlers,
  loadWebhookConfig,
  resolveSingleSecret,
  sampleCurl,
} from '@telehook/webhook'

async function loadModule(path: string): Promise<Handlers> {
  const mod = await import(new URL(path, `file://${Deno.cwd()}/`).href)
  const handlers = mod.default ?? mod.handlers
  if (typeof handlers !== 'object' || handlers === null) {
    throw new Error(`${path} must export default defineHandlers({ sync, async })`)
  }
  return handlers as Handlers
}

/** A webhook receiver listening on Deno. */
export interface DenoServer {
  url: string
  stop(): Promise<void>
}

/**
 * Starts the single-project webhook receiver from an environment (the variables of `telehook
 * serve`'s webhook part), with the async-job worker, on `Deno.serve`.
 */
export async function startOnDeno(
  env: Record<string, string | undefined>,
  { logger = createJsonLogger() }: { logger?: Logger } = {},
): Promise<DenoServer & { banner: string }> {
  const config = loadWebhookConfig(env)
  const spec = config.handlersPath ?? 'example'
  // Same words as `telehook serve --handlers`: the bundled bot, no handlers, or a module path.
  const handlers: Handlers | undefined =
    spec === 'example' ? exampleHandlers : spec === 'none' ? undefined : await loadModule(spec)
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  const secret = await resolveSingleSecret(config)
  await ensureSingleEndpoint(database, secret.secret)
  const engine = createEngine({
    database,
    handlers,
    handlerTimeoutMs: config.handlerTimeoutMs,
    logger,
  })
  const worker = createWorker({ database, handlers, logger })
  worker.start()
  const app = createWebhookApp({
    engine,
    database,
    bodyLimit: config.bodyLimit,
    deadlineMs: config.deadlineMs,
    singleProject: true,
    logger,
    metrics: createMetrics(),
  })
  const ac = new AbortController()
  const server = Deno.serve(
    { port: config.port, hostname: config.host, signal: ac.signal, onListen() {} },
    app.fetch,
  )
  const shown = config.host === '0.0.0.0' ? '127.0.0.1' : config.host
  const url = `http://${shown}:${server.addr.port}`
  let stopping: Promise<void> | undefined
  return {
    url,
    banner: `Telehook webhook on Deno at ${url} (${database.driver})\nTry it:\n${sampleCurl(url, secret)}`,
    stop() {
      stopping ??= (async () => {
        ac.abort()
        await server.finished
        await worker.stop()
        await database.close()
      })()
      return stopping
    },
  }
}

if (import.meta.main) {
  try {
    const server = await startOnDeno(Deno.env.toObject())
    console.error(server.banner)
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      Deno.addSignalListener(signal, () => {
        server.stop().then(() => Deno.exit(0))
      })
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`telehook: ${error.message.replaceAll('\n', '; ')}`)
      Deno.exit(2)
    }
    throw error
  }
}
