/** @module Command-line and environment parsing for `telehook`: pure, so every error path is testable. */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'

/** A wrong flag or environment value: printed as one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Where the database is: PostgreSQL when `databaseUrl` is set, else PGlite in `dataDir`. */
export interface DbConfig {
  databaseUrl: string | null
  dataDir: string
}

/** Everything `telehook serve` needs, after flags, environment and defaults are merged. */
export interface ServeConfig {
  db: DbConfig
  host: string
  port: number
  admin: boolean
  adminHost: string
  adminPort: number
  worker: boolean
  publicUrl: string | null
  secret: string | null
  adminToken: string | null
  masterKey: string | null
  telerivetApiUrl: string | null
  /** A path to a handler module, `example` (the default) for the bundled bot, `none` for none. */
  handlers: string
  deadlineMs: number
  handlerTimeoutMs: number
  bodyLimit: number
}

export type Command =
  | { kind: 'help'; topic: HelpTopic }
  | { kind: 'version' }
  | { kind: 'serve'; config: ServeConfig }
  | { kind: 'migrate'; db: DbConfig }
  | { kind: 'token-create'; db: DbConfig; name: string | null }
  | { kind: 'sim'; argv: string[] }

export type HelpTopic = 'main' | 'serve' | 'migrate' | 'token' | 'sim'

export type Env = Record<string, string | undefined>

const DB_OPTIONS = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

const SERVE_OPTIONS = {
  ...DB_OPTIONS,
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'admin-host': { type: 'string' },
  'admin-port': { type: 'string' },
  'no-admin': { type: 'boolean' },
  'no-worker': { type: 'boolean' },
  'public-url': { type: 'string' },
  secret: { type: 'string' },
  'admin-token': { type: 'string' },
  'master-key': { type: 'string' },
  'telerivet-api-url': { type: 'string' },
  handlers: { type: 'string' },
  'deadline-ms': { type: 'string' },
  'handler-timeout-ms': { type: 'string' },
  'body-limit': { type: 'string' },
} as const

type Parsed = Record<string, string | boolean | undefined>

function parse(
  command: string,
  argv: string[],
  options: ParseArgsOptionsConfig,
): { values: Parsed; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: true,
    })
    return { values: values as Parsed, positionals }
  } catch (error) {
    // node:util's messages are multi-line and mention internals; keep the first sentence.
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)
    throw new UsageError(`${command}: ${message.replace(/\.? To specify.*$/, '')}`)
  }
}

function str(values: Parsed, key: string): string | undefined {
  const v = values[key]
  return typeof v === 'string' ? v : undefined
}

/** Reads a flag, else the environment variable, and names whichever it came from in errors. */
function pick(
  values: Parsed,
  flag: string,
  env: Env,
  envName: string,
): [string, string] | undefined {
  const fromFlag = str(values, flag)
  if (fromFlag !== undefined) return [fromFlag, `--${flag}`]
  const fromEnv = env[envName]
  if (fromEnv !== undefined && fromEnv !== '') return [fromEnv, envName]
  return undefined
}

function portValue(picked: [string, string] | undefined, fallback: number): number {
  if (!picked) return fallback
  const [raw, source] = picked
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n > 65535) {
    throw new UsageError(`${source} must be a port number from 0 to 65535, got '${raw}'`)
  }
  return n
}

function intInRange(
  picked: [string, string] | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (!picked) return fallback
  const [raw, source] = picked
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${source} must be a whole number from ${min} to ${max}, got '${raw}'`)
  }
  return Number(raw)
}

/** Telerivet gives up after 10 s: the deadline must leave room to send the 503 (as the webhook app). */
const MAX_DEADLINE_MS = 9500

function urlValue(
  picked: [string, string] | undefined,
  protocols: readonly string[],
  { secret = false } = {},
): string | null {
  if (!picked) return null
  const [raw, source] = picked
  // A database URL may carry a password: never echo it.
  const got = secret ? '' : `, got '${raw}'`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`${source} must be a URL${got}`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(
      `${source} must start with ${protocols.map((p) => `${p}//`).join(' or ')}${got}`,
    )
  }
  return raw
}

function dbConfig(values: Parsed, env: Env): DbConfig {
  const databaseUrl = urlValue(
    pick(values, 'database-url', env, 'DATABASE_URL'),
    ['postgres:', 'postgresql:'],
    { secret: true },
  )
  const dataDir = pick(values, 'data-dir', env, 'TELEHOOK_DATA_DIR')?.[0] ?? './.telehook'
  return { databaseUrl, dataDir }
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument '${positionals[0]}'`)
  }
}

