/**
 * The endpoint cache under hostile traffic: ids of the wrong shape never reach the database,
 * concurrent checks of one id share one look-up, and made-up ids cannot push real endpoints out.
 */
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  setDefaultTimeout,
  setSystemTime,
  test,
} from 'bun:test'
import type { Database } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import {
  createEndpoint,
  createEndpointAuthenticator,
  isEndpointId,
  rotateEndpointSecret,
} from './endpoints'
import { createEngine } from './ingest'

setDefaultTimeout(30_000)

/** The database with every `select` counted (the authenticator's only query). */
function counting(database: Database): { database: Database; selects: () => number } {
  let selects = 0
  const db = new Proxy(database.db, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (key !== 'select' || typeof value !== 'function') return value
      return (...args: unknown[]) => {
        selects += 1
        return value.apply(target, args)
      }
    },
  })
  return { database: { ...database, db }, selects: () => selects }
}

describe('isEndpointId', () => {
  test.each([
    ['default', true],
    ['Ab3_-xYz0123456789abcd', true],
    ['x'.repeat(64), true],
    ['', false],
    ['x'.repeat(65), false],
    ['a\u0000b', false],
    ['a/b', false],
    ['a b', false],
    ["'; drop table endpoints; --", false],
    ['é', false],
  ])('%p → %p', (id, ok) => {
    expect(isEndpointId(id)).toBe(ok)
  })
})

