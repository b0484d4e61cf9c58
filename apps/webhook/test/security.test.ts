/**
 * The public port against strangers: requests with no single meaning, ids that cannot be
 * endpoints, secrets checked before the body is parsed, failed attempts limited per client,
 * what the 403 log says, no development error page, no metrics.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect } from 'node:net'
import type { Database } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import {
  createEndpoint,
  createEngine,
  type Endpoint,
  type EndpointCheck,
  type Engine,
  ensureSingleEndpoint,
} from '@telehook/engine'
import { routerPath } from '@telehook/engine/request-guard'
import { createWebhookApp, metricsHandler, type WebhookApp } from '../src/app'
import {
  addressKey,
  clientAddressOf,
  createFailureLimiter,
  rememberClientAddress,
} from '../src/limiter'
import { createMetrics } from '../src/metrics'
import { scanSecret } from '../src/secret-scan'
import { startWebhookServer } from '../src/server'
import { captureLogger, countEvents, FORM, form, newId, post } from './helpers'

setDefaultTimeout(30_000)

const SECRET = 'security-secret-Qw3Er5Ty7'
const endpoint: Endpoint = { id: 'default', kind: 'single', projectId: null }

function fakeDatabase(): Database {
  return { db: undefined as never, driver: 'pglite', ping: async () => {}, close: async () => {} }
}

/** An engine that stores nothing and counts what it was asked. */
function countingEngine() {
  const calls = { verify: 0, ingest: 0 }
  const engine: Engine = {
    async authenticate(id, secret) {
      return id === 'default' && secret === SECRET ? endpoint : null
    },
    async verifyEndpoint(id, secret): Promise<EndpointCheck> {
      calls.verify += 1
      if (id !== 'default') return { endpoint: null, reason: 'unknown_endpoint' }
      return secret === SECRET
        ? { endpoint, reason: null }
        : { endpoint: null, reason: 'invalid_secret' }
    },
    async ingest() {
      calls.ingest += 1
      return {
        outcome: 'stored',
        eventId: '1',
        event: 'incoming_message',
        telerivetId: 'SM1',
        valid: true,
        reply: null,
        handlerError: null,
        handlerMs: 0,
        durationMs: 0,
      }
    },
    invalidateEndpoint() {},
  }
  return { engine, calls }
}

const body = (extra: Record<string, string> = {}) =>
  form({ event: 'incoming_message', id: 'SM1', content: 'hi', secret: SECRET, ...extra })

/** Sends `text` over a raw socket and resolves to the whole answer. */
function raw(port: number, text: string, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => socket.write(text))
    let out = ''
    socket.on('data', (d) => {
      out += d.toString('latin1')
    })
    socket.on('end', () => resolve(out))
    socket.on('close', () => resolve(out))
    socket.on('error', reject)
  })
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)
}

