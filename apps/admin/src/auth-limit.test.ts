import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import type { Database } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createJsonLogger } from '@telehook/engine'
import { createAdminApp } from './app'
import { adminFetch, createAuthFailureLimiter } from './auth-limit'
import { importMasterKey } from './crypto'
import { createAdminToken } from './modules/tokens/service'

const TOKEN = 'limit-test-admin-token-0123456789'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))

/** GET over a socket from `localAddress` (any 127.x address reaches a server on 127.0.0.1). */
function getFrom(
  port: number,
  localAddress: string,
  path: string,
  token: string,
): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      ),
    )
    socket.setEncoding('utf8')
    socket.on('data', (d) => {
      buf += d
    })
    socket.on('error', reject)
    socket.on('close', () =>
      resolve({ status: Number(buf.slice(9, 12)), head: buf.slice(0, buf.indexOf('\r\n\r\n')) }),
    )
  })
}

describe('createAuthFailureLimiter', () => {
  test('max failures per address and window, then a wait until the window ends', () => {
    const l = createAuthFailureLimiter({ max: 3, windowMs: 10_000 })
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('a', 1000)).toBe(0)
      l.fail('a', 1000 + i)
    }
    expect(l.retryAfter('a', 2000)).toBe(9)
    expect(l.retryAfter('b', 2000)).toBe(0)
    expect(l.retryAfter('a', 10_999)).toBe(1)
    expect(l.retryAfter('a', 11_000)).toBe(0)
    l.fail('a', 11_000)
    expect(l.retryAfter('a', 11_001)).toBe(0)
  })

  test('memory stays bounded under many addresses', () => {
    const l = createAuthFailureLimiter({ max: 1, windowMs: 60_000 })
    for (let i = 0; i < 12_000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, 1000)
    // The oldest were dropped to make room; the newest are still limited.
    expect(l.retryAfter('10.0.0.0', 1001)).toBe(0)
    expect(l.retryAfter(`10.0.${11_999 >> 8}.${11_999 & 255}`, 1001)).toBeGreaterThan(0)
  })
})

describe.each(TEST_DRIVERS)('failed admin tokens on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let server: ReturnType<typeof Bun.serve>
  const updates: string[] = []
  const logLines: string[] = []
  let stored = ''

  beforeAll(async () => {
    database = await openTestDb(driver)
    stored = (await createAdminToken(database, 'stored')).token
    // Records every UPDATE the app asks for.
    const db = new Proxy(database.db, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver)
        if (prop !== 'update' || typeof value !== 'function') return value
        return (...args: unknown[]) => {
          updates.push(String(prop))
          return value.apply(target, args)
        }
      },
    })
    const app = createAdminApp({
      database: { ...database, db } as Database,
      publicUrl: undefined,
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
      authFailureLimit: { max: 3, windowMs: 60_000 },
      logger: createJsonLogger((l) => logLines.push(l)),
    })
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: adminFetch(app) })
  })

  afterAll(async () => {
    await server?.stop(true)
    await database?.drop()
  })

  test('a refused token writes nothing; a stored one records its use at most once a minute', async () => {
    const port = server.port as number
    expect((await getFrom(port, '127.0.0.1', '/v1/projects', 'wrong-token')).status).toBe(401)
    expect(updates).toEqual([])
    expect((await getFrom(port, '127.0.0.1', '/v1/projects', stored)).status).toBe(200)
    expect((await getFrom(port, '127.0.0.1', '/v1/projects', stored)).status).toBe(200)
    expect(updates).toEqual(['update'])
  })

  test('after max failures an address gets 429 with Retry-After, even with the right token', async () => {
    const port = server.port as number
    // 127.0.0.1 failed once above; two more reach the limit.
    for (let i = 0; i < 2; i++) {
      expect((await getFrom(port, '127.0.0.1', '/v1/projects', `wrong-${i}`)).status).toBe(401)
    }
    const blocked = await getFrom(port, '127.0.0.1', '/v1/projects', TOKEN)
    expect(blocked.status).toBe(429)
    expect(blocked.head.toLowerCase()).toMatch(/retry-after: \d+/)
    // Another address is not affected, and public paths stay open.
    expect((await getFrom(port, '127.0.0.2', '/v1/projects', TOKEN)).status).toBe(200)
    expect((await getFrom(port, '127.0.0.1', '/healthz', '')).status).toBe(200)
    expect(logLines.some((l) => l.includes('"status":429'))).toBe(true)
    expect(updates.length).toBe(1)
  })
})
