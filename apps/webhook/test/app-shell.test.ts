/**
 * The HTTP shell around the engine, with a scripted engine where a real database cannot produce
 * the case on demand (an ingest that never settles, a ping that hangs, a driver error text).
 * Everything that stores is tested against the real engine in webhook.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import type { Database } from '@telehook/db'
import type { Endpoint, Engine, IngestResult } from '@telehook/engine'
import { createWebhookApp } from '../src/app'
import { captureLogger, form, post } from './helpers'

const SECRET = 'shell-secret-Aa1Bb2Cc3'
const endpoint: Endpoint = { id: 'default', kind: 'single', projectId: null }

function fakeDatabase(ping: () => Promise<void> = async () => {}): Database {
  return { db: undefined as never, driver: 'pglite', ping, close: async () => {} }
}

function fakeEngine(ingest: () => Promise<IngestResult>): Engine {
  return {
    async authenticate(id, secret) {
      return id === 'default' && secret === SECRET ? endpoint : null
    },
    ingest,
    invalidateEndpoint() {},
  }
}

const body = form({ event: 'incoming_message', id: 'SM1', content: 'hi', secret: SECRET })

describe('webhook HTTP shell', () => {
  test('an ingest that does not settle in time: 503 with Retry-After, logged', async () => {
    const logger = captureLogger()
    const app = createWebhookApp({
      engine: fakeEngine(() => new Promise(() => {})),
      database: fakeDatabase(),
      singleProject: true,
      deadlineMs: 50,
      logger,
    })
    const res = await app.handle(post('/webhook', body))
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('10')
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'delivery',
        endpoint: 'default',
        event: 'incoming_message',
        telerivet_id: 'SM1',
        outcome: 'unavailable',
        status: 503,
        code: 'deadline_exceeded',
      }),
    ])
  })

  test('a store error: 503, and the secret is scrubbed from the logged message', async () => {
    const logger = captureLogger()
    const app = createWebhookApp({
      engine: fakeEngine(async () => {
        throw new Error(`insert failed near '${SECRET}'`)
      }),
      database: fakeDatabase(),
      singleProject: true,
      logger,
    })
    const res = await app.handle(post('/webhook', body))
    expect(res.status).toBe(503)
    expect(await res.text()).not.toContain('insert failed')
    expect(logger.text()).toContain('[redacted]')
    expect(logger.text()).not.toContain(SECRET)
  })

  test('an unexpected failure: 500 without details, never a stack', async () => {
    const logger = captureLogger()
    const app = createWebhookApp({
      // A reply that cannot be serialised stands for any bug past the commit.
      engine: fakeEngine(
        async () =>
          ({
            outcome: 'stored',
            eventId: 'e1',
            event: 'incoming_message',
            telerivetId: 'SM1',
            valid: true,
            reply: { messages: [{ content: 1n }] },
            handlerError: null,
          }) as unknown as IngestResult,
      ),
      database: fakeDatabase(),
      singleProject: true,
      logger,
    })
    const res = await app.handle(post('/webhook', body))
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).toBe('Internal error')
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'error', status: 500, outcome: 'error', code: 'internal' }),
    ])
    expect(logger.text()).not.toContain('    at ')
  })

  test('an endpoint id that is not valid percent-encoding, or not of the id shape, is a 404', async () => {
    const logger = captureLogger()
    const app = createWebhookApp({
      engine: fakeEngine(() => new Promise(() => {})),
      database: fakeDatabase(),
      logger,
    })
    for (const id of ['%zz', '%E0%A4', 'a%2Fb', '%00', 'x'.repeat(65)]) {
      const res = await app.handle(post(`/hooks/${id}`, body))
      expect(res.status).toBe(404)
      expect(await res.text()).toBe('Not found')
    }
    expect(
      logger.lines.every(
        (l) => l.status === 404 && l.code === 'bad_endpoint_id' && l.level === 'warn',
      ),
    ).toBe(true)
  })

  test('POST /webhook exists only in single-project mode', async () => {
    const app = createWebhookApp({
      engine: fakeEngine(() => new Promise(() => {})),
      database: fakeDatabase(),
      logger: captureLogger(),
    })
    expect((await app.handle(post('/webhook', body))).status).toBe(404)
  })

  test('/healthz is 503 when the ping fails or hangs', async () => {
    for (const ping of [
      async () => Promise.reject(new Error('down')),
      () => new Promise<void>(() => {}),
    ]) {
      const app = createWebhookApp({
        engine: fakeEngine(() => new Promise(() => {})),
        database: fakeDatabase(ping),
        healthTimeoutMs: 50,
        logger: captureLogger(),
      })
      const res = await app.handle(new Request('http://telehook.test/healthz'))
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ status: 'unavailable', driver: 'pglite' })
    }
  })

  test('a body limit set by the caller applies to Content-Length and to the bytes read', async () => {
    const app = createWebhookApp({
      engine: fakeEngine(() => new Promise(() => {})),
      database: fakeDatabase(),
      singleProject: true,
      bodyLimit: 1024,
      logger: captureLogger(),
    })
    const big = `${body}&pad=${'x'.repeat(2000)}`
    const declared = await app.handle(
      post('/webhook', big, {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(big.length),
      }),
    )
    expect(declared.status).toBe(413)
    const lying = await app.handle(
      post('/webhook', big, {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '10',
      }),
    )
    expect(lying.status).toBe(413)
  })
})