describe('the router path and the URL must agree', () => {
  test('routerPath is what Elysia routes on', () => {
    expect(routerPath('http://a/xxx/webhook')).toBe('/webhook')
    expect(routerPath('http://telehook.test/hooks/x?y=1')).toBe('/hooks/x')
    expect(routerPath('/webhook')).toBe('/')
  })

  test('through app.handle: short Host, doubled slash, empty or bad Host are 400, nothing ingested', async () => {
    const { engine, calls } = countingEngine()
    const logger = captureLogger()
    const app = createWebhookApp({ engine, database: fakeDatabase(), singleProject: true, logger })
    const cases: [Request, string][] = [
      [
        new Request('http://a/xxx/webhook', {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: body(),
        }),
        'ambiguous_path',
      ],
      [
        new Request('http://x//webhook', {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: body(),
        }),
        'ambiguous_path',
      ],
      [
        new Request('http://abc/hooks/webhook', {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: body(),
        }),
        'ambiguous_path',
      ],
      [
        new Request('http://x/webhook', {
          method: 'POST',
          headers: { 'content-type': FORM, host: '' },
          body: body(),
        }),
        'bad_host',
      ],
      [
        new Request('http://x/webhook', {
          method: 'POST',
          headers: { 'content-type': FORM, host: 'a b' },
          body: body(),
        }),
        'bad_host',
      ],
      [
        new Request('http://x/webhook', {
          method: 'POST',
          headers: { 'content-type': FORM, host: 'x, y' },
          body: body(),
        }),
        'bad_host',
      ],
    ]
    for (const [request, code] of cases) {
      const res = await app.handle(request)
      expect(res.status).toBe(400)
      expect(logger.lines.at(-1)).toMatchObject({ level: 'warn', msg: 'request refused', code })
    }
    expect(calls).toEqual({ verify: 0, ingest: 0 })
    // The normal form still works.
    const ok = await app.handle(post('/webhook', body()))
    expect(ok.status).toBe(200)
    expect(calls.ingest).toBe(1)
    // This port's Host syntax is lenient: `_` in a label and a trailing dot are served.
    const lenient = await app.handle(
      new Request('http://telehook.test/webhook', {
        method: 'POST',
        headers: { 'content-type': FORM, host: 'telehook_webhook.example.' },
        body: body(),
      }),
    )
    expect(lenient.status).toBe(200)
    expect(calls.ingest).toBe(2)
  })

  test('over a socket: empty Host, no Host, a short Host with a prefix are 400, never an error page', async () => {
    const { engine, calls } = countingEngine()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger: captureLogger(),
      failureLimits: false,
    })
    const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit: 262144 })
    try {
      const b = body()
      const head = (line: string, host: string | null) =>
        `${line}\r\n${host === null ? '' : `Host:${host}\r\n`}Content-Type: ${FORM}\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n${b}`
      const answers = [
        await raw(server.port, head('POST /webhook HTTP/1.1', '')),
        await raw(server.port, head('POST /webhook HTTP/1.1', ' ')),
        await raw(server.port, head('POST /webhook HTTP/1.0', null)),
        await raw(server.port, head('POST /xxx/webhook HTTP/1.1', ' a')),
        await raw(server.port, head('POST //webhook HTTP/1.1', ' x')),
        await raw(server.port, head('POST /webhook HTTP/1.1', ' a b')),
      ]
      expect(answers.map(statusOf)).toEqual([400, 400, 400, 400, 400, 400])
      // With a longer Host both read `//webhook`: one meaning, and no such route.
      expect(
        statusOf(await raw(server.port, head('POST //webhook HTTP/1.1', ' telehook.test'))),
      ).toBe(404)
      for (const answer of answers) {
        expect(statusOf(answer)).toBe(400)
        expect(answer).not.toContain('<html')
        expect(answer).not.toContain('    at ')
      }
      expect(calls.ingest).toBe(0)
      const ok = await raw(server.port, head('POST /webhook HTTP/1.1', ' telehook.test'))
      expect(statusOf(ok)).toBe(200)
    } finally {
      await server.stop()
    }
  })

  test('Bun serves in production mode: an error thrown past the app is a bare 500', async () => {
    const throwing = {
      fetch() {
        throw new Error('boom at /secret/source/path.ts')
      },
    } as unknown as WebhookApp
    const server = startWebhookServer(throwing, { port: 0, hostname: '127.0.0.1', bodyLimit: 1024 })
    try {
      const res = await fetch(new URL('/webhook', server.url), { method: 'POST', body: 'x' })
      expect(res.status).toBe(500)
      const text = await res.text()
      expect(text).not.toContain('boom')
      expect(text).not.toContain('/secret/source')
    } finally {
      await server.stop()
    }
  })
})

