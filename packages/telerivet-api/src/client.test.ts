import { describe, expect, test } from 'bun:test'
import {
  createTelerivetClient,
  encodeQuery,
  isInvalidParam,
  isNotFound,
  isUnauthorized,
  TelerivetApiError,
} from './index'

interface Seen {
  method: string
  url: string
  headers: Headers
  body: string | null
}

/** A fetch double that records requests and answers from a queue (the last answer repeats). */
function fakeFetch(...answers: (Response | Error | (() => Response | Promise<Response>))[]) {
  const seen: Seen[] = []
  const fn = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    seen.push({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body ? await req.text() : null,
    })
    const a = answers.length > 1 ? answers.shift() : answers[0]
    if (a instanceof Error) throw a
    if (typeof a === 'function') return a()
    return (a as Response).clone()
  }
  return { fetch: fn as typeof fetch, seen }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

const service = { id: 'SV1', name: 'hook', service_type: 'incoming_message_webhook', active: true }

function client(f: typeof fetch, extra: Record<string, unknown> = {}) {
  return createTelerivetClient({
    apiKey: 'key123',
    baseUrl: 'https://tr.example/v1/',
    fetch: f,
    retryDelayMs: 1,
    ...extra,
  })
}

describe('requests', () => {
  test('basic auth with the key as user and an empty password, JSON body, base URL override', async () => {
    const f = fakeFetch(json(service))
    const tr = client(f.fetch)
    const s = await tr.createService('PJ1', {
      service_type: 'incoming_message_webhook',
      config: { url: 'https://h.example/hooks/x', secret: 's' },
    })
    expect(s.id).toBe('SV1')
    const r = f.seen[0]
    expect(r?.method).toBe('POST')
    expect(r?.url).toBe('https://tr.example/v1/projects/PJ1/services')
    expect(r?.headers.get('authorization')).toBe(`Basic ${btoa('key123:')}`)
    expect(r?.headers.get('content-type')).toBe('application/json')
    expect(JSON.parse(r?.body ?? '')).toEqual({
      service_type: 'incoming_message_webhook',
      config: { url: 'https://h.example/hooks/x', secret: 's' },
    })
  })

  test('default base URL is Telerivet', () => {
    expect(createTelerivetClient({ apiKey: 'k' }).baseUrl).toBe('https://api.telerivet.com/v1')
  })

  test('path segments are escaped', async () => {
    const f = fakeFetch(json(service))
    await client(f.fetch).getService('PJ/1', 'SV?1')
    expect(f.seen[0]?.url).toBe('https://tr.example/v1/projects/PJ%2F1/services/SV%3F1')
  })

  test('config calls, update, delete and send use the documented paths', async () => {
    const f = fakeFetch(json({ url: 'u', secret: 's' }))
    const tr = client(f.fetch)
    expect(await tr.getServiceConfig('PJ1', 'SV1')).toEqual({ url: 'u', secret: 's' })
    await tr.setServiceConfig('PJ1', 'SV1', { url: 'u', secret: 't' })
    const g = fakeFetch(json(service))
    await client(g.fetch).updateService('PJ1', 'SV1', { active: false })
    const d = fakeFetch(new Response(null, { status: 200 }))
    await client(d.fetch).deleteService('PJ1', 'SV1')
    const m = fakeFetch(json({ id: 'SM1', status: 'queued' }))
    const msg = await client(m.fetch).sendMessage('PJ1', { to_number: '+1555', content: 'hi' })
    expect(msg.id).toBe('SM1')
    expect(f.seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /v1/projects/PJ1/services/SV1/config',
      'POST /v1/projects/PJ1/services/SV1/config',
    ])
    expect(JSON.parse(f.seen[1]?.body ?? '')).toEqual({ url: 'u', secret: 't' })
    expect(`${g.seen[0]?.method} ${g.seen[0]?.body}`).toBe('POST {"active":false}')
    expect(`${d.seen[0]?.method} ${new URL(d.seen[0]?.url ?? '').pathname}`).toBe(
      'DELETE /v1/projects/PJ1/services/SV1',
    )
    expect(new URL(m.seen[0]?.url ?? '').pathname).toBe('/v1/projects/PJ1/messages/send')
  })

  test('query encoding: modifiers become bracket keys, undefined is dropped', () => {
    expect(
      encodeQuery({ name: { prefix: 'tele' }, active: true, page_size: 2, x: undefined }),
    ).toBe('?name%5Bprefix%5D=tele&active=true&page_size=2')
    expect(encodeQuery({})).toBe('')
  })

  test('gzip option compresses large bodies only', async () => {
    const f = fakeFetch(json(service))
    const tr = client(f.fetch, { gzip: true })
    const big = { service_type: 'incoming_message_webhook', config: { url: 'x'.repeat(500) } }
    const seen: Uint8Array<ArrayBuffer>[] = []
    const capture = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Uint8Array(await new Request(input, init).arrayBuffer()))
      return json(service)
    }
    await createTelerivetClient({
      apiKey: 'k',
      gzip: true,
      fetch: capture as typeof fetch,
    }).createService('PJ1', big)
    const raw = seen[0] ?? new Uint8Array(new ArrayBuffer(0))
    expect(raw[0]).toBe(0x1f) // gzip magic
    const text = await new Response(
      new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip')),
    ).text()
    expect(JSON.parse(text)).toEqual(big)
    await tr.updateService('PJ1', 'SV1', { name: 'small' })
    expect(f.seen[0]?.headers.get('content-encoding')).toBeNull()
    expect(f.seen[0]?.body).toBe('{"name":"small"}')
  })
})

