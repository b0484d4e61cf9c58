import { describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCommand, SERVE_FLAGS, UsageError } from '../src/args.ts'

function usage(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, env)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    return message
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`)
}

describe('parseCommand', () => {
  test('no arguments, help and --help print the main help', () => {
    expect(parseCommand([], {})).toEqual({ kind: 'help', topic: 'main' })
    expect(parseCommand(['--help'], {})).toEqual({ kind: 'help', topic: 'main' })
    expect(parseCommand(['help', 'serve'], {})).toEqual({ kind: 'help', topic: 'serve' })
    expect(parseCommand(['serve', '--help'], {})).toEqual({ kind: 'help', topic: 'serve' })
    expect(parseCommand(['token', '-h'], {})).toEqual({ kind: 'help', topic: 'token' })
  })

  test('--version and -v', () => {
    expect(parseCommand(['--version'], {})).toEqual({ kind: 'version' })
    expect(parseCommand(['-v'], {})).toEqual({ kind: 'version' })
  })

  test('serve lays its flags over the environment and remembers which flag set what', () => {
    const env = { PORT: '9000', ADMIN_PORT: '9001', TELEHOOK_SECRET: 'from-env-secret' }
    const command = parseCommand(
      ['serve', '-p', '7000', '--handlers', './bot.ts', '--no-worker', '--data-dir', 'd'],
      env,
    )
    expect(command).toEqual({
      kind: 'serve',
      args: {
        env: {
          PORT: '7000',
          ADMIN_PORT: '9001',
          TELEHOOK_SECRET: 'from-env-secret',
          TELEHOOK_HANDLERS: './bot.ts',
          TELEHOOK_DATA_DIR: 'd',
        },
        flagOf: {
          PORT: '--port',
          TELEHOOK_HANDLERS: '--handlers',
          TELEHOOK_DATA_DIR: '--data-dir',
        },
        webhook: true,
        admin: true,
        worker: false,
      },
    })
    expect(env.PORT).toBe('9000') // the caller's environment is not changed
  })

  test('--role (TELEHOOK_ROLE) picks the roles; --no-admin and --no-worker take one away', () => {
    const roles = (argv: string[], env = {}) => {
      const command = parseCommand(['serve', ...argv], env)
      if (command.kind !== 'serve') throw new Error(command.kind)
      const { webhook, admin, worker } = command.args
      return { webhook, admin, worker }
    }
    expect(roles([])).toEqual({ webhook: true, admin: true, worker: true })
    expect(roles(['--role', 'webhook,worker'])).toEqual({
      webhook: true,
      admin: false,
      worker: true,
    })
    expect(roles([], { TELEHOOK_ROLE: 'worker' })).toEqual({
      webhook: false,
      admin: false,
      worker: true,
    })
    expect(roles(['--role', 'admin,worker', '--no-worker'])).toEqual({
      webhook: false,
      admin: true,
      worker: false,
    })
    expect(() => roles(['--role', 'admin', '--no-admin'])).toThrow('serve: nothing to run')
    expect(() => roles(['--role', 'webhook,db'])).toThrow(
      '--role (TELEHOOK_ROLE) must be a comma-separated list of webhook, admin, worker (got "db")',
    )
    expect(() => roles([], { TELEHOOK_ROLE: 'all' })).toThrow(/^TELEHOOK_ROLE must be/)
  })

  test('every serve flag stands for one variable', () => {
    for (const [flag, { env }] of Object.entries(SERVE_FLAGS)) {
      if (flag.endsWith('-file')) continue // read at once: see the *_FILE test
      const value = flag === 'role' ? 'worker' : 'v'
      const command = parseCommand(['serve', `--${flag}`, value], {})
      if (command.kind !== 'serve') throw new Error(command.kind)
      expect(command.args.env).toEqual({ [env]: value })
    }
  })

  test('*_FILE: a secret read from a file, so it does not show in ps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telehook-args-'))
    try {
      await writeFile(join(dir, 'secret'), 'from-a-file-secret\n')
      await writeFile(join(dir, 'key'), 'a-master-key')
      await writeFile(join(dir, 'empty'), '\n')
      const command = parseCommand(['serve', '--secret-file', join(dir, 'secret')], {
        TELEHOOK_MASTER_KEY_FILE: join(dir, 'key'),
      })
      if (command.kind !== 'serve') throw new Error(command.kind)
      expect(command.args.env).toEqual({
        TELEHOOK_SECRET: 'from-a-file-secret',
        TELEHOOK_MASTER_KEY: 'a-master-key',
      })
      expect(command.args.flagOf.TELEHOOK_SECRET).toBe('--secret-file (TELEHOOK_SECRET_FILE)')
      expect(usage(['serve', '--secret-file', join(dir, 'nope')])).toBe(
        `--secret-file (TELEHOOK_SECRET_FILE): cannot read '${join(dir, 'nope')}' (no such file)`,
      )
      expect(usage(['serve'], { TELEHOOK_ADMIN_TOKEN_FILE: join(dir, 'empty') })).toBe(
        `TELEHOOK_ADMIN_TOKEN_FILE: '${join(dir, 'empty')}' is empty`,
      )
      expect(
        usage(['serve', '--secret', 'x'.repeat(9)], { TELEHOOK_SECRET_FILE: join(dir, 'secret') }),
      ).toBe('TELEHOOK_SECRET_FILE and --secret (TELEHOOK_SECRET) are both set: give one')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('migrate and token create', () => {
    const defaults = { urlSource: 'DATABASE_URL', connectTimeoutMs: 10_000, waitForDbMs: 0 }
    expect(parseCommand(['migrate'], { DATABASE_URL: 'postgres://h/db' })).toEqual({
      kind: 'migrate',
      db: { databaseUrl: 'postgres://h/db', dataDir: './.telehook', ...defaults },
    })
    expect(parseCommand(['migrate', '--data-dir', 'd'], {})).toEqual({
      kind: 'migrate',
      db: { databaseUrl: null, dataDir: 'd', ...defaults },
    })
    expect(parseCommand(['token', 'create', '--name', 'ci'], {})).toEqual({
      kind: 'token-create',
      db: { databaseUrl: null, dataDir: './.telehook', ...defaults },
      name: 'ci',
    })
    expect(parseCommand(['token', 'create', 'ci'], {})).toMatchObject({
      kind: 'token-create',
      name: 'ci',
    })
    expect(parseCommand(['token', 'create'], {})).toMatchObject({ name: null })
    expect(parseCommand(['token', 'list', '--json'], {})).toMatchObject({
      kind: 'token-list',
      json: true,
    })
    expect(parseCommand(['token', 'revoke', 'tok_first'], {})).toMatchObject({
      kind: 'token-revoke',
      id: 'tok_first',
    })
    expect(
      parseCommand(['migrate', '--wait-for-db', '60'], { TELEHOOK_DB_CONNECT_TIMEOUT: '3' }),
    ).toMatchObject({ db: { connectTimeoutMs: 3000, waitForDbMs: 60_000 } })
    expect(() => parseCommand(['migrate', '--wait-for-db=-1'], {})).toThrow(
      '--wait-for-db (TELEHOOK_WAIT_FOR_DB) must be a whole number of seconds from 0 to 3600 (got "-1")',
    )
  })

  test('sim passes every argument through, even unknown flags', () => {
    expect(parseCommand(['sim', '--port', '8088', '--whatever'], {})).toEqual({
      kind: 'sim',
      argv: ['--port', '8088', '--whatever'],
    })
  })

  test('unknown commands and flags', () => {
    expect(usage(['deploy'])).toBe("unknown command 'deploy' (see 'telehook --help')")
    expect(usage(['--frobnicate'])).toBe("unknown option '--frobnicate' (see 'telehook --help')")
    expect(usage(['serve', '--prot', '1'])).toContain("serve: Unknown option '--prot'")
    expect(usage(['serve', 'extra'])).toBe("serve: unexpected argument 'extra'")
    expect(usage(['serve', '--port'])).toContain("--port <value>' argument missing")
    expect(usage(['token'])).toContain('missing subcommand')
    expect(usage(['token', 'delete'])).toContain("unknown subcommand 'delete'")
    expect(usage(['token', 'revoke'])).toContain('missing token id')
    expect(usage(['token', 'create', 'a', '--name', 'b'])).toContain('give the name once')
    expect(usage(['token', 'create', 'a', 'b'])).toContain("unexpected argument 'b'")
  })

  test('a bad database URL is named, never echoed', () => {
    const url = usage(['migrate'], { DATABASE_URL: 'mysql://u:hunter2@h/db' })
    expect(url).toBe(
      'DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/database (got a mysql:// URL); leave it unset to use the embedded PGlite',
    )
    expect(url).not.toContain('hunter2')
    expect(usage(['token', 'create', '--database-url', 'x'])).toStartWith(
      '--database-url must be a PostgreSQL URL, postgres://user:password@host:5432/database (got something that is not a URL)',
    )
  })
})
