/**
 * @module The worker role of `telehook serve` (`--role worker`): async handlers and forwarding.
 * Which roles a process runs is parsed with the other flags (`parseRoles` in args.ts).
 */
import { type Database, readOrCreateKeyFile } from '@telehook/db'
import { createWorker, type Logger, stopBudget } from '@telehook/engine'
import { createForwarder, ForwardConfigError, loadForwarderConfig } from '@telehook/engine/forward'
import type { Handlers } from '@telehook/protocol'
import { UsageError } from './args.ts'

/**
 * Checks the forwarding worker's `TELEHOOK_FORWARD_*` settings; a bad value is a usage error
 * naming each variable.
 */
export function checkForwarderConfig(env: Record<string, string | undefined>): void {
  try {
    loadForwarderConfig(env)
  } catch (error) {
    if (error instanceof ForwardConfigError) throw new UsageError(error.problems.join('; '))
    throw error
  }
}

/**
 * The master key that sealed the destinations' signing secrets, as `@telehook/admin`'s
 * `loadMasterKey` finds it: `TELEHOOK_MASTER_KEY` (base64 of 32 bytes), else the data folder's
 * `master.key`, made on first use. Read here rather than through `@telehook/admin` so that the
 * worker role does not load the admin app, whose docs page is Bun-only (the Deno entry runs it).
 */
export async function loadForwardingKey(
  env: Record<string, string | undefined>,
  dataDir: string,
): Promise<CryptoKey> {
  const fromEnv = env.TELEHOOK_MASTER_KEY?.trim()
  const value =
    fromEnv ||
    (
      await readOrCreateKeyFile(dataDir, 'master.key', () =>
        btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
      )
    ).value.trim()
  let raw: Uint8Array<ArrayBuffer>
  try {
    raw = Uint8Array.from(atob(value), (c) => c.charCodeAt(0))
  } catch {
    raw = new Uint8Array(0)
  }
  if (raw.length !== 32) {
    throw new UsageError(
      `TELEHOOK_MASTER_KEY must be 32 bytes in base64 (\`openssl rand -base64 32\`)${fromEnv ? '' : `; the key file in ${dataDir} is not`}`,
    )
  }
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

export interface WorkerRole {
  /** What the banner says about this worker. */
  banner: string
  /** Stops both loops side by side, each within the grace and settle of the stop budget. */
  stop(): Promise<void>
}

/**
 * Starts the worker role: the async-handler worker (when the handlers have async handlers) and
 * the forwarder. The forwarder needs the master key that sealed the destinations' signing
 * secrets: `TELEHOOK_MASTER_KEY`, else (PGlite only) the key file of the data folder. On
 * PostgreSQL without `TELEHOOK_MASTER_KEY` this process does not forward (its jobs wait for a
 * worker that has the key), and the banner says so.
 */
export async function startWorkerRole(opts: {
  database: Database
  handlers: Handlers | undefined
  logger: Logger
  env: Record<string, string | undefined>
  dataDir: string
  /** The stop's budget (`TELEHOOK_STOP_TIMEOUT_MS`, default 8000): both loops stop within it. */
  stopTimeoutMs?: number
}): Promise<WorkerRole> {
  const { database, handlers, logger, env } = opts
  const { stopGraceMs, stopSettleMs } = stopBudget(opts.stopTimeoutMs)
  const worker = createWorker({ database, handlers, logger, stopGraceMs, stopSettleMs })
  worker.start()
  const shared = database.driver === 'postgres'
  if (shared && !env.TELEHOOK_MASTER_KEY?.trim()) {
    logger.warn({ msg: 'forwarding is off in this process: TELEHOOK_MASTER_KEY is not set' })
    return {
      banner:
        'Worker running: async handlers; forwarding off (TELEHOOK_MASTER_KEY is not set: it decrypts the destinations’ signing secrets)',
      stop: () => worker.stop(),
    }
  }
  const masterKey = await loadForwardingKey(env, opts.dataDir)
  const forwarder = createForwarder({
    database,
    masterKey,
    logger,
    stopGraceMs,
    stopSettleMs,
    ...loadForwarderConfig(env),
  })
  forwarder.start()
  return {
    banner: 'Worker running: async handlers and forwarding',
    async stop() {
      await Promise.all([worker.stop(), forwarder.stop()])
    },
  }
}
