import { describe, expect, test } from 'bun:test'
import { parseCommand, UsageError } from '../src/args.ts'
import { resolveServeConfig } from '../src/config.ts'

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64')

function resolve(argv: string[], env: Record<string, string> = {}) {
  const command = parseCommand(['serve', ...argv], env)
  if (command.kind !== 'serve') throw new Error(command.kind)
  return resolveServeConfig(command.args)
}

function problem(argv: string[], env: Record<string, string> = {}): string {
  try {
    resolve(argv, env)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error('expected a usage error')
}

describe('resolveServeConfig', () => {
  test('defaults: PGlite in ./.telehook, ports 8000 and 8081, the example handlers', () => {
    const c = resolve([])
    expect(c.db).toMatchObject({ databaseUrl: null, dataDir: './.telehook' })
    expect(c.webhook.port).toBe(8000)
    expect(c.admin?.port).toBe(8081)
    expect(c.admin?.host).toBe('127.0.0.1')
    expect(c.handlers).toBe('example')
    expect(c.worker).toBe(true)
  })

  test('flags and environment reach both apps', () => {
    const c = resolve(
      [
        '--port',
        '9000',
        '--database-url',
        'postgres://h/db',
        '--secret',
        'shared-by-all-instances',
        '--master-key',
        MASTER_KEY,
        '--handlers',
        'none',
      ],
      {
        ADMIN_PORT: '9001',
        TELERIVET_API_URL: 'http://127.0.0.1:8088/v1',
      },
    )
    expect(c.webhook.port).toBe(9000)
    expect(c.db.databaseUrl).toBe('postgres://h/db')
    expect(c.handlers).toBe('none')
    expect(c.admin?.port).toBe(9001)
    expect(c.admin?.telerivetApiUrl).toBe('http://127.0.0.1:8088/v1')
  })

  test('a bad value is named by the flag that set it, else by its variable', () => {
    expect(problem(['--port', 'abc'])).toStartWith('--port (PORT) must be a whole number')
    expect(problem([], { PORT: 'abc' })).toStartWith('PORT must be a whole number')
    expect(problem(['--admin-port', '70000'])).toStartWith('--admin-port (ADMIN_PORT)')
  })

  test('every bad value is reported, on one line', () => {
    const message = problem(['--port', 'x'], { TELEHOOK_BODY_LIMIT: 'big', ADMIN_PORT: 'y' })
    expect(message).not.toContain('\n')
    for (const name of ['PORT', 'TELEHOOK_BODY_LIMIT', 'ADMIN_PORT'])
      expect(message).toContain(name)
  })

  test('PostgreSQL without a webhook secret is refused, not given a per-machine secret', () => {
    expect(problem(['--database-url', 'postgres://h/db', '--no-admin'])).toStartWith(
      'TELEHOOK_SECRET is required',
    )
    expect(
      resolve(['--no-admin'], { DATABASE_URL: 'postgres://h/db', TELEHOOK_SECRET: 'x'.repeat(16) })
        .db,
    ).toMatchObject({ databaseUrl: 'postgres://h/db', dataDir: './.telehook' })
  })

  test('PostgreSQL with the admin API needs the master key: no per-machine key file', () => {
    const pg = ['--database-url', 'postgres://h/db', '--secret', 'shared-by-all-instances']
    expect(problem(pg)).toStartWith('TELEHOOK_MASTER_KEY is required with DATABASE_URL')
    expect(resolve([...pg, '--master-key', MASTER_KEY]).admin?.masterKey).toBe(MASTER_KEY)
    // Without the admin API nothing is encrypted, and on PGlite the key file is the only one.
    expect(resolve([...pg, '--no-admin']).admin).toBeNull()
    expect(resolve([]).admin?.masterKey).toBeUndefined()
  })

  test('secrets are never echoed in errors', () => {
    const message = problem([], { TELEHOOK_SECRET: 'short', DATABASE_URL: 'mysql://u:hunter2@h/d' })
    expect(message).toContain('TELEHOOK_SECRET')
    expect(message).toContain('DATABASE_URL')
    expect(message).not.toContain('short')
    expect(message).not.toContain('hunter2')
  })

  test('ADMIN_PORT equal to PORT is refused before anything binds', () => {
    expect(problem(['--admin-port', '8000'])).toBe(
      '--admin-port (ADMIN_PORT) must differ from PORT (both 8000): the webhook and the admin API each listen on their own port',
    )
    expect(problem([], { PORT: '9000', ADMIN_PORT: '9000' })).toStartWith(
      'ADMIN_PORT must differ from PORT (both 9000)',
    )
    // Two specific addresses may share a port number; --no-admin has no admin port.
    expect(resolve([], { HOST: '10.0.0.5', ADMIN_PORT: '8000' }).admin?.port).toBe(8000)
    expect(resolve(['--no-admin', '--port', '8081']).webhook.port).toBe(8081)
  })

  test('--stop-timeout-ms / TELEHOOK_STOP_TIMEOUT_MS: the whole stop, one line when wrong', () => {
    expect(resolve([]).webhook.stopTimeoutMs).toBe(8000)
    expect(resolve(['--stop-timeout-ms', '25000']).webhook.stopTimeoutMs).toBe(25_000)
    const c = resolve([], { TELEHOOK_STOP_TIMEOUT_MS: '3000' })
    expect([c.webhook.stopTimeoutMs, c.admin?.stopTimeoutMs]).toEqual([3000, 3000])
    // Both apps read it; the line is printed once, naming the flag that set it.
    expect(problem(['--stop-timeout-ms', '10s'])).toBe(
      '--stop-timeout-ms (TELEHOOK_STOP_TIMEOUT_MS) must be a whole number of milliseconds from 3000 to 3600000: the whole stop, to keep under the time your supervisor waits before SIGKILL (docker stop: 10 s) (got "10s")',
    )
    expect(problem([], { TELEHOOK_STOP_TIMEOUT_MS: '500' })).toStartWith(
      'TELEHOOK_STOP_TIMEOUT_MS must be a whole number of milliseconds from 3000 to 3600000',
    )
    expect(problem([], { TELEHOOK_STOP_TIMEOUT_MS: '500' })).not.toContain(';')
  })

  test('--no-admin skips the admin settings entirely', () => {
    const c = resolve(['--no-admin'], { ADMIN_PORT: 'not-a-port' })
    expect(c.admin).toBeNull()
  })
})