describe('the secret is checked before the body is parsed', () => {
  test('scanSecret finds the top-level secret as the parser reads it', () => {
    expect(scanSecret('event=x&secret=a%2Bb+c&id=1')).toBe('a+b c')
    expect(scanSecret('secret=first&x=1&secret=last')).toBe('last')
    expect(scanSecret('mysecret=x&secretary=y&secret2=z')).toBeNull()
    expect(scanSecret('contact[secret]=x')).toBeNull()
    expect(scanSecret('secret')).toBe('')
    expect(scanSecret('a=1&secret=')).toBe('')
    expect(scanSecret('')).toBeNull()
  })

  test('a wrong or missing secret is refused (403) even when the body would not parse', async () => {
    const { engine, calls } = countingEngine()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger: captureLogger(),
      formLimits: { maxParams: 5 },
    })
    const many = Array.from({ length: 50 }, (_, i) => `p${i}=v`).join('&')
    expect((await app.handle(post('/webhook', `${many}&secret=wrong-secret-000000`))).status).toBe(
      403,
    )
    expect((await app.handle(post('/webhook', many))).status).toBe(403)
    // With the right secret, the same body reaches the parser, and its bound.
    expect((await app.handle(post('/webhook', `${many}&secret=${SECRET}`))).status).toBe(413)
    expect(calls.ingest).toBe(0)
  })

  test('the parsed secret must be the one checked', async () => {
    const { engine, calls } = countingEngine()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger: captureLogger(),
    })
    for (const tail of ['&s%65cret=other', '&secret%5B%5D=x', '&secret[a]=b']) {
      const res = await app.handle(post('/webhook', `${body()}${tail}`))
      expect(res.status).toBe(403)
    }
    expect(calls.ingest).toBe(0)
  })
})

describe('failed attempts are limited per client address', () => {
  test('past the burst: 429 with Retry-After, no work done; other clients are served', async () => {
    const { engine, calls } = countingEngine()
    const logger = captureLogger()
    let client = '203.0.113.9'
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger,
      clientAddress: () => client,
      failureLimits: { burst: 3, perMinute: 6 },
    })
    for (let i = 0; i < 3; i++) {
      expect((await app.handle(post('/hooks/made-up-id', body()))).status).toBe(403)
    }
    const verified = calls.verify
    const limited = await app.handle(post('/webhook', body()))
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(calls.verify).toBe(verified)
    expect(logger.lines.filter((l) => l.msg === 'client rate-limited')).toHaveLength(1)
    // 404s and refused paths count too; other clients are not affected.
    client = '198.51.100.7'
    expect((await app.handle(post('/webhook', body()))).status).toBe(200)
  })

  test('over a socket the peer address is the client', async () => {
    const { engine } = countingEngine()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger: captureLogger(),
      failureLimits: { burst: 2, perMinute: 1 },
    })
    const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit: 262144 })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) {
        const res = await fetch(new URL('/hooks/made-up-id', server.url), {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: body(),
        })
        statuses.push(res.status)
      }
      expect(statuses).toEqual([403, 403, 429])
    } finally {
      await server.stop()
    }
  })

  test('limiter: IPv6 by /64, buckets refill, the map is bounded', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1')
    const limiter = createFailureLimiter({ burst: 2, perMinute: 60, maxAddresses: 3 })
    limiter.fail('192.0.2.1', 0)
    expect(limiter.fail('192.0.2.1', 0)).toBe(true)
    expect(limiter.retryAfter('192.0.2.1', 0)).toBe(1)
    expect(limiter.retryAfter('192.0.2.1', 1000)).toBeNull()
    for (let i = 0; i < 10; i++) limiter.fail(`192.0.2.${10 + i}`, 0)
    expect(limiter.size).toBe(3)
  })

  test('X-Forwarded-For counts only behind a trusted proxy', () => {
    const request = new Request('http://x/', {
      headers: { 'x-forwarded-for': '1.2.3.4, 10.0.0.2' },
    })
    rememberClientAddress(request, '10.0.0.1')
    expect(clientAddressOf(request, new Set())).toBe('10.0.0.1')
    expect(clientAddressOf(request, new Set(['10.0.0.1']))).toBe('10.0.0.2')
    expect(clientAddressOf(request, new Set(['10.0.0.1', '10.0.0.2']))).toBe('1.2.3.4')
  })
})

describe('methods and bodies that never arrive', () => {
  test('another method on a delivery path is 405 with Allow: POST; other paths 404', async () => {
    const { engine } = countingEngine()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger: captureLogger(),
    })
    for (const [method, path] of [
      ['GET', '/webhook'],
      ['PUT', '/webhook'],
      ['DELETE', '/hooks/some-endpoint-id'],
      ['PATCH', '/hooks/some-endpoint-id'],
    ]) {
      const res = await app.handle(new Request(`http://telehook.test${path}`, { method }))
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
    }
    expect((await app.handle(new Request('http://telehook.test/nope'))).status).toBe(404)
  })

  test('a body that stops arriving is a 408 within the deadline, not a request held open', async () => {
    const { engine, calls } = countingEngine()
    const logger = captureLogger()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger,
      deadlineMs: 300,
    })
    const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit: 262144 })
    try {
      const short = await raw(
        server.port,
        `POST /webhook HTTP/1.1\r\nHost: x.test\r\nContent-Type: ${FORM}\r\nContent-Length: 500\r\n\r\nsecret=`,
      )
      expect(statusOf(short)).toBe(408)
      const loris = await raw(
        server.port,
        `POST /webhook HTTP/1.1\r\nHost: x.test\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nevent\r\n`,
      )
      expect(statusOf(loris)).toBe(408)
      expect(calls.verify).toBe(0)
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([])
    } finally {
      await server.stop()
    }
  })
})

