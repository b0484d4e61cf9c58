/** @module Environment configuration of the webhook server, validated with TypeBox at start-up. */
import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import {
  DEFAULT_STOP_TIMEOUT_MS,
  LOG_LEVELS,
  type LogLevel,
  MAX_STOP_TIMEOUT_MS,
  MIN_STOP_TIMEOUT_MS,
  STOP_TIMEOUT_RULE,
} from '@telehook/engine'

/** Telerivet gives up after 10 s; the deadline must leave room to send the 503 before that. */
const MAX_DEADLINE_MS = 9500

/** The environment variables the webhook server reads, by their names, after string-to-number conversion. */
export const WebhookEnv = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TELEHOOK_DATA_DIR: Type.String({ minLength: 1, default: './.telehook' }),
  TELEHOOK_SECRET: Type.Optional(Type.String({ maxLength: 512 })),
  TELEHOOK_DEADLINE_MS: Type.Integer({ minimum: 100, maximum: MAX_DEADLINE_MS, default: 8000 }),
  TELEHOOK_BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 262144 }),
  TELEHOOK_HANDLER_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    maximum: MAX_DEADLINE_MS,
    default: 3000,
  }),
  TELEHOOK_HANDLERS: Type.Optional(Type.String({ minLength: 1 })),
  TELEHOOK_PUBLIC_METRICS: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')])),
  /** `0` turns the single-project endpoint `POST /webhook` off (projects' `/hooks/:id` only). */
  TELEHOOK_SINGLE_PROJECT: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')])),
  TELEHOOK_TRUSTED_PROXIES: Type.Optional(
    Type.String({ pattern: '^[0-9A-Fa-f:.]+(\\s*,\\s*[0-9A-Fa-f:.]+)*$' }),
  ),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  /** Days stored events are kept (0: for ever). */
  TELEHOOK_RETENTION_DAYS: Type.Integer({ minimum: 0, maximum: 36500, default: 0 }),
  /** Seconds one attempt to reach PostgreSQL may take at start-up. */
  TELEHOOK_DB_CONNECT_TIMEOUT: Type.Integer({ minimum: 1, maximum: 600, default: 10 }),
  /** Seconds to keep retrying PostgreSQL at start-up (0: fail on the first attempt). */
  TELEHOOK_WAIT_FOR_DB: Type.Integer({ minimum: 0, maximum: 3600, default: 0 }),
  /** Milliseconds a stop may take in all, from the signal to the exit (engine's stopBudget). */
  TELEHOOK_STOP_TIMEOUT_MS: Type.Integer({
    minimum: MIN_STOP_TIMEOUT_MS,
    maximum: MAX_STOP_TIMEOUT_MS,
    default: DEFAULT_STOP_TIMEOUT_MS,
  }),
})
export type WebhookEnv = Static<typeof WebhookEnv>

const checkEnv = TypeCompiler.Compile(WebhookEnv)

/** Typed configuration of the webhook server. */
export interface WebhookConfig {
  port: number
  host: string
  /** postgres.js when set, else PGlite in `dataDir`. */
  databaseUrl: string | undefined
  dataDir: string
  /**
   * Secret of the single-project endpoint. Required with `databaseUrl`; on PGlite it is generated on
   * first start when unset, and kept in the data folder.
   */
  secret: string | undefined
  deadlineMs: number
  bodyLimit: number
  handlerTimeoutMs: number
  /** Path of a handlers module; the bundled example handlers when unset. */
  handlersPath: string | undefined
  /**
   * The single-project endpoint `POST /webhook` (`TELEHOOK_SINGLE_PROJECT`, default on). Off, only
   * the projects' endpoints `POST /hooks/:id` take deliveries and `default` is refused like an
   * unknown endpoint.
   */
  singleProject?: boolean
  /** Serve `GET /metrics` on the public webhook port too (`TELEHOOK_PUBLIC_METRICS=1`). */
  publicMetrics?: boolean
  /** Reverse proxies whose `X-Forwarded-For` names the client (`TELEHOOK_TRUSTED_PROXIES`). */
  trustedProxies?: string[]
  /** The least severe log lines written (`LOG_LEVEL`: debug, info, warn, error). */
  logLevel: LogLevel
  /** Stored events older than this many days are deleted by `telehook serve` (0: kept for ever). */
  retentionDays: number
  /** PostgreSQL: bound of one connection attempt at start-up. */
  connectTimeoutMs: number
  /** PostgreSQL: how long start-up keeps retrying an unreachable database (0: no retry). */
  waitForDbMs: number
  /**
   * How long a stop may take in all, from the signal to the exit (`TELEHOOK_STOP_TIMEOUT_MS`,
   * default 8000): split by the engine's `stopBudget` into the worker's grace and settle and the
   * HTTP drain.
   */
  stopTimeoutMs: number
}

