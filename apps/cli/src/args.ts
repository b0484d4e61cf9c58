/**
 * @module Command-line parsing for `telehook`. Every `serve` flag is another spelling of an
 * environment variable: flags are laid over the environment, and the merged environment is then
 * validated by the webhook and admin apps' own loaders (see config.ts), so `telehook serve` and the
 * apps accept exactly the same values.
 */
import { readFileSync } from 'node:fs'
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'

/** What `telehook serve` can run, alone or together. */
export const ROLES = ['webhook', 'admin', 'worker'] as const
export type Role = (typeof ROLES)[number]

/**
 * Reads a `--role` / `TELEHOOK_ROLE` value: a comma-separated subset of `webhook`, `admin`,
 * `worker` (all three when unset). `name` names the setting in the error.
 * @example parseRoles('webhook,worker', '--role') // Set { 'webhook', 'worker' }
 */
export function parseRoles(value: string | undefined, name: string): Set<Role> {
  if (value === undefined || value.trim() === '') return new Set(ROLES)
  const roles = new Set<Role>()
  for (const part of value.split(',')) {
    const role = part.trim()
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new UsageError(
        `${name} must be a comma-separated list of ${ROLES.join(', ')} (got ${JSON.stringify(role)})`,
      )
    }
    roles.add(role as Role)
  }
  return roles
}

/** A wrong flag or environment value: printed as one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export type Env = Record<string, string | undefined>

/** Where the database is: PostgreSQL when `databaseUrl` is set, else PGlite in `dataDir`. */
export interface DbConfig {
  databaseUrl: string | null
  dataDir: string
  /** What set the URL, to name it in a connection error: `DATABASE_URL` or `--database-url`. */
  urlSource?: string
  /** PostgreSQL: bound of one connection attempt at start-up (default 10 s). */
  connectTimeoutMs?: number
  /** PostgreSQL: keep retrying an unreachable database for this long at start-up (default 0). */
  waitForDbMs?: number
}

/** `serve` as parsed: the environment with the flags laid over it, and the CLI-only switches. */
export interface ServeArgs {
  env: Env
  /** Environment variable → the flag that set it, to name the flag in error messages. */
  flagOf: Record<string, string>
  /** The roles this process runs (`--role`, `TELEHOOK_ROLE`; all three when unset). */
  webhook: boolean
  admin: boolean
  worker: boolean
}

export type Command =
  | { kind: 'help'; topic: HelpTopic }
  | { kind: 'version' }
  | { kind: 'serve'; args: ServeArgs }
  | { kind: 'migrate'; db: DbConfig }
  | { kind: 'token-create'; db: DbConfig; name: string | null }
  | { kind: 'token-list'; db: DbConfig; json: boolean }
  | { kind: 'token-revoke'; db: DbConfig; id: string }
  | { kind: 'sim'; argv: string[] }
  | { kind: 'backup'; dataDir: string; out: string | null }

export type HelpTopic = 'main' | 'serve' | 'migrate' | 'token' | 'sim' | 'backup'

/** The `serve` flags and the variables they stand for. */
export const SERVE_FLAGS: Readonly<Record<string, { env: string; short?: string }>> = {
  port: { env: 'PORT', short: 'p' },
  host: { env: 'HOST' },
  'admin-port': { env: 'ADMIN_PORT' },
  'admin-host': { env: 'ADMIN_HOST' },
  'data-dir': { env: 'TELEHOOK_DATA_DIR' },
  'database-url': { env: 'DATABASE_URL' },
  'public-url': { env: 'TELEHOOK_PUBLIC_URL' },
  secret: { env: 'TELEHOOK_SECRET' },
  'admin-token': { env: 'TELEHOOK_ADMIN_TOKEN' },
  'master-key': { env: 'TELEHOOK_MASTER_KEY' },
  'telerivet-api-url': { env: 'TELERIVET_API_URL' },
  handlers: { env: 'TELEHOOK_HANDLERS' },
  'deadline-ms': { env: 'TELEHOOK_DEADLINE_MS' },
  'handler-timeout-ms': { env: 'TELEHOOK_HANDLER_TIMEOUT_MS' },
  'body-limit': { env: 'TELEHOOK_BODY_LIMIT' },
  'db-connect-timeout': { env: 'TELEHOOK_DB_CONNECT_TIMEOUT' },
  'wait-for-db': { env: 'TELEHOOK_WAIT_FOR_DB' },
  'log-level': { env: 'LOG_LEVEL' },
  role: { env: 'TELEHOOK_ROLE' },
  'single-project': { env: 'TELEHOOK_SINGLE_PROJECT' },
  'retention-days': { env: 'TELEHOOK_RETENTION_DAYS' },
  'stop-timeout-ms': { env: 'TELEHOOK_STOP_TIMEOUT_MS' },
  'secret-file': { env: 'TELEHOOK_SECRET_FILE' },
  'admin-token-file': { env: 'TELEHOOK_ADMIN_TOKEN_FILE' },
  'master-key-file': { env: 'TELEHOOK_MASTER_KEY_FILE' },
}

