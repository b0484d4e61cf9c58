import { describe, expect, test } from 'bun:test'
import { connectReason, probePostgres, redactUrl } from './connect'
import { TEST_DATABASE_URL, TEST_DRIVERS } from './testing'

describe('redactUrl', () => {
  test('hides the password, in the authority and in the query', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/telehook')).toBe(
      'postgres://app:***@db:5432/telehook',
    )
    expect(redactUrl('postgres://app@db/x?password=s3cret')).not.toContain('s3cret')
    expect(redactUrl('postgres://app:s3cret@a:1,b:2/x')).toBe('postgres://app:***@a:1,b:2/x')
    expect(redactUrl('postgres://app@db/x')).toBe('postgres://app@db/x')
  })
})

describe('probePostgres', () => {
  test('an HTTP server is named as not PostgreSQL, with what it answered', async () => {
    const http = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    try {
      const reason = await probePostgres({ host: '127.0.0.1', port: http.port ?? 0 }, 5000)
      expect(reason).toMatch(/is not PostgreSQL \(it answered "HTTP\/1\.1 400/)
    } finally {
      http.stop(true)
    }
  })

  test.skipIf(!TEST_DRIVERS.includes('postgres'))('PostgreSQL answers the probe', async () => {
    const url = new URL(TEST_DATABASE_URL)
    const address = { host: url.hostname, port: Number(url.port || 5432) }
    expect(await probePostgres(address, 5000)).toBeNull()
  })
})

test('connectReason words the server errors a user can fix', () => {
  const url = 'postgres://app:pw@db:5432/shop'
  expect(connectReason({ code: '3D000', message: 'x' }, url)).toContain("database 'shop'")
  expect(connectReason({ code: '28P01', message: 'x' }, url)).toContain("user 'app'")
})