describe('errors', () => {
  test('Telerivet error envelope becomes a typed error', async () => {
    const f = fakeFetch(
      json({ error: { code: 'invalid_param', message: 'Invalid URL', param: 'config' } }, 400),
    )
    const err = await client(f.fetch)
      .createService('PJ1', { service_type: 'incoming_message_webhook', config: {} })
      .catch((e) => e)
    expect(err).toBeInstanceOf(TelerivetApiError)
    expect(err).toMatchObject({
      code: 'invalid_param',
      message: 'Invalid URL',
      param: 'config',
      status: 400,
    })
    expect(isInvalidParam(err)).toBe(true)
    expect(isNotFound(err)).toBe(false)
  })

  test('not_found and unauthorized are distinguishable', async () => {
    const nf = await client(
      fakeFetch(json({ error: { code: 'not_found', message: 'x' } }, 404)).fetch,
    )
      .getProject('PJ9')
      .catch((e) => e)
    expect(isNotFound(nf)).toBe(true)
    expect(isInvalidParam(nf)).toBe(false)
    const bare404 = await client(fakeFetch(new Response('', { status: 404 })).fetch)
      .getProject('PJ9')
      .catch((e) => e)
    expect(isNotFound(bare404)).toBe(true)
    const un = await client(
      fakeFetch(json({ error: { code: 'unauthorized', message: 'bad key' } }, 401)).fetch,
    )
      .getProject('PJ9')
      .catch((e) => e)
    expect(isUnauthorized(un)).toBe(true)
    expect(un.code).toBe('unauthorized')
  })

  test('a non-JSON answer says what came back', async () => {
    const f = fakeFetch(
      new Response('<html><body>Bad Gateway</body></html>', {
        status: 502,
        headers: { 'content-type': 'text/html' },
      }),
    )
    const err = await client(f.fetch, { retries: 0 })
      .getProject('PJ1')
      .catch((e) => e)
    expect(err.code).toBe('invalid_response')
    expect(err.status).toBe(502)
    expect(err.message).toContain('502')
    expect(err.message).toContain('text/html')
    expect(err.message).toContain('<html><body>Bad Gateway')
  })

  test('a long non-JSON answer is cut in the message', async () => {
    const f = fakeFetch(new Response('y'.repeat(5000), { status: 200 }))
    const err = await client(f.fetch)
      .getProject('PJ1')
      .catch((e) => e)
    expect(err.code).toBe('invalid_response')
    expect(err.message.length).toBeLessThan(400)
  })

  test('JSON of the wrong shape is an invalid_response', async () => {
    const err = await client(fakeFetch(json({ name: 'no id' })).fetch)
      .getProject('PJ1')
      .catch((e) => e)
    expect(err.code).toBe('invalid_response')
    expect(err.message).toContain('no id')
  })

  test('error status without an envelope is http_error', async () => {
    const err = await client(fakeFetch(json({ what: 1 }, 400)).fetch)
      .getProject('PJ1')
      .catch((e) => e)
    expect(err).toMatchObject({ code: 'http_error', status: 400 })
  })
})

