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
      logLevel: 'info',
      connectTimeoutMs: 10_000,
      waitForDbMs: 0,
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
    const lines = problemsOf({ TELEHOOK_SECRET: 'short', DATABASE_URL: 'mysql://u:pw@h/db' })
    expect(lines).toHaveLength(2)
    expect(lines.join('\n')).not.toContain('short')
    expect(lines.join('\n')).not.toContain('pw@h')
    expect(lines.some((l) => l.startsWith('TELEHOOK_SECRET '))).toBe(true)
    expect(lines.some((l) => l.startsWith('DATABASE_URL '))).toBe(true)
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
    expect(problemsOf({ TELEHOOK_SECRET: 'short' })).toEqual([
      'TELEHOOK_SECRET must be 8 to 512 characters long (got 5)',
    ])
    expect(problemsOf({ LOG_LEVEL: 'verbose' })).toEqual([
      'LOG_LEVEL must be one of debug, info, warn, error (got "verbose")',
    ])
    expect(loadWebhookConfig({ LOG_LEVEL: 'warn' }).logLevel).toBe('warn')
    expect(problemsOf({ TELEHOOK_WAIT_FOR_DB: 'soon' })).toEqual([
      'TELEHOOK_WAIT_FOR_DB must be a whole number from 0 to 3600 (got "soon")',
    ])
  })

  test('the handler timeout must be below the deadline', () => {
    const lines = problemsOf({ TELEHOOK_DEADLINE_MS: '2000', TELEHOOK_HANDLER_TIMEOUT_MS: '2000' })
    expect(lines).toEqual([expect.stringMatching(/^TELEHOOK_HANDLER_TIMEOUT_MS must be below/)])
  })
})
