/// <reference lib="deno.ns" />
/**
 * @module The webhook receiver on Deno: `Deno.serve(app.fetch)` over the same engine and database
 * as `telehook serve` (no admin API; see README "Deno").
 *
 *   DATABASE_URL=postgres://… deno run --no-check --allow-net --allow-env --allow-read \
 *     --allow-write --allow-sys apps/cli/deno/serve.ts
 */
import { openDb } from '@telehook/db'
import { createJsonLogger, type Logger } from '@telehook/engine'
import {
  assembleWebhook,
  ConfigError,
  handlersFor,
  loadHandlers,
  loadWebhookConfig,
} from '@telehook/webhook'
import { localOrigin, webhookBanner } from '../src/banner.ts'

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
  { logger }: { logger?: Logger } = {},
): Promise<DenoServer & { banner: string }> {
  const config = loadWebhookConfig(env)
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
  const parts = await assembleWebhook(config, database, { handlers, logger }).catch(
    async (error: unknown) => {
      await database.close()
      throw error
    },
  )
  const { app, secret } = parts
  const ac = new AbortController()
  const server = Deno.serve(
    { port: config.port, hostname: config.host, signal: ac.signal, onListen() {} },
    app.fetch,
  )
  const url = localOrigin(config.host, server.addr.port)
  const where = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`
  const lines = webhookBanner({
    host: config.host,
    port: server.addr.port,
    where,
    secret,
    terminal: Deno.stderr.isTerminal(),
  })
  let stopping: Promise<void> | undefined
  return {
    url,
    banner: [...lines, '(on Deno)'].join('\n'),
    stop() {
      stopping ??= (async () => {
        ac.abort()
        await server.finished
        await parts.stop()
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
        server.stop().then(
          () => Deno.exit(0),
          (error: unknown) => {
            console.error(
              `telehook: stop failed: ${error instanceof Error ? error.message : error}`,
            )
            Deno.exit(1)
          },
        )
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
