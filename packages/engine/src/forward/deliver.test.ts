import { afterAll, describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import {
  AttemptAborted,
  attemptDelivery,
  classify,
  defaultForwardBackoffMs,
  nextAttemptAt,
  parseRetryAfter,
  RESPONSE_PREVIEW_BYTES,
} from './deliver'
import { generateSigningSecret, openSecret, sealSecret } from './secret'
import { signatureHeaders } from './sign'

interface Seen {
  headers: Headers
  body: string
}

/** A local receiver: each path answers its own way and every request is kept. */
const seen: Seen[] = []
let release: () => void = () => {}
const hung = new Promise<void>((resolve) => {
  release = resolve
})
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url)
    seen.push({ headers: req.headers, body: await req.text() })
    const status = Number(url.searchParams.get('status') ?? 200)
    if (url.pathname === '/hang') {
      await hung
      return new Response('late')
    }
    if (url.pathname === '/big') return new Response('x'.repeat(10_000))
    if (url.pathname === '/redirect') {
      return new Response(null, { status: 301, headers: { location: '/elsewhere' } })
    }
    const headers: Record<string, string> = {}
    const ra = url.searchParams.get('retry_after')
    if (ra) headers['retry-after'] = ra
    return new Response(`answer ${status}`, { status, headers })
  },
})
afterAll(() => {
  release()
  server.stop(true)
})
const base = `http://127.0.0.1:${server.port}`

describe('signing', () => {
  test("standardwebhooks' verifier accepts what is sent, and refuses it altered", async () => {
    const secret = generateSigningSecret()
    expect(secret.startsWith('whsec_')).toBe(true)
    const body = JSON.stringify({ event: 'incoming_message', id: 'SM1', time_created: 1 })
    const headers = signatureHeaders({ id: 'ev-1', body, secrets: [secret] })
    const r = await attemptDelivery({ url: `${base}/ok`, body, headers, timeoutMs: 5000 })
    expect(r.status).toBe(200)
    const got = seen.at(-1) as Seen
    const asReceived = Object.fromEntries(got.headers.entries())
    expect(got.headers.get('content-type')).toBe('application/json')
    expect(got.headers.get('webhook-id')).toBe('ev-1')
    expect(new Webhook(secret).verify(got.body, asReceived)).toEqual(JSON.parse(body))
    expect(() => new Webhook(secret).verify(`${got.body} `, asReceived)).toThrow()
    expect(() => new Webhook(generateSigningSecret()).verify(got.body, asReceived)).toThrow()
  })

  test('with two secrets (rotation grace) a receiver holding either one accepts', () => {
    const current = generateSigningSecret()
    const previous = generateSigningSecret()
    const body = '{"a":1}'
    const headers = signatureHeaders({ id: 'ev-2', body, secrets: [current, previous] })
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2)
    expect(new Webhook(current).verify(body, headers)).toEqual({ a: 1 })
    expect(new Webhook(previous).verify(body, headers)).toEqual({ a: 1 })
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow()
  })

  test('a signature made long ago is refused by the verifier (the timestamp is per attempt)', () => {
    const secret = generateSigningSecret()
    const headers = signatureHeaders({
      id: 'ev-3',
      body: '{}',
      secrets: [secret],
      timestamp: new Date(Date.now() - 3_600_000),
    })
    expect(() => new Webhook(secret).verify('{}', headers)).toThrow(/too old/)
  })

  test('sealed secrets open with the same key only', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])
    const other = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])
    const secret = generateSigningSecret()
    const sealed = await sealSecret(key, secret)
    expect(sealed).not.toContain(secret.slice(6))
    expect(await openSecret(key, sealed)).toBe(secret)
    expect(openSecret(other, sealed)).rejects.toThrow()
  })
})

describe('one attempt against a real receiver', () => {
  const attempt = (path: string, timeoutMs = 5000, signal?: AbortSignal) =>
    attemptDelivery({ url: `${base}${path}`, body: '{}', headers: {}, timeoutMs, signal })

  test.each([
    [200, 'done'],
    [204, 'done'],
    [500, 'retry'],
    [503, 'retry'],
    [429, 'retry'],
    [408, 'retry'],
    [410, 'gone'],
    [400, 'dead'],
    [401, 'dead'],
    [404, 'dead'],
  ] as const)('status %d is %s', async (status, outcome) => {
    const r = await attempt(`/s?status=${status}`)
    expect(r.status).toBe(status)
    expect(r.error).toBeNull()
    expect(classify(r)).toBe(outcome)
  })

  test('the first bytes of the answer and Retry-After are kept', async () => {
    const r = await attempt('/s?status=503&retry_after=120')
    expect(r.responseBody).toBe('answer 503')
    expect(r.retryAfter).toBe('120')
    const big = await attempt('/big')
    expect(big.responseBody).toHaveLength(RESPONSE_PREVIEW_BYTES)
  })

  test('a redirect is not followed and is dead (the URL needs changing)', async () => {
    const before = seen.length
    const r = await attempt('/redirect')
    expect(r.status).toBe(301)
    expect(classify(r)).toBe('dead')
    expect(seen.length).toBe(before + 1)
  })

  test('no answer within the bound is a retryable failure without status', async () => {
    const r = await attempt('/hang', 200)
    expect(r.status).toBeNull()
    expect(r.error).toBe('no response within 200 ms')
    expect(classify(r)).toBe('retry')
  })

  test('a refused connection is a retryable failure without status', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}/`
    await closed.stop(true)
    const r = await attemptDelivery({ url, body: '{}', headers: {}, timeoutMs: 5000 })
    expect(r.status).toBeNull()
    expect(r.error).toStartWith('request failed:')
    expect(classify(r)).toBe('retry')
  })

  test('aborting from outside throws AttemptAborted, not a failure of the destination', async () => {
    const controller = new AbortController()
    const pending = attempt('/hang', 10_000, controller.signal)
    controller.abort(new Error('stopping'))
    await expect(pending).rejects.toBeInstanceOf(AttemptAborted)
  })
})

describe('retry timing', () => {
  test('Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1)
    expect(parseRetryAfter(null)).toBeNull()
    expect(parseRetryAfter('30', now)).toBe(30_000)
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000)
    expect(parseRetryAfter(new Date(now - 90_000).toUTCString(), now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeNull()
  })

  test('backoff doubles up to an hour, jitter only shortens it by at most half', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const full = Math.min(3_600_000, 2000 * 2 ** (attempt - 1))
      const d = defaultForwardBackoffMs(attempt)
      expect(d).toBeLessThanOrEqual(full)
      expect(d).toBeGreaterThanOrEqual(full / 2)
    }
  })

  test('the later of backoff and Retry-After; dead past the retry window', () => {
    const now = Date.UTC(2026, 0, 1)
    const plan = {
      attempt: 3,
      firstQueuedAt: new Date(now - 60_000),
      maxAgeMs: 3_600_000,
      backoffMs: () => 10_000,
      now,
    }
    expect(nextAttemptAt({ ...plan, retryAfterMs: null })?.getTime()).toBe(now + 10_000)
    expect(nextAttemptAt({ ...plan, retryAfterMs: 600_000 })?.getTime()).toBe(now + 600_000)
    expect(nextAttemptAt({ ...plan, retryAfterMs: 1000 })?.getTime()).toBe(now + 10_000)
    expect(nextAttemptAt({ ...plan, retryAfterMs: 7_200_000 })).toBeNull()
    expect(
      nextAttemptAt({ ...plan, retryAfterMs: null, firstQueuedAt: new Date(now - 3_595_000) }),
    ).toBeNull()
  })
})
