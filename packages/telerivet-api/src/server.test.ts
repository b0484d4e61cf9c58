import { afterAll, describe, expect, test } from 'bun:test'
import { createTelerivetClient, isInvalidParam, requestNotSent, TelerivetApiError } from './index'

// A tiny Telerivet stand-in on a real socket: checks auth, stores services, and misbehaves on cue.
const services = new Map<string, Record<string, unknown>>()
let flaky = 0
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url)
    if (req.headers.get('authorization') !== `Basic ${btoa('live-key:')}`) {
      return Response.json(
        { error: { code: 'unauthorized', message: 'Invalid API key' } },
        { status: 401 },
      )
    }
    if (url.pathname === '/v1/projects/PJlive') return Response.json({ id: 'PJlive', name: 'Live' })
    if (url.pathname === '/v1/projects/PJhtml') {
      return new Response('<!doctype html><title>Maintenance</title>', {
        status: 503,
        headers: { 'content-type': 'text/html' },
      })
    }
    if (url.pathname === '/v1/projects/PJflaky') {
      if (flaky++ < 1) return new Response('oops', { status: 500 })
      return Response.json({ id: 'PJflaky' })
    }
    if (url.pathname === '/v1/projects/PJlive/services' && req.method === 'POST') {
      const body = (await req.json()) as { config?: { url?: string } }
      if (!body.config?.url?.startsWith('https://')) {
        return Response.json(
          {
            error: { code: 'invalid_param', message: 'config.url must be https', param: 'config' },
          },
          { status: 400 },
        )
      }
      const id = `SV${services.size + 1}`
      const s = { id, ...body, active: true, webhook_url: body.config.url }
      services.set(id, s)
      return Response.json(s)
    }
    if (url.pathname === '/v1/projects/PJlive/services' && req.method === 'GET') {
      const all = [...services.values()]
      const start = Number(url.searchParams.get('marker') ?? 0)
      const size = Number(url.searchParams.get('page_size') ?? 50)
      const data = all.slice(start, start + size)
      const more = start + size < all.length
      return Response.json({
        data,
        truncated: more,
        next_marker: more ? String(start + size) : null,
      })
    }
    return Response.json({ error: { code: 'not_found', message: 'Not found' } }, { status: 404 })
  },
})
afterAll(() => server.stop(true))

const baseUrl = `http://127.0.0.1:${server.port}/v1`

describe('against a real HTTP server', () => {
  const tr = createTelerivetClient({ apiKey: 'live-key', baseUrl, retryDelayMs: 1 })

  test('getProject with the right key', async () => {
    expect(await tr.getProject('PJlive')).toEqual({ id: 'PJlive', name: 'Live' })
  })

  test('a wrong key is a 401 TelerivetApiError', async () => {
    const bad = createTelerivetClient({ apiKey: 'nope', baseUrl })
    const err = await bad.getProject('PJlive').catch((e) => e)
    expect(err).toBeInstanceOf(TelerivetApiError)
    expect(err).toMatchObject({ status: 401, code: 'unauthorized', message: 'Invalid API key' })
  })

  test('createService, invalid_param, then paging over all services', async () => {
    const err = await tr
      .createService('PJlive', {
        service_type: 'incoming_message_webhook',
        config: { url: 'http://x' },
      })
      .catch((e) => e)
    expect(isInvalidParam(err)).toBe(true)
    expect(err.param).toBe('config')
    for (let i = 0; i < 5; i++) {
      await tr.createService('PJlive', {
        service_type: 'incoming_message_webhook',
        config: { url: `https://h.example/hooks/${i}` },
      })
    }
    const ids: string[] = []
    for await (const s of tr.queryServices('PJlive', { page_size: 2 })) ids.push(s.id)
    expect(ids).toEqual(['SV1', 'SV2', 'SV3', 'SV4', 'SV5'])
  })

  test('an HTML error page is reported with its status and first bytes', async () => {
    const err = await createTelerivetClient({ apiKey: 'live-key', baseUrl, retries: 0 })
      .getProject('PJhtml')
      .catch((e) => e)
    expect(err.code).toBe('invalid_response')
    expect(err.message).toContain('503')
    expect(err.message).toContain('<!doctype html><title>Maintenance')
  })

  test('a 500 then success is retried transparently for GET', async () => {
    expect((await tr.getProject('PJflaky')).id).toBe('PJflaky')
    expect(flaky).toBe(2)
  })

  test('a closed port is a network_error', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const port = dead.port
    dead.stop(true)
    const err = await createTelerivetClient({
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      retries: 1,
      retryDelayMs: 1,
    })
      .getProject('PJ1')
      .catch((e) => e)
    expect(err).toMatchObject({ code: 'network_error', status: 0 })
    // Refused: the request provably never reached the server.
    expect(requestNotSent(err)).toBe(true)
  })

  test('a timeout after the request was sent is not "never sent"', async () => {
    let arrived = 0
    const dropping = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async (req) => {
        await req.text()
        arrived++
        // The request arrived; the client never gets an answer.
        return new Promise<Response>(() => {})
      },
    })
    try {
      const err = await createTelerivetClient({
        apiKey: 'k',
        baseUrl: `http://127.0.0.1:${dropping.port}/v1`,
        timeoutMs: 300,
      })
        .createService('PJ1', {
          service_type: 'incoming_message_webhook',
          config: { url: 'https://example.com/hook', secret: 's' },
        })
        .catch((e) => e)
      expect(err).toMatchObject({ code: 'timeout', status: 0 })
      expect(arrived).toBe(1)
      expect(requestNotSent(err)).toBe(false)
    } finally {
      dropping.stop(true)
    }
  })
})