/** Secrets that may also be read from a file (`X_FILE`), so their value never shows in `ps`. */
const FROM_FILE = ['TELEHOOK_SECRET', 'TELEHOOK_ADMIN_TOKEN', 'TELEHOOK_MASTER_KEY'] as const

/**
 * Replaces each `X_FILE` in `env` by `X` read from that file (its content without the final
 * newline). Both set, or a file that cannot be read, is a usage error naming the setting.
 */
function readSecretFiles(env: Env, flagOf: Record<string, string>): void {
  const named = (name: string) => (flagOf[name] ? `${flagOf[name]} (${name})` : name)
  for (const name of FROM_FILE) {
    const fileVar = `${name}_FILE`
    const path = nonEmpty(env[fileVar])
    delete env[fileVar]
    if (path === undefined) continue
    if (nonEmpty(env[name]) !== undefined) {
      throw new UsageError(`${named(fileVar)} and ${named(name)} are both set: give one`)
    }
    let value: string
    try {
      value = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code
      throw new UsageError(`${named(fileVar)}: cannot read '${path}' (${why})`)
    }
    if (value.trim() === '') throw new UsageError(`${named(fileVar)}: '${path}' is empty`)
    env[name] = value
    // Errors about the value name the file it came from.
    flagOf[name] = named(fileVar)
  }
}

const DB_OPTIONS = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'db-connect-timeout': { type: 'string' },
  'wait-for-db': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig

const SERVE_OPTIONS: ParseArgsOptionsConfig = {
  help: { type: 'boolean', short: 'h' },
  'no-admin': { type: 'boolean' },
  'no-worker': { type: 'boolean' },
  ...Object.fromEntries(
    Object.entries(SERVE_FLAGS).map(([flag, { short }]) => [
      flag,
      short ? { type: 'string', short } : { type: 'string' },
    ]),
  ),
}

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
    // node:util's messages run on with advice about '--'; the first sentence is the useful part.
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)
    throw new UsageError(`${command}: ${message.replace(/\.? To specify.*$/, '')}`)
  }
}

function str(values: Parsed, key: string): string | undefined {
  const v = values[key]
  return typeof v === 'string' ? v : undefined
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function dbConfig(values: Parsed, env: Env): DbConfig {
  const flag = str(values, 'database-url')
  const databaseUrl = nonEmpty(flag ?? env.DATABASE_URL) ?? null
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // The value is not echoed: a database URL may carry a password.
    const source = flag !== undefined ? '--database-url' : 'DATABASE_URL'
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(databaseUrl)?.[1]
    const got = scheme ? `got a ${scheme}:// URL` : 'got something that is not a URL'
    throw new UsageError(
      `${source} must be a PostgreSQL URL, postgres://user:password@host:5432/database (${got}); leave it unset to use the embedded PGlite`,
    )
  }
  const dataDir = nonEmpty(str(values, 'data-dir') ?? env.TELEHOOK_DATA_DIR) ?? './.telehook'
  return {
    databaseUrl,
    dataDir,
    urlSource: flag !== undefined ? '--database-url' : 'DATABASE_URL',
    connectTimeoutMs:
      1000 * seconds(values, env, 'db-connect-timeout', 'TELEHOOK_DB_CONNECT_TIMEOUT', 1, 600, 10),
    waitForDbMs: 1000 * seconds(values, env, 'wait-for-db', 'TELEHOOK_WAIT_FOR_DB', 0, 3600, 0),
  }
}