describe('a flood of refusals is not a flood of log lines', () => {
  test('refusal lines are capped per second; the metrics count every one', async () => {
    const { engine } = countingEngine()
    const logger = captureLogger()
    const metrics = createMetrics()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      singleProject: true,
      logger,
      metrics,
      refusalLogLinesPerSecond: 5,
    })
    for (let i = 0; i < 60; i++) {
      expect((await app.handle(post('/hooks/made-up-id', body()))).status).toBe(403)
    }
    const refusals = logger.lines.filter((l) => l.msg === 'delivery')
    expect(refusals.length).toBeGreaterThanOrEqual(5)
    expect(refusals.length).toBeLessThanOrEqual(15)
    expect(metrics.render()).toMatch(/telehook_webhook_forbidden_total 60/)
  })
})

describe('metrics are not on the public port by default', () => {
  test('GET /metrics is 404 unless publicMetrics; metricsHandler serves them elsewhere', async () => {
    const { engine } = countingEngine()
    const metrics = createMetrics()
    const app = createWebhookApp({
      engine,
      database: fakeDatabase(),
      metrics,
      logger: captureLogger(),
    })
    expect((await app.handle(new Request('http://telehook.test/metrics'))).status).toBe(404)
    const res = metricsHandler({ metrics, engine })()
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    expect(await res.text()).toContain('telehook_webhook_deliveries_total')
    const open = createWebhookApp({
      engine,
      database: fakeDatabase(),
      metrics,
      publicMetrics: true,
    })
    expect((await open.handle(new Request('http://telehook.test/metrics'))).status).toBe(200)
  })
})

for (const driver of TEST_DRIVERS) {
  describe(`hostile endpoint ids on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let app: WebhookApp
    let hookId: string
    const logger = captureLogger()
    beforeAll(async () => {
      database = await openTestDb(driver)
      await ensureSingleEndpoint(database, SECRET)
      hookId = (await createEndpoint(database, { kind: 'service', secret: SECRET })).id
      app = createWebhookApp({
        engine: createEngine({ database, logger }),
        database,
        singleProject: true,
        logger,
      })
    })
    afterAll(async () => {
      await database?.drop()
    })

    test('/hooks/%00 and other ids that cannot be endpoints: 404, no error-level log', async () => {
      const before = await countEvents(database)
      for (const id of ['%00', 'a%00b', `${'x'.repeat(65)}`, '%27%3B%20drop%20table', 'a%2Fb']) {
        const res = await app.handle(post(`/hooks/${id}`, body({ id: newId('SM') })))
        expect(res.status).toBe(404)
      }
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([])
      expect(await countEvents(database)).toBe(before)
    })

    test('the 403 log line says why: unknown endpoint, wrong secret, missing secret', async () => {
      logger.lines.length = 0
      await app.handle(post('/hooks/no-such-endpoint-01', body({ id: newId('SM') })))
      await app.handle(
        post(`/hooks/${hookId}`, body({ id: newId('SM'), secret: 'wrong-secret-0000001' })),
      )
      await app.handle(
        post(`/hooks/${hookId}`, form({ event: 'incoming_message', id: newId('SM') })),
      )
      expect(logger.lines.map((l) => [l.status, l.code])).toEqual([
        [403, 'unknown_endpoint'],
        [403, 'invalid_secret'],
        [403, 'missing_secret'],
      ])
      const ok = await app.handle(post(`/hooks/${hookId}`, body({ id: newId('SM') })))
      expect(ok.status).toBe(200)
    })
  })
}