describe('retries', () => {
  test('GET is retried after 5xx and network errors, then succeeds', async () => {
    const f = fakeFetch(
      json({ error: { code: 'server_error', message: 'oops' } }, 503),
      new TypeError('fetch failed'),
      json({ id: 'PJ1', name: 'P' }),
    )
    const p = await client(f.fetch, { retries: 2 }).getProject('PJ1')
    expect(p).toEqual({ id: 'PJ1', name: 'P' })
    expect(f.seen.length).toBe(3)
  })

  test('429 is retried, honouring Retry-After', async () => {
    const f = fakeFetch(
      json({ error: { code: 'rate_limited', message: 'slow down' } }, 429, { 'retry-after': '0' }),
      json(service),
    )
    expect((await client(f.fetch).getService('PJ1', 'SV1')).id).toBe('SV1')
    expect(f.seen.length).toBe(2)
  })

  test('gives up after the configured retries with the last error', async () => {
    const f = fakeFetch(new TypeError('connection refused'))
    const err = await client(f.fetch, { retries: 2 })
      .getProject('PJ1')
      .catch((e) => e)
    expect(f.seen.length).toBe(3)
    expect(err).toMatchObject({ code: 'network_error', status: 0 })
    expect(err.message).toContain('connection refused')
  })

  test('4xx is not retried', async () => {
    const f = fakeFetch(json({ error: { code: 'invalid_param', message: 'x', param: 'p' } }, 400))
    await client(f.fetch, { retries: 3 })
      .getProject('PJ1')
      .catch(() => {})
    expect(f.seen.length).toBe(1)
  })

  test('createService and sendMessage are never retried', async () => {
    const f = fakeFetch(json({ error: { code: 'server_error', message: 'oops' } }, 500))
    const tr = client(f.fetch, { retries: 3 })
    const e1 = await tr
      .createService('PJ1', { service_type: 'incoming_message_webhook', config: {} })
      .catch((e) => e)
    expect(e1.status).toBe(500)
    expect(f.seen.length).toBe(1)
    await tr.sendMessage('PJ1', { content: 'x', to_number: '1' }).catch(() => {})
    expect(f.seen.length).toBe(2)
  })

  test('a lost connection or a 429 does not make createService or sendMessage try again', async () => {
    const f = fakeFetch(
      new TypeError('reset'),
      json({ error: { code: 'rate_limited', message: 'slow down' } }, 429),
      new TypeError('reset'),
      json({ error: { code: 'rate_limited', message: 'slow down' } }, 429),
      json({ id: 'SV1' }),
    )
    const tr = client(f.fetch, { retries: 3 })
    const body = { service_type: 'incoming_message_webhook', config: {} }
    expect((await tr.createService('PJ1', body).catch((e) => e)).code).toBe('network_error')
    expect((await tr.createService('PJ1', body).catch((e) => e)).status).toBe(429)
    const send = { content: 'x', to_number: '1' }
    expect((await tr.sendMessage('PJ1', send).catch((e) => e)).code).toBe('network_error')
    expect((await tr.sendMessage('PJ1', send).catch((e) => e)).status).toBe(429)
    expect(f.seen.length).toBe(4)
  })

  test('setServiceConfig and deleteService are retried (idempotent)', async () => {
    const f = fakeFetch(new TypeError('reset'), json({ url: 'u' }))
    await client(f.fetch).setServiceConfig('PJ1', 'SV1', { url: 'u' })
    expect(f.seen.length).toBe(2)
  })

  test('a not_found on a retried delete means the first attempt got through', async () => {
    const f = fakeFetch(
      new TypeError('reset'),
      json({ error: { code: 'not_found', message: 'x' } }, 404),
    )
    await client(f.fetch).deleteService('PJ1', 'SV1')
    expect(f.seen.length).toBe(2)
    // ...but on the first attempt it is a real error
    const g = fakeFetch(json({ error: { code: 'not_found', message: 'x' } }, 404))
    const err = await client(g.fetch)
      .deleteService('PJ1', 'SV1')
      .catch((e) => e)
    expect(isNotFound(err)).toBe(true)
  })

  test('a request that outlives timeoutMs fails with code timeout', async () => {
    const hang = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    const err = await createTelerivetClient({
      apiKey: 'k',
      fetch: hang as typeof fetch,
      timeoutMs: 10,
      retries: 1,
      retryDelayMs: 1,
    })
      .getProject('PJ1')
      .catch((e) => e)
    expect(err).toMatchObject({ code: 'timeout', status: 0 })
  })

  test('a caller abort is passed through and not retried', async () => {
    let calls = 0
    const hang = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        calls++
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    const ctl = new AbortController()
    const p = createTelerivetClient({ apiKey: 'k', fetch: hang as typeof fetch, retries: 3 })
      .getProject('PJ1', { signal: ctl.signal })
      .catch((e) => e)
    ctl.abort(new Error('stop'))
    const err = await p
    expect(err).not.toBeInstanceOf(TelerivetApiError)
    expect(err.message).toBe('stop')
    expect(calls).toBe(1)
  })
})

