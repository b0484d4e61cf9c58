/** @module Environment configuration of the webhook server, validated with TypeBox at start-up. */
import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

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
  TELEHOOK_TRUSTED_PROXIES: Type.Optional(
    Type.String({ pattern: '^[0-9A-Fa-f:.]+(\\s*,\\s*[0-9A-Fa-f:.]+)*$' }),
  ),
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
  /** Serve `GET /metrics` on the public webhook port too (`TELEHOOK_PUBLIC_METRICS=1`). */
  publicMetrics?: boolean
  /** Reverse proxies whose `X-Forwarded-For` names the client (`TELEHOOK_TRUSTED_PROXIES`). */
  trustedProxies?: string[]
}

/** Shortest accepted TELEHOOK_SECRET. */
export const MIN_SECRET_LENGTH = 16

/** One bad environment variable; `message` is one line per bad variable, each naming it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join('\n'))
  }
}

const INTEGER_KEYS = new Set([
  'PORT',
  'TELEHOOK_DEADLINE_MS',
  'TELEHOOK_BODY_LIMIT',
  'TELEHOOK_HANDLER_TIMEOUT_MS',
])
/** Values never echoed back in an error line. */
const SECRET_KEYS = new Set(['TELEHOOK_SECRET', 'DATABASE_URL'])

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
    const shown = SECRET_KEYS.has(variable) ? '' : ` (got ${JSON.stringify(raw[variable])})`
    problems.push({ variable, message: `${error.message}${shown}` })
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
    if (e.DATABASE_URL !== undefined && e.TELEHOOK_SECRET === undefined) {
      // A secret generated per machine would replace the other instances' one in the shared
      // 'default' endpoint, and their deliveries would get 403.
      problems.push({
        variable: 'TELEHOOK_SECRET',
        message:
          'required when DATABASE_URL is set: every instance on one database must use the same secret (none is generated)',
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
        publicMetrics: e.TELEHOOK_PUBLIC_METRICS === '1',
        trustedProxies: e.TELEHOOK_TRUSTED_PROXIES?.split(',').map((a) => a.trim()) ?? [],
      }
    }
  }
  throw new ConfigError(problems)
}
