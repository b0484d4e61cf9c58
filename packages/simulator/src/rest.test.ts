import { describe, expect, test } from 'bun:test'
import { createSimulator } from './simulator.ts'

const sim = createSimulator({ manualClock: true, apiKey: 'KEY1', projectId: 'PJtest0001' })
const other = sim.createProject({ id: 'PJother0001', apiKey: 'KEY2' })
const base = 'http://sim.local/v1/projects/PJtest0001'

async function call(
  method: string,
  path: string,
  body?: unknown,
  key = 'KEY1',
  extra: RequestInit = {},
) {
  const headers: Record<string, string> = { authorization: `Basic ${btoa(`${key}:`)}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await sim.fetch(
    new Request(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...extra,
    }),
  )
  return {
    status: res.status,
    json: (await res.json()) as Record<string, unknown> & { error?: Record<string, string> },
  }
}

const webhook = (
  name: string | undefined,
  url = 'https://hooks.example/t',
  extra: object = {},
) => ({
  service_type: 'incoming_message_webhook',
  ...(name === undefined ? {} : { name }),
  config: { url, secret: 'sec' },
  ...extra,
})

describe('REST auth and projects', () => {
  test('no key, a wrong key: 401 in the error shape', async () => {
    const none = await sim.fetch(new Request(base))
    expect(none.status).toBe(401)
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    const wrong = await call('GET', '', undefined, 'nope')
    expect(wrong.status).toBe(401)
    expect(wrong.json).toEqual({ error: { code: 'unauthorized', message: 'Invalid API key' } })
    // A key sent the wrong way is told how to send it.
    for (const authorization of ['Bearer KEY1', 'Basic !!!', `Basic ${btoa(':KEY1')}`]) {
      const r = await sim.fetch(new Request(base, { headers: { authorization } }))
      expect(r.status).toBe(401)
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain(
        'HTTP Basic auth with the API key as the user',
      )
    }
  })

  test('GET /projects/:id answers the documented fields; a foreign or unknown project is not_found', async () => {
    const ok = await call('GET', '')
    expect(ok.status).toBe(200)
    expect(Object.keys(ok.json).sort()).toEqual(
      [
        'id',
        'name',
        'timezone_id',
        'url_slug',
        'default_route_id',
        'auto_create_contacts',
        'vars',
        'organization_id',
      ].sort(),
    )
    expect(ok.json.id).toBe('PJtest0001')
    const foreign = await call('GET', '', undefined, 'KEY2')
    expect(foreign.status).toBe(404)
    expect(foreign.json.error?.code).toBe('not_found')
    expect(other.project.id).toBe('PJother0001')
  })
})

describe('REST services', () => {
  test('create, get, update, config, delete', async () => {
    const created = await call(
      'POST',
      '/services',
      webhook(undefined, 'https://hooks.example:8443/a'),
    )
    expect(created.status).toBe(200)
    expect(created.json).toMatchObject({
      name: 'Webhook API',
      service_type: 'incoming_message_webhook',
      active: true,
      apply_mode: 'unhandled',
      webhook_url: 'https://hooks.example:8443/a',
      project_id: 'PJtest0001',
      contexts: { message: { incoming_message: true } },
    })
    expect(created.json).not.toHaveProperty('config')
    const id = created.json.id as string
    expect(id.length).toBeLessThanOrEqual(34)
    expect((await call('GET', `/services/${id}`)).json).toEqual(created.json)

    const updated = await call('POST', `/services/${id}`, {
      name: 'Renamed',
      active: false,
      vars: { a: 1 },
    })
    expect(updated.json).toMatchObject({ name: 'Renamed', active: false, vars: { a: 1 } })
    expect((await call('GET', `/services/${id}/config`)).json).toEqual({
      url: 'https://hooks.example:8443/a',
      secret: 'sec',
    })
    const rotated = await call('POST', `/services/${id}/config`, {
      url: 'https://hooks.example/b',
      secret: 'new',
    })
    expect(rotated.json).toEqual({ url: 'https://hooks.example/b', secret: 'new' })
    expect((await call('GET', `/services/${id}`)).json.webhook_url).toBe('https://hooks.example/b')
    const badConfig = await call('POST', `/services/${id}/config`, {
      url: 'http://x.example:3000/',
    })
    expect(badConfig.json.error).toMatchObject({ code: 'invalid_param', param: 'config.url' })

    expect((await call('DELETE', `/services/${id}`)).status).toBe(200)
    const gone = await call('GET', `/services/${id}`)
    expect(gone.status).toBe(404)
    expect(gone.json.error?.code).toBe('not_found')
  })

  test('createService validates like Telerivet', async () => {
    const cases: [unknown, string][] = [
      [{ config: { url: 'https://x.example/' } }, 'service_type'],
      [{ service_type: 'sms_robot', config: { url: 'https://x.example/' } }, 'service_type'],
      [{ service_type: 'incoming_message_webhook' }, 'config'],
      [{ service_type: 'incoming_message_webhook', config: {} }, 'config.url'],
      [
        { service_type: 'incoming_message_webhook', config: { url: 'ftp://x.example/' } },
        'config.url',
      ],
      [
        { service_type: 'incoming_message_webhook', config: { url: 'http://x.example:3000/' } },
        'config.url',
      ],
      [webhook('p', 'https://x.example/', { apply_mode: 'sometimes' }), 'apply_mode'],
      [webhook('p', 'https://x.example/', { message_types: ['fax'] }), 'message_types'],
      [webhook('p', 'https://x.example/', { phone_ids: ['PNnope'] }), 'phone_ids'],
      [webhook('p', 'https://x.example/', { priority: 1.5 }), 'priority'],
      [webhook('p', 'https://x.example/', { vars: { 'bad name': 1 } }), 'vars'],
    ]
    for (const [body, param] of cases) {
      const r = await call('POST', '/services', body)
      expect([r.status, r.json.error?.code, r.json.error?.param]).toEqual([
        400,
        'invalid_param',
        param,
      ])
      expect(typeof r.json.error?.message).toBe('string')
    }
    for (const port of ['', ':80', ':443', ':8000', ':8080', ':8443']) {
      const r = await call(
        'POST',
        '/services',
        webhook(`port${port}`, `http://ok.example${port}/h`),
      )
      expect(r.status).toBe(200)
    }
    expect((await call('POST', '/services', webhook('dup'))).status).toBe(200)
    const dup = await call('POST', '/services', webhook('dup'))
    expect(dup.json.error).toMatchObject({ code: 'invalid_param', param: 'name' })
    const named = await call('POST', '/services', webhook(undefined))
    expect(named.json.name).toMatch(/^Webhook API( \d+)?$/)
  })

  test('gzip request bodies are accepted', async () => {
    const raw = new TextEncoder().encode(JSON.stringify(webhook('gzipped')))
    const gz = await new Response(
      new Blob([raw])
        .stream()
        .pipeThrough(
          new CompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
        ),
    ).arrayBuffer()
    const r = await call('POST', '/services', undefined, 'KEY1', {
      body: gz,
      headers: {
        authorization: `Basic ${btoa('KEY1:')}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
    })
    expect(r.status).toBe(200)
    expect(r.json.name).toBe('gzipped')
    const broken = await call('POST', '/services', undefined, 'KEY1', {
      body: 'not gzip',
      headers: { authorization: `Basic ${btoa('KEY1:')}`, 'content-encoding': 'gzip' },
    })
    expect(broken.status).toBe(400)
  })

  test('query: paging with page_size/marker/offset, count, filters, sort', async () => {
    const s = createSimulator({ manualClock: true, apiKey: 'K', projectId: 'PJpage' })
    for (let i = 0; i < 7; i++) {
      s.createService(
        'PJpage',
        webhook(`svc-${i}`, 'https://x.example/', { active: i % 2 === 0, priority: 10 - i }),
      )
    }
    const q = async (query: string) => {
      const res = await s.fetch(
        new Request(`http://sim.local/v1/projects/PJpage/services?${query}`, {
          headers: { authorization: `Basic ${btoa('K:')}` },
        }),
      )
      return {
        status: res.status,
        json: (await res.json()) as {
          data: { name: string }[]
          truncated: boolean
          next_marker: string | null
          count?: number
          error?: { param: string }
        },
      }
    }
    const names: string[] = []
    let page = await q('page_size=3&sort=name')
    names.push(...page.json.data.map((d) => d.name))
    expect(page.json.truncated).toBe(true)
    while (page.json.next_marker) {
      page = await q(`page_size=3&sort=name&marker=${page.json.next_marker}`)
      names.push(...page.json.data.map((d) => d.name))
    }
    expect(names).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4', 'svc-5', 'svc-6'])
    expect(page.json.truncated).toBe(false)
    expect(page.json.next_marker).toBeNull()
    expect((await q('offset=5&sort=name')).json.data.map((d) => d.name)).toEqual(['svc-5', 'svc-6'])
    expect((await q('count=1')).json).toEqual({ count: 7 } as never)
    expect((await q('count=1&active=1')).json).toEqual({ count: 4 } as never)
    expect((await q('active=0&sort=name')).json.data.map((d) => d.name)).toEqual([
      'svc-1',
      'svc-3',
      'svc-5',
    ])
    expect((await q('name=svc-2')).json.data.map((d) => d.name)).toEqual(['svc-2'])
    expect(
      (await q('name[prefix]=svc-&name[ne]=svc-0&sort=name&sort_dir=desc')).json.data[0]?.name,
    ).toBe('svc-6')
    expect((await q('sort=priority')).json.data.map((d) => d.name)[0]).toBe('svc-6')
    expect((await q('context=message&count=1')).json).toEqual({ count: 7 } as never)
    expect((await q('context=call&count=1')).json).toEqual({ count: 0 } as never)
    for (const [query, param] of [
      ['page_size=501', 'page_size'],
      ['page_size=0', 'page_size'],
      ['offset=-1', 'offset'],
      ['marker=zzz', 'marker'],
      ['sort=color', 'sort'],
      ['context=galaxy', 'context'],
    ]) {
      const r = await q(query as string)
      expect([r.status, r.json.error?.param]).toEqual([400, param])
    }
    expect((await q('page_size=500')).status).toBe(200)
  })

  test('unknown paths and methods', async () => {
    expect((await call('GET', '/nothing')).json.error?.code).toBe('not_found')
    expect((await call('PATCH', '')).status).toBe(405)
    const bad = await sim.fetch(
      new Request(`${base}/services`, {
        method: 'POST',
        headers: { authorization: `Basic ${btoa('KEY1:')}` },
        body: '{not json',
      }),
    )
    expect(bad.status).toBe(400)
  })

  test('messages/send validates and answers the message', async () => {
    const missing = await call('POST', '/messages/send', { content: 'x' })
    expect(missing.json.error).toMatchObject({ code: 'invalid_param', param: 'to_number' })
    const noContent = await call('POST', '/messages/send', { to_number: '+16505550001' })
    expect(noContent.json.error?.param).toBe('content')
    const badRoute = await call('POST', '/messages/send', {
      to_number: '+16505550001',
      content: 'x',
      route_id: 'PNx',
    })
    expect(badRoute.json.error?.param).toBe('route_id')
    const ok = await call('POST', '/messages/send', {
      to_number: '+16505550001',
      content: 'x',
      vars: { k: 'v' },
    })
    expect(ok.json).toMatchObject({
      direction: 'outgoing',
      status: 'queued',
      to_number: '+16505550001',
      vars: { k: 'v' },
    })
  })
})
