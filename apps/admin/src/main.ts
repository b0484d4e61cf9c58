/** @module Entry point: `bun run src/main.ts` serves the admin API on ADMIN_HOST:ADMIN_PORT. */
import { openDb } from '@telehook/db'
import {
  createEngine,
  createJsonLogger,
  drainServer,
  pgliteReportsTo,
  stopBudget,
  stopEach,
  stopOnSignals,
} from '@telehook/engine'
import { verifyStoredApiKeys } from './api-keys'
import { createAdminApp } from './app'
import { adminFetch } from './auth-limit'
import { AdminConfigError, loadAdminConfig } from './config'
import { loadMasterKey } from './crypto'

const logger = createJsonLogger()
let config: ReturnType<typeof loadAdminConfig>
try {
  config = loadAdminConfig(process.env)
} catch (error) {
  if (error instanceof AdminConfigError) {
    for (const line of error.problems) console.error(line)
    process.exit(1)
  }
  throw error
}

const dataDir = process.env.TELEHOOK_DATA_DIR ?? '.telehook'
const database = await openDb({ log: pgliteReportsTo(logger) })
const masterKey = await loadMasterKey({ env: process.env, dataDir })
// A master key that cannot decrypt what is stored is one line now, not a 500 later.
const keys = await verifyStoredApiKeys(database, masterKey)
if (keys.problem) {
  console.error(keys.problem)
  await database.close()
  process.exit(1)
}
if (keys.migrated > 0) {
  logger.info({ msg: 'stored API keys rewritten bound to their project', count: keys.migrated })
}
if (!config.adminToken) {
  logger.warn({
    msg: 'TELEHOOK_ADMIN_TOKEN is not set: only tokens made with `telehook token create` are accepted',
  })
}
/** Aborted when the stop begins: the console's live logs end instead of holding the drain. */
const stopping = new AbortController()
const app = createAdminApp({
  database,
  engine: createEngine({ database, logger }),
  publicUrl: config.publicUrl,
  telerivetApiUrl: config.telerivetApiUrl,
  adminToken: config.adminToken,
  allowedHosts: config.allowedHosts,
  masterKey,
  logger,
  stopping: stopping.signal,
})
const server = Bun.serve({
  port: config.port,
  hostname: config.host,
  fetch: adminFetch(app),
  // Production mode: never Bun's development error page (stack, paths, source lines).
  development: false,
  error: () => new Response('Internal error', { status: 500 }),
})
logger.info({
  msg: 'admin API listening',
  url: `http://${config.host}:${server.port}`,
  docs: '/docs',
})

// The first SIGINT/SIGTERM drains and closes within TELEHOOK_STOP_TIMEOUT_MS; its repeats that
// arrive together are the same request; one 2 s later exits at once (130 or 143).
const signal = await stopOnSignals(process, { name: 'telehook-admin' })
console.error(
  `telehook-admin: ${signal}, draining (at most ${config.stopTimeoutMs / 1000} s; a later signal exits at once)`,
)
try {
  stopping.abort()
  await stopEach([
    // What is still open at the end of the drain (a body that stops arriving) is closed then.
    () => drainServer(server, stopBudget(config.stopTimeoutMs).drainMs, { logger, what: 'admin' }),
    // A PGlite lock file a read-only disk keeps is a warning line, not a failure (openDb).
    () => database.close(),
  ])
} catch (error) {
  console.error(`telehook-admin: stop failed: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
process.exit(0)