/** Shortest accepted TELEHOOK_SECRET. */
export const MIN_SECRET_LENGTH = 16

/**
 * Bad environment variables; `message` has one line per bad variable, each naming it:
 * `PORT must be a whole number from 0 to 65535, 0 picks a free port (got "-1")`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(problems.map((p) => `${p.variable} ${p.message}`).join('\n'))
  }
}

const INTEGER_KEYS = new Set([
  'PORT',
  'TELEHOOK_DEADLINE_MS',
  'TELEHOOK_BODY_LIMIT',
  'TELEHOOK_HANDLER_TIMEOUT_MS',
  'TELEHOOK_DB_CONNECT_TIMEOUT',
  'TELEHOOK_WAIT_FOR_DB',
  'TELEHOOK_RETENTION_DAYS',
  'TELEHOOK_STOP_TIMEOUT_MS',
])
/** Values never echoed back in an error line. */
const SECRET_KEYS = new Set(['TELEHOOK_SECRET', 'DATABASE_URL'])

/**
 * What a variable must be, in words, with what was given (secrets and URLs are never echoed):
 * `must be a whole number from 0 to 65535 (got "-1")`.
 */
function expectation(variable: string, value: unknown): string {
  const schema = (WebhookEnv.properties as Record<string, Record<string, unknown>>)[variable] ?? {}
  if (variable === 'DATABASE_URL') {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(String(value))?.[1]
    const got = scheme ? `got a ${scheme}:// URL` : 'got something that is not a URL'
    return `must be a PostgreSQL URL, postgres://user:password@host:5432/database (${got}); leave it unset to use the embedded PGlite`
  }
  if (SECRET_KEYS.has(variable)) {
    return `must be at most ${schema.maxLength} characters long (got ${String(value).length})`
  }
  const shown = ` (got ${JSON.stringify(value)})`
  if (variable === 'LOG_LEVEL') return `must be one of ${LOG_LEVELS.join(', ')}${shown}`
  if (variable === 'TELEHOOK_PUBLIC_METRICS') return `must be 0 or 1${shown}`
  if (variable === 'TELEHOOK_TRUSTED_PROXIES') {
    return `must be IP addresses separated by commas, like 127.0.0.1,::1${shown}`
  }
  if (variable === 'TELEHOOK_STOP_TIMEOUT_MS') return `${STOP_TIMEOUT_RULE}${shown}`
  if (schema.type === 'integer') {
    const zero = variable === 'PORT' ? ', 0 picks a free port' : ''
    return `must be a whole number from ${schema.minimum} to ${schema.maximum}${zero}${shown}`
  }
  return `must not be empty${shown}`
}

/**
 * Reads and validates the webhook configuration from an environment (empty values count as unset).
 * Throws a ConfigError naming every bad variable.
 * @example const config = loadWebhookConfig(process.env)
 */