/** A whole number of seconds from a flag or its variable, within [min, max]. */
function seconds(
  values: Parsed,
  env: Env,
  flag: string,
  variable: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const fromFlag = str(values, flag)
  const raw = nonEmpty(fromFlag ?? env[variable])
  if (raw === undefined) return fallback
  if (/^\d{1,6}$/.test(raw) && Number(raw) >= min && Number(raw) <= max) return Number(raw)
  const name = fromFlag !== undefined ? `--${flag} (${variable})` : variable
  throw new UsageError(
    `${name} must be a whole number of seconds from ${min} to ${max} (got ${JSON.stringify(raw)})`,
  )
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
  const merged: Env = { ...env }
  const flagOf: Record<string, string> = {}
  for (const [flag, { env: name }] of Object.entries(SERVE_FLAGS)) {
    const value = str(values, flag)
    if (value === undefined) continue
    merged[name] = value
    flagOf[name] = `--${flag}`
  }
  readSecretFiles(merged, flagOf)
  const roles = parseRoles(
    merged.TELEHOOK_ROLE,
    flagOf.TELEHOOK_ROLE ? `${flagOf.TELEHOOK_ROLE} (TELEHOOK_ROLE)` : 'TELEHOOK_ROLE',
  )
  const admin = roles.has('admin') && values['no-admin'] !== true
  const worker = roles.has('worker') && values['no-worker'] !== true
  if (!roles.has('webhook') && !admin && !worker) {
    throw new UsageError('serve: nothing to run (--no-admin and --no-worker leave no role)')
  }
  return {
    kind: 'serve',
    args: { env: merged, flagOf, webhook: roles.has('webhook'), admin, worker },
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
        json: { type: 'boolean' },
      })
      if (values.help) return { kind: 'help', topic: 'token' }
      const [sub, ...extra] = positionals
      const db = () => dbConfig(values, env)
      switch (sub) {
        case 'create': {
          const flag = str(values, 'name')
          if (flag !== undefined && extra.length > 0) {
            throw new UsageError(
              "token create: give the name once (as an argument or with '--name')",
            )
          }
          noPositionals('token create', extra.slice(1))
          return { kind: 'token-create', db: db(), name: nonEmpty(flag ?? extra[0]) ?? null }
        }
        case 'list':
          noPositionals('token list', extra)
          return { kind: 'token-list', db: db(), json: values.json === true }
        case 'revoke': {
          const [id, ...more] = extra
          if (id === undefined) {
            throw new UsageError("token revoke: missing token id (see 'telehook token list')")
          }
          noPositionals('token revoke', more)
          return { kind: 'token-revoke', db: db(), id }
        }
        default:
          throw new UsageError(
            sub === undefined
              ? "token: missing subcommand: create, list or revoke (try 'telehook token create ci')"
              : `token: unknown subcommand '${sub}' (create, list or revoke)`,
          )
      }
    }
    case 'backup': {
      const { values, positionals } = parse('backup', rest, {
        ...DB_OPTIONS,
        out: { type: 'string', short: 'o' },
      })
      if (values.help) return { kind: 'help', topic: 'backup' }
      noPositionals('backup', positionals)
      const db = dbConfig(values, env)
      if (db.databaseUrl !== null) {
        throw new UsageError(
          `backup: it copies the PGlite data folder; with ${db.urlSource} the data is in PostgreSQL: use pg_dump`,
        )
      }
      return { kind: 'backup', dataDir: db.dataDir, out: nonEmpty(str(values, 'out')) ?? null }
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

const TOPICS: readonly HelpTopic[] = ['serve', 'migrate', 'token', 'sim', 'backup']

function helpTopic(word: string | undefined): HelpTopic {
  return TOPICS.find((t) => t === word) ?? 'main'
}
