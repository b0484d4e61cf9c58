/** @module Entry point: `bun run src/main.ts` serves the single-project webhook (see README). */
import { ConfigError, loadWebhookConfig } from './config'
import { sampleCurl } from './secret'
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
const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
const base = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${service.server.port}`
const banner = [
  `Telehook webhook listening on ${base} (${service.database.driver}${config.databaseUrl ? '' : `, data in ${config.dataDir}`})`,
  `Single-project endpoint: POST ${base}/webhook`,
]
if (service.secret.source === 'generated') {
  banner.push(
    `Generated webhook secret (shown once, kept in ${service.secret.file}): ${service.secret.secret}`,
  )
}
banner.push('Try it:', sampleCurl(base, service.secret), '')
console.error(banner.join('\n'))

let signals = 0
async function shutdown(signal: string): Promise<void> {
  signals += 1
  if (signals > 1) process.exit(1)
  console.error(`telehook-webhook: ${signal}, draining`)
  try {
    await service.stop()
  } catch (error) {
    console.error(
      `telehook-webhook: stop failed: ${error instanceof Error ? error.message : error}`,
    )
    process.exit(1)
  }
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