describe('queryServices', () => {
  const page = (ids: string[], next: string | null) =>
    json({
      data: ids.map((id) => ({ ...service, id })),
      truncated: next !== null,
      next_marker: next,
    })

  test('async iteration follows next_marker across pages', async () => {
    const f = fakeFetch(page(['SV1', 'SV2'], 'm1'), page(['SV3'], 'm2'), page([], null))
    const ids: string[] = []
    for await (const s of client(f.fetch).queryServices('PJ1', { page_size: 2, active: true })) {
      ids.push(s.id)
    }
    expect(ids).toEqual(['SV1', 'SV2', 'SV3'])
    const q = f.seen.map((r) => new URL(r.url).searchParams)
    expect(q.map((p) => p.get('marker'))).toEqual([null, 'm1', 'm2'])
    expect(q.every((p) => p.get('page_size') === '2' && p.get('active') === 'true')).toBe(true)
  })

  test('one-page call returns data, truncated and next_marker', async () => {
    const f = fakeFetch(page(['SV1'], 'm1'))
    const p = await client(f.fetch).queryServicesPage('PJ1', { marker: 'm0' })
    expect(p.data.map((s) => s.id)).toEqual(['SV1'])
    expect(p.truncated).toBe(true)
    expect(p.next_marker).toBe('m1')
    expect(new URL(f.seen[0]?.url ?? '').searchParams.get('marker')).toBe('m0')
  })

  test('a server that repeats its marker cannot make the iteration loop', async () => {
    const f = fakeFetch(page(['SV1'], 'same'))
    const ids: string[] = []
    for await (const s of client(f.fetch).queryServices('PJ1')) ids.push(s.id)
    expect(ids).toEqual(['SV1', 'SV1'])
    expect(f.seen.length).toBe(2)
  })

  test('iteration stops early when the consumer breaks', async () => {
    const f = fakeFetch(page(['SV1', 'SV2'], 'm1'), page(['SV3'], null))
    for await (const s of client(f.fetch).queryServices('PJ1')) {
      expect(s.id).toBe('SV1')
      break
    }
    expect(f.seen.length).toBe(1)
  })
})