for (const driver of TEST_DRIVERS) {
  describe(`endpoint cache on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    beforeAll(async () => {
      database = await openTestDb(driver)
    })
    afterAll(async () => {
      await database?.drop()
    })

    test('an id that is not of the endpoint shape never reaches the database', async () => {
      const c = counting(database)
      const engine = createEngine({ database: c.database })
      for (const id of ['\u0000', 'a\u0000', 'x'.repeat(500), 'a/b', '%00', "1' or '1'='1"]) {
        expect(await engine.authenticate(id, 'some-secret')).toBeNull()
      }
      expect(c.selects()).toBe(0)
    })

    test('50 concurrent checks of one unknown id make one query', async () => {
      const c = counting(database)
      const engine = createEngine({ database: c.database })
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => engine.authenticate('never-made-0123456789', 'secret')),
      )
      expect(answers.every((a) => a === null)).toBe(true)
      expect(c.selects()).toBe(1)
    })

    test('50 concurrent checks of one valid endpoint, not yet cached, make one query', async () => {
      const ep = await createEndpoint(database, { kind: 'service', secret: 'right-secret-0001' })
      const c = counting(database)
      const engine = createEngine({ database: c.database })
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => engine.authenticate(ep.id, 'right-secret-0001')),
      )
      expect(answers.every((a) => a?.id === ep.id)).toBe(true)
      expect(c.selects()).toBe(1)
    })

    test('a remembered secret matches only itself, and not after its hash expires', async () => {
      const ep = await createEndpoint(database, { kind: 'service', secret: 'old-secret-000001' })
      // Entries kept far longer than the grace: what ends the old secret is its own expiry.
      const auth = createEndpointAuthenticator(database, 3_600_000, 3_600_000)
      const ok = async (secret: string | undefined) => (await auth.verify(ep.id, secret)).endpoint
      expect((await ok('old-secret-000001'))?.id).toBe(ep.id)
      // Now remembered: near misses, prefixes, extensions and nothing are still refused.
      for (const wrong of [
        'old-secret-000002',
        'old-secret-00000',
        'old-secret-0000011',
        '',
        undefined,
      ]) {
        expect(await ok(wrong)).toBeNull()
      }
      expect((await ok('old-secret-000001'))?.id).toBe(ep.id)
      await rotateEndpointSecret(database, ep.id, 'new-secret-000001', 60_000)
      auth.invalidate(ep.id)
      // During the grace period both work; the old one is remembered until its hash expires.
      expect((await ok('old-secret-000001'))?.id).toBe(ep.id)
      expect((await ok('new-secret-000001'))?.id).toBe(ep.id)
      expect((await ok('old-secret-000001'))?.id).toBe(ep.id)
      // Past the grace period (the clock moved, not waited for: a loaded machine cannot make the
      // grace end before the checks above).
      setSystemTime(new Date(Date.now() + 61_000))
      try {
        expect(await ok('old-secret-000001')).toBeNull()
        expect((await ok('new-secret-000001'))?.id).toBe(ep.id)
      } finally {
        setSystemTime()
      }
    })

    test('a flood of distinct made-up ids costs the id list and a small budget, and evicts nothing', async () => {
      const ep = await createEndpoint(database, { kind: 'service', secret: 'right-secret-0002' })
      const c = counting(database)
      const auth = createEndpointAuthenticator(c.database, 60_000, 60_000, {
        coldLookupsPerSecond: 5,
      })
      expect((await auth.verify(ep.id, 'right-secret-0002')).endpoint?.id).toBe(ep.id)
      expect(c.selects()).toBe(1)
      for (let i = 0; i < 500; i++) {
        expect(await auth.verify(`made-up-${i}`, 'x')).toEqual({
          endpoint: null,
          reason: 'unknown_endpoint',
        })
      }
      // Four more looked up (the budget of 5), then the id list once, the rest not at all.
      expect(c.selects()).toBeGreaterThanOrEqual(1 + 4 + 1)
      expect(c.selects()).toBeLessThanOrEqual(1 + 4 + 1 + 2)
      const after = c.selects()
      // The valid endpoint is still answered from the cache, with no query.
      expect((await auth.verify(ep.id, 'right-secret-0002')).endpoint?.id).toBe(ep.id)
      expect(c.selects()).toBe(after)
    })

    test('under a flood, an endpoint created after the id list was read is found at the next read', async () => {
      const auth = createEndpointAuthenticator(database, 60_000, 50, { coldLookupsPerSecond: 1 })
      for (let i = 0; i < 5; i++) {
        expect((await auth.verify(`not-yet-00000000${i}`, 'x')).reason).toBe('unknown_endpoint')
      }
      const ep = await createEndpoint(database, { kind: 'service', secret: 'right-secret-0004' })
      await Bun.sleep(60)
      expect((await auth.verify(ep.id, 'right-secret-0004')).endpoint?.id).toBe(ep.id)
    })

    test('unknown ids are remembered apart, and only so many', async () => {
      const c = counting(database)
      const auth = createEndpointAuthenticator(c.database, 60_000, 60_000, {
        maxMisses: 20,
        coldLookupsPerSecond: 10_000,
      })
      for (let i = 0; i < 200; i++) await auth.verify(`made-up-${i}`, 'x')
      expect(c.selects()).toBe(200)
      // Only the last 20 misses are remembered: an earlier made-up id is looked up again.
      await auth.verify('made-up-199', 'x')
      expect(c.selects()).toBe(200)
      await auth.verify('made-up-150', 'x')
      expect(c.selects()).toBe(201)
    })

    test('verify says whether the endpoint is unknown or the secret wrong', async () => {
      const ep = await createEndpoint(database, { kind: 'service', secret: 'right-secret-0003' })
      const auth = createEndpointAuthenticator(database, 5000)
      expect(await auth.verify(ep.id, 'wrong-secret-0003')).toEqual({
        endpoint: null,
        reason: 'invalid_secret',
      })
      expect(await auth.verify(ep.id, undefined)).toMatchObject({ reason: 'invalid_secret' })
      expect(await auth.verify('not-an-endpoint-0003', 'x')).toMatchObject({
        reason: 'unknown_endpoint',
      })
      expect(await auth.verify(ep.id, 'right-secret-0003')).toEqual({ endpoint: ep, reason: null })
    })

    test('createEndpoint refuses an id that the webhook could never route', async () => {
      await expect(
        createEndpoint(database, { kind: 'service', secret: 's', id: 'a/b' }),
      ).rejects.toThrow(RangeError)
    })
  })
}

for (const driver of TEST_DRIVERS) {
  // The 503 that follows is logged with this message: it must say why, not only which query.
  test(`${driver}: a failed look-up says why it failed`, async () => {
    const database = await openTestDb(driver)
    const ep = await createEndpoint(database, { kind: 'service', secret: 'right-secret-0004' })
    await database.drop()
    const auth = createEndpointAuthenticator(database, 5000)
    const failure = await auth.verify(ep.id, 'right-secret-0004').then(
      () => null,
      (error: unknown) => error as Error,
    )
    expect(failure?.message).toMatch(/^endpoint look-up failed: \S/)
    expect(failure?.message).not.toContain('Failed query')
  })
}
