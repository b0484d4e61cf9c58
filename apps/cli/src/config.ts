/** @module `telehook serve`'s configuration: the apps' own loaders, errors reworded to one line. */
import { type AdminConfig, AdminConfigError, loadAdminConfig } from '@telehook/admin'
import { ConfigError, loadWebhookConfig, type WebhookConfig } from '@telehook/webhook'
import { type DbConfig, type ServeArgs, UsageError } from './args.ts'
import { checkForwarderConfig } from './roles.ts'

/** Everything `telehook serve` runs with. */
export interface ServeConfig {
  webhook: WebhookConfig
  /** Null with `--no-admin`. */
  admin: AdminConfig | null
  db: DbConfig
  /** A module path, `example` (the bundled two-step bot, the default) or `none`. */
  handlers: string
  /** What set `handlers`, for error messages: `--handlers` or `TELEHOOK_HANDLERS`. */
  handlersSetting: string
  /** Runs the public webhook receiver (the webhook role). */
  webhookRole: boolean
  /** Runs the worker role: async handlers and forwarding. */
  worker: boolean
  /** The merged environment, for pieces that read it themselves (the master key). */
  env: Record<string, string | undefined>
}

const ANY_HOST = new Set(['0.0.0.0', '::', '[::]'])

/** Would the admin API's listener collide with the webhook's? (Port 0 picks a free port each.) */
function sharesPort(
  webhook: { port: number; host: string },
  admin: { port: number; host: string },
): boolean {
  if (webhook.port !== admin.port || webhook.port === 0) return false
  return webhook.host === admin.host || ANY_HOST.has(webhook.host) || ANY_HOST.has(admin.host)
}

/**
 * Validates the merged environment of `serve`. Throws one {@link UsageError} listing every bad
 * value on one line, each named by the flag that set it or else by its variable.
 */
export function resolveServeConfig(args: ServeArgs): ServeConfig {
  const problems: string[] = []
  const rename = (line: string): string =>
    line.replace(/^([A-Z][A-Z0-9_]*)/, (name) =>
      args.flagOf[name] ? `${args.flagOf[name]} (${name})` : name,
    )
  let webhook: WebhookConfig | undefined
  try {
    webhook = loadWebhookConfig(args.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    for (const p of error.problems) problems.push(rename(`${p.variable} ${p.message}`))
  }
  let admin: AdminConfig | null = null
  if (args.admin) {
    try {
      admin = loadAdminConfig(args.env)
    } catch (error) {
      if (!(error instanceof AdminConfigError)) throw error
      for (const line of error.problems) problems.push(rename(line))
    }
  }
  if (webhook?.databaseUrl && admin && !admin.masterKey) {
    // A key file made per machine would leave the other instances unable to decrypt the API keys
    // this one stores (the webhook secret has the same rule, in loadWebhookConfig).
    problems.push(
      rename(
        'TELEHOOK_MASTER_KEY is required with DATABASE_URL when the admin API runs: every instance on one database must decrypt the same stored API keys (none is generated; `openssl rand -base64 32`)',
      ),
    )
  }
  if (args.worker) {
    try {
      checkForwarderConfig(args.env)
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      problems.push(error.message)
    }
  }
  if (args.webhook && webhook && admin && sharesPort(webhook, admin)) {
    // Caught here rather than as EADDRINUSE after the database was opened and migrated.
    problems.push(
      `${rename('ADMIN_PORT')} must differ from ${rename('PORT')} (both ${admin.port}): the webhook and the admin API each listen on their own port`,
    )
  }
  // Both apps read TELEHOOK_STOP_TIMEOUT_MS, in the same words: one line for it.
  if (problems.length > 0 || !webhook) throw new UsageError([...new Set(problems)].join('; '))
  return {
    webhook,
    admin,
    db: {
      databaseUrl: webhook.databaseUrl ?? null,
      dataDir: webhook.dataDir,
      urlSource: args.flagOf.DATABASE_URL ?? 'DATABASE_URL',
      connectTimeoutMs: webhook.connectTimeoutMs,
      waitForDbMs: webhook.waitForDbMs,
    },
    handlers: webhook.handlersPath ?? 'example',
    handlersSetting: args.flagOf.TELEHOOK_HANDLERS ?? 'TELEHOOK_HANDLERS',
    webhookRole: args.webhook,
    worker: args.worker,
    env: args.env,
  }
}
