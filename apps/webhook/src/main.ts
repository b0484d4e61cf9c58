/** @module Entry point: `bun run src/main.ts` serves the single-project webhook (see README). */
import { stopOnSignals } from '@telehook/engine'
import { ConfigError, loadWebhookConfig } from './config'
import { displayOrigin, startBanner } from './secret'
import { bootWebhook } from './server'

let config: ReturnType<typeof loadWebhookConfig>
try {
  config = loadWebhookConfig(process.env)
} catch (error) {
  if (error instanceof ConfigError) {
    for (const line of error.message.split('\n')) console.error(`telehook-webhook: ${line}`)
    process.exit(2)
  }
  throw error
}

let service: Awaited<ReturnType<typeof bootWebhook>>
try {
  service = await bootWebhook(config)
} catch (error) {
  // A data folder held by another process, an unreachable database…: one line, not a stack.
  console.error(`telehook-webhook: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
const base = displayOrigin(config.host, service.server.port)
const where = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`
console.error([...startBanner(base, where, service.secret), ''].join('\n'))

// The first SIGINT/SIGTERM drains and closes within TELEHOOK_STOP_TIMEOUT_MS; its repeats that
// arrive together are the same request; one 2 s later exits at once (130 or 143).
const signal = await stopOnSignals(process, { name: 'telehook-webhook' })
console.error(
  `telehook-webhook: ${signal}, draining (at most ${config.stopTimeoutMs / 1000} s; a later signal exits at once)`,
)
try {
  await service.stop()
} catch (error) {
  console.error(`telehook-webhook: stop failed: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
process.exit(0)