export function loadWebhookConfig(env: Record<string, string | undefined>): WebhookConfig {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(WebhookEnv.properties)) {
    const value = env[key]?.trim()
    if (value === undefined || value === '') {
      const fallback = (WebhookEnv.properties as Record<string, { default?: unknown }>)[key]
        ?.default
      if (fallback !== undefined) raw[key] = fallback
      continue
    }
    // Only plain decimal digits count as a number: '8e3', '0x10', '12ms' are reported, not guessed.
    raw[key] = INTEGER_KEYS.has(key) && /^\d{1,15}$/.test(value) ? Number(value) : value
  }
  const problems: { variable: string; message: string }[] = []
  const seen = new Set<string>()
  for (const error of checkEnv.Errors(raw)) {
    const variable = error.path.replace(/^\//, '')
    if (seen.has(variable)) continue
    seen.add(variable)
    problems.push({ variable, message: expectation(variable, raw[variable]) })
  }
  const secret = raw.TELEHOOK_SECRET
  if (typeof secret === 'string' && secret.length < MIN_SECRET_LENGTH) {
    // Only its unsalted SHA-256 is stored: a brief secret is found by brute force from a leaked
    // hash, or guessed online. Telerivet's own generated secrets are longer.
    problems.push({
      variable: 'TELEHOOK_SECRET',
      message: `must be at least ${MIN_SECRET_LENGTH} characters (use a random string, e.g. \`openssl rand -base64 24\`): only its unsalted SHA-256 is stored, so a secret of fewer characters can be guessed, or recovered from a leaked hash (got ${secret.length} characters)`,
    })
  }
  if (problems.length === 0 && checkEnv.Check(raw)) {
    const e: WebhookEnv = raw
    if (e.TELEHOOK_HANDLER_TIMEOUT_MS >= e.TELEHOOK_DEADLINE_MS) {
      problems.push({
        variable: 'TELEHOOK_HANDLER_TIMEOUT_MS',
        message: `must be below TELEHOOK_DEADLINE_MS (${e.TELEHOOK_DEADLINE_MS}) (got ${e.TELEHOOK_HANDLER_TIMEOUT_MS})`,
      })
    }
    const singleProject = e.TELEHOOK_SINGLE_PROJECT !== '0'
    if (singleProject && e.DATABASE_URL !== undefined && e.TELEHOOK_SECRET === undefined) {
      // A secret generated per machine would replace the other instances' one in the shared
      // 'default' endpoint, and their deliveries would get 403.
      problems.push({
        variable: 'TELEHOOK_SECRET',
        message:
          'is required when DATABASE_URL is set: every instance on one database must use the same secret (none is generated); TELEHOOK_SINGLE_PROJECT=0 turns the single-project endpoint off instead',
      })
    }
    if (problems.length === 0) {
      return {
        port: e.PORT,
        host: e.HOST,
        databaseUrl: e.DATABASE_URL,
        dataDir: e.TELEHOOK_DATA_DIR,
        secret: e.TELEHOOK_SECRET,
        deadlineMs: e.TELEHOOK_DEADLINE_MS,
        bodyLimit: e.TELEHOOK_BODY_LIMIT,
        handlerTimeoutMs: e.TELEHOOK_HANDLER_TIMEOUT_MS,
        handlersPath: e.TELEHOOK_HANDLERS,
        singleProject,
        publicMetrics: e.TELEHOOK_PUBLIC_METRICS === '1',
        trustedProxies: e.TELEHOOK_TRUSTED_PROXIES?.split(',').map((a) => a.trim()) ?? [],
        logLevel: e.LOG_LEVEL,
        retentionDays: e.TELEHOOK_RETENTION_DAYS,
        connectTimeoutMs: e.TELEHOOK_DB_CONNECT_TIMEOUT * 1000,
        waitForDbMs: e.TELEHOOK_WAIT_FOR_DB * 1000,
        stopTimeoutMs: e.TELEHOOK_STOP_TIMEOUT_MS,
      }
    }
  }
  throw new ConfigError(problems)
}