function parseServe(argv: string[], env: Env): Command {
  const { values, positionals } = parse('serve', argv, SERVE_OPTIONS)
  if (values.help) return { kind: 'help', topic: 'serve' }
  noPositionals('serve', positionals)
  const handlers = pick(values, 'handlers', env, 'TELEHOOK_HANDLERS')?.[0] ?? 'example'
  const deadlineMs = intInRange(
    pick(values, 'deadline-ms', env, 'TELEHOOK_DEADLINE_MS'),
    100,
    MAX_DEADLINE_MS,
    8000,
  )
  const timeout = pick(values, 'handler-timeout-ms', env, 'TELEHOOK_HANDLER_TIMEOUT_MS')
  const handlerTimeoutMs = intInRange(timeout, 1, MAX_DEADLINE_MS, 3000)
  if (handlerTimeoutMs >= deadlineMs) {
    throw new UsageError(
      `${timeout?.[1] ?? 'TELEHOOK_HANDLER_TIMEOUT_MS'} must be below the deadline (${deadlineMs} ms), got ${handlerTimeoutMs}`,
    )
  }
  const secret = pick(values, 'secret', env, 'TELEHOOK_SECRET')
  if (secret && (secret[0].length < 8 || secret[0].length > 512)) {
    // The value itself is never echoed: it is a secret.
    throw new UsageError(`${secret[1]} must be 8 to 512 characters long`)
  }
  return {
    kind: 'serve',
    config: {
      db: dbConfig(values, env),
      host: pick(values, 'host', env, 'HOST')?.[0] ?? '0.0.0.0',
      port: portValue(pick(values, 'port', env, 'PORT'), 8000),
      admin: values['no-admin'] !== true,
      adminHost: pick(values, 'admin-host', env, 'ADMIN_HOST')?.[0] ?? '127.0.0.1',
      adminPort: portValue(pick(values, 'admin-port', env, 'ADMIN_PORT'), 8081),
      worker: values['no-worker'] !== true,
      publicUrl: urlValue(pick(values, 'public-url', env, 'TELEHOOK_PUBLIC_URL'), [
        'http:',
        'https:',
      ]),
      secret: secret?.[0] ?? null,
      adminToken: pick(values, 'admin-token', env, 'TELEHOOK_ADMIN_TOKEN')?.[0] ?? null,
      masterKey: pick(values, 'master-key', env, 'TELEHOOK_MASTER_KEY')?.[0] ?? null,
      telerivetApiUrl: urlValue(pick(values, 'telerivet-api-url', env, 'TELERIVET_API_URL'), [
        'http:',
        'https:',
      ]),
      handlers,
      deadlineMs,
      handlerTimeoutMs,
      bodyLimit: intInRange(
        pick(values, 'body-limit', env, 'TELEHOOK_BODY_LIMIT'),
        1024,
        16 * 1024 * 1024,
        262144,
      ),
    },
  }
}

/**
 * Turns `telehook` arguments and the environment into one command, or throws {@link UsageError}.
 * @example parseCommand(['serve', '--port', '9000'], process.env)
 */
export function parseCommand(argv: string[], env: Env): Command {
  const [first, ...rest] = argv
  switch (first) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help', topic: helpTopic(rest[0]) }
    case '--version':
    case '-v':
    case 'version':
      return { kind: 'version' }
    case 'serve':
      return parseServe(rest, env)
    case 'migrate': {
      const { values, positionals } = parse('migrate', rest, DB_OPTIONS)
      if (values.help) return { kind: 'help', topic: 'migrate' }
      noPositionals('migrate', positionals)
      return { kind: 'migrate', db: dbConfig(values, env) }
    }
    case 'token': {
      const { values, positionals } = parse('token', rest, {
        ...DB_OPTIONS,
        name: { type: 'string' },
      })
      if (values.help) return { kind: 'help', topic: 'token' }
      const [sub, ...extra] = positionals
      if (sub !== 'create') {
        throw new UsageError(
          sub === undefined
            ? "token: missing subcommand (try 'telehook token create --name ci')"
            : `token: unknown subcommand '${sub}' (try 'telehook token create')`,
        )
      }
      noPositionals('token create', extra)
      return { kind: 'token-create', db: dbConfig(values, env), name: str(values, 'name') ?? null }
    }
    case 'sim':
      // The simulator parses its own flags (and prints its own help).
      return { kind: 'sim', argv: rest }
    default:
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option '${first}' (see 'telehook --help')`
          : `unknown command '${first}' (see 'telehook --help')`,
      )
  }
}

function helpTopic(word: string | undefined): HelpTopic {
  return word === 'serve' || word === 'migrate' || word === 'token' || word === 'sim'
    ? word
    : 'main'
}
