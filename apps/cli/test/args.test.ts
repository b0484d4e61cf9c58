import { describe, expect, test } from 'bun:test'
import { parseCommand, UsageError } from '../src/args.ts'

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

  test('serve defaults', () => {
    const command = parseCommand(['serve'], {})
    if (command.kind !== 'serve') throw new Error(command.kind)
    expect(command.config).toEqual({
      db: { databaseUrl: null, dataDir: './.telehook' },
      host: '0.0.0.0',
      port: 8000,
      admin: true,
      adminHost: '127.0.0.1',
      adminPort: 8081,
      worker: true,
      publicUrl: null,
      secret: null,
      adminToken: null,
      masterKey: null,
      telerivetApiUrl: null,
      handlers: 'example',
      deadlineMs: 8000,
      handlerTimeoutMs: 3000,
      bodyLimit: 262144,
    })
  })

  test('environment fills serve, flags win over it', () => {
    const env = {
      PORT: '9000',
      ADMIN_PORT: '9001',
      DATABASE_URL: 'postgres://root@127.0.0.1:5432/x',
      TELEHOOK_DATA_DIR: '/var/lib/telehook',
      TELEHOOK_SECRET: 'a-long-secret',
      TELEHOOK_PUBLIC_URL: 'https://hooks.example.com',
      TELEHOOK_HANDLERS: './bot.ts',
      TELEHOOK_DEADLINE_MS: '5000',
      ADMIN_HOST: '',
    }
    const command = parseCommand(['serve', '--port', '7000', '--no-worker', '--no-admin'], env)
    if (command.kind !== 'serve') throw new Error(command.kind)
    const c = command.config
    expect(c.port).toBe(7000)
    expect(c.adminPort).toBe(9001)
    expect(c.adminHost).toBe('127.0.0.1') // empty counts as unset
    expect(c.db).toEqual({
      databaseUrl: 'postgres://root@127.0.0.1:5432/x',
      dataDir: '/var/lib/telehook',
    })
    expect(c.secret).toBe('a-long-secret')
    expect(c.publicUrl).toBe('https://hooks.example.com')
    expect(c.handlers).toBe('./bot.ts')
    expect(c.deadlineMs).toBe(5000)
    expect(c.worker).toBe(false)
    expect(c.admin).toBe(false)
  })

  test('migrate and token create', () => {
    expect(parseCommand(['migrate', '--data-dir', 'd'], {})).toEqual({
      kind: 'migrate',
      db: { databaseUrl: null, dataDir: 'd' },
    })
    expect(parseCommand(['token', 'create', '--name', 'ci'], {})).toEqual({
      kind: 'token-create',
      db: { databaseUrl: null, dataDir: './.telehook' },
      name: 'ci',
    })
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
  })

  test('bad values name the flag or variable they came from', () => {
    expect(usage(['serve', '--port', 'abc'])).toBe(
      "--port must be a port number from 0 to 65535, got 'abc'",
    )
    expect(usage(['serve'], { PORT: '70000' })).toBe(
      "PORT must be a port number from 0 to 65535, got '70000'",
    )
    expect(usage(['serve'], { ADMIN_PORT: '-1' })).toContain('ADMIN_PORT must be a port number')
    expect(usage(['serve'], { TELEHOOK_DEADLINE_MS: '20000' })).toBe(
      "TELEHOOK_DEADLINE_MS must be a whole number from 100 to 9500, got '20000'",
    )
    expect(usage(['serve'], { TELEHOOK_BODY_LIMIT: '1e6' })).toContain('TELEHOOK_BODY_LIMIT')
    expect(usage(['serve'], { TELEHOOK_HANDLER_TIMEOUT_MS: '8000' })).toContain(
      'must be below the deadline',
    )
    expect(usage(['serve', '--public-url', 'ftp://x'])).toBe(
      "--public-url must start with http:// or https://, got 'ftp://x'",
    )
  })

  test('errors about secrets never echo the value', () => {
    const secret = usage(['serve'], { TELEHOOK_SECRET: 'short' })
    expect(secret).toBe('TELEHOOK_SECRET must be 8 to 512 characters long')
    const url = usage(['migrate'], { DATABASE_URL: 'mysql://u:hunter2@h/db' })
    expect(url).toBe('DATABASE_URL must start with postgres:// or postgresql://')
    expect(url).not.toContain('hunter2')
  })
})
