import { describe, expect, test } from 'bun:test'
import { ConfigError, loadWebhookConfig } from '../src/config'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadWebhookConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as ConfigError).message.split('\n')
  }
  throw new Error('expected a ConfigError')
}

describe('loadWebhookConfig', () => {
  test('defaults', () => {
    expect(loadWebhookConfig({})).toEqual({
      port: 8000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: './.telehook',
      secret: undefined,
      deadlineMs: 8000,
      bodyLimit: 262144,
      handlerTimeoutMs: 3000,
      handlersPath: undefined,
      singleProject: true,
      publicMetrics: false,
      trustedProxies: [],
      logLevel: 'info',
      retentionDays: 0,
      connectTimeoutMs: 10_000,
      waitForDbMs: 0,
      stopTimeoutMs: 8000,
    })
  })

  test('reads every variable, empty values count as unset', () => {
    const config = loadWebhookConfig({
      PORT: '9001',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://root@127.0.0.1:5432/test',
      TELEHOOK_DATA_DIR: '/tmp/x',
      TELEHOOK_SECRET: 'a-long-enough-secret',
      TELEHOOK_DEADLINE_MS: '5000',
      TELEHOOK_BODY_LIMIT: '2048',
      TELEHOOK_HANDLER_TIMEOUT_MS: '',
      TELEHOOK_HANDLERS: './my-handlers.ts',
    })
    expect(config).toMatchObject({
      port: 9001,
      host: '127.0.0.1',
      databaseUrl: 'postgres://root@127.0.0.1:5432/test',
      dataDir: '/tmp/x',
      secret: 'a-long-enough-secret',
      deadlineMs: 5000,
      bodyLimit: 2048,
      handlerTimeoutMs: 3000,
      handlersPath: './my-handlers.ts',
    })
  })

  test('one line per bad variable, each naming it', () => {
    const lines = problemsOf({
      PORT: 'eighty',
      TELEHOOK_DEADLINE_MS: '20000',
      TELEHOOK_BODY_LIMIT: '1e6',
    })
    expect(lines).toHaveLength(3)
    expect(lines[0]).toStartWith('PORT ')
    expect(lines[0]).toContain('"eighty"')
    expect(lines.find((l) => l.startsWith('TELEHOOK_DEADLINE_MS '))).toContain('9500')
    expect(lines.some((l) => l.startsWith('TELEHOOK_BODY_LIMIT '))).toBe(true)
  })

  test('never echoes the secret or the database URL', () => {
    const lines = problemsOf({
      TELEHOOK_SECRET: 'short-but-12',
      DATABASE_URL: 'mysql://u:pw@h/db',
    })
    expect(lines).toHaveLength(2)
    expect(lines.join('\n')).not.toContain('short-but-12')
    expect(lines.join('\n')).not.toContain('pw@h')
    expect(lines.some((l) => l.startsWith('TELEHOOK_SECRET '))).toBe(true)
    expect(lines.some((l) => l.startsWith('DATABASE_URL '))).toBe(true)
  })

  test('TELEHOOK_SECRET must be at least 16 characters, and the line says why', () => {
    const lines = problemsOf({ TELEHOOK_SECRET: 'eight-ch' })
    expect(lines).toEqual([
      expect.stringMatching(/^TELEHOOK_SECRET must be at least 16 characters .*unsalted SHA-256/),
    ])
    expect(loadWebhookConfig({ TELEHOOK_SECRET: 'sixteen-chars-ok' }).secret).toBe(
      'sixteen-chars-ok',
    )
  })

  test('TELEHOOK_PUBLIC_METRICS and TELEHOOK_TRUSTED_PROXIES', () => {
    expect(
      loadWebhookConfig({
        TELEHOOK_PUBLIC_METRICS: '1',
        TELEHOOK_TRUSTED_PROXIES: '10.0.0.1, ::1',
      }),
    ).toMatchObject({ publicMetrics: true, trustedProxies: ['10.0.0.1', '::1'] })
    expect(problemsOf({ TELEHOOK_PUBLIC_METRICS: 'yes' })[0]).toStartWith(
      'TELEHOOK_PUBLIC_METRICS ',
    )
    expect(problemsOf({ TELEHOOK_TRUSTED_PROXIES: 'proxy.local' })[0]).toStartWith(
      'TELEHOOK_TRUSTED_PROXIES ',
    )
  })

  test('DATABASE_URL without TELEHOOK_SECRET is refused: instances sharing it need one secret', () => {
    const lines = problemsOf({ DATABASE_URL: 'postgres://root@127.0.0.1:5432/test' })
    expect(lines).toEqual([expect.stringMatching(/^TELEHOOK_SECRET is required when DATABASE_URL/)])
    expect(loadWebhookConfig({ TELEHOOK_DATA_DIR: '/tmp/x' }).secret).toBeUndefined()
  })

  test('errors say what the value must be, in words', () => {
    expect(problemsOf({ PORT: '-1' })).toEqual([
      'PORT must be a whole number from 0 to 65535, 0 picks a free port (got "-1")',
    ])
    expect(problemsOf({ DATABASE_URL: 'mysql://app:pw@db/shop' })).toEqual([
      'DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/database (got a mysql:// URL); leave it unset to use the embedded PGlite',
    ])
    expect(problemsOf({ TELEHOOK_SECRET: 'x'.repeat(513) })).toEqual([
      'TELEHOOK_SECRET must be at most 512 characters long (got 513)',
    ])
    expect(problemsOf({ LOG_LEVEL: 'verbose' })).toEqual([
      'LOG_LEVEL must be one of debug, info, warn, error (got "verbose")',
    ])
    expect(loadWebhookConfig({ LOG_LEVEL: 'warn' }).logLevel).toBe('warn')
    expect(problemsOf({ TELEHOOK_WAIT_FOR_DB: 'soon' })).toEqual([
      'TELEHOOK_WAIT_FOR_DB must be a whole number from 0 to 3600 (got "soon")',
    ])
  })

  test('TELEHOOK_STOP_TIMEOUT_MS: milliseconds from 3000 to an hour; anything else stops start-up', () => {
    expect(loadWebhookConfig({ TELEHOOK_STOP_TIMEOUT_MS: '25000' }).stopTimeoutMs).toBe(25_000)
    expect(loadWebhookConfig({ TELEHOOK_STOP_TIMEOUT_MS: ' 3000 ' }).stopTimeoutMs).toBe(3000)
    expect(loadWebhookConfig({ TELEHOOK_STOP_TIMEOUT_MS: '' }).stopTimeoutMs).toBe(8000)
    for (const [bad, got] of [
      ['10s', '"10s"'],
      ['2999', '2999'],
      ['-1', '"-1"'],
      ['3600001', '3600001'],
      ['8e3', '"8e3"'],
      ['8000.5', '"8000.5"'],
    ]) {
      expect(problemsOf({ TELEHOOK_STOP_TIMEOUT_MS: bad ?? '' })).toEqual([
        `TELEHOOK_STOP_TIMEOUT_MS must be a whole number of milliseconds from 3000 to 3600000: the whole stop, to keep under the time your supervisor waits before SIGKILL (docker stop: 10 s) (got ${got})`,
      ])
    }
  })

  test('the handler timeout must be below the deadline', () => {
    const lines = problemsOf({ TELEHOOK_DEADLINE_MS: '2000', TELEHOOK_HANDLER_TIMEOUT_MS: '2000' })
    expect(lines).toEqual([expect.stringMatching(/^TELEHOOK_HANDLER_TIMEOUT_MS must be below/)])
  })
})
