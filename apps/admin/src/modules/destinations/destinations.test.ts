import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { destinations, projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEndpoint, createEngine } from '@telehook/engine'
import { createForwarder } from '@telehook/engine/forward'
import { parseForm } from '@telehook/protocol'
import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { createAdminApp } from '../../app'
import { importMasterKey } from '../../crypto'

const ADMIN_TOKEN = 'test-admin-token-0123456789'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))

/** The destination: answers with the status its path names (`/200`, `/400`). */
const received: { path: string; headers: Record<string, string>; body: string }[] = []
const receiver = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const path = new URL(req.url).pathname
    received.push({
      path,
      headers: Object.fromEntries(req.headers.entries()),
      body: await req.text(),
    })
    return new Response(`answer ${path}`, { status: Number(path.slice(1)) })
  },
})
const base = `http://127.0.0.1:${receiver.port}`
afterAll(() => receiver.stop(true))

describe.each(TEST_DRIVERS)('destinations API on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let masterKey: CryptoKey
  let app: ReturnType<typeof createAdminApp>
  let endpointId = ''

  beforeAll(async () => {
    database = await openTestDb(driver)
    masterKey = await importMasterKey(MASTER)
    app = createAdminApp({ database, publicUrl: undefined, adminToken: ADMIN_TOKEN, masterKey })
    await database.db.insert(projects).values({ id: 'PJdest', name: 'dest' })
    endpointId = (
      await createEndpoint(database, {
        kind: 'project',
        projectId: 'PJdest',
        secret: 's'.repeat(20),
      })
    ).id
  })
  afterAll(() => database?.drop())

  async function call(method: string, path: string, body?: unknown) {
    const res = await app.handle(
      new Request(`http://admin.local${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    )
    // biome-ignore lint/suspicious/noExplicitAny: test helper reads arbitrary JSON
    return { status: res.status, json: (await res.json()) as any }
  }

  /** Stores an event on the project's endpoint; the ingest transaction enqueues its forwards. */
  async function store(id: string) {
    const engine = createEngine({ database, batch: false })
    const endpoint = await engine.authenticate(endpointId, 's'.repeat(20))
    if (!endpoint) throw new Error('no endpoint')
    const form = parseForm(
      `event=incoming_message&id=${id}&content=hi&from_number=%2B1&to_number=%2B2&message_type=sms&direction=incoming&status=received&time_created=1760000000&project_id=PJdest&secret=${'s'.repeat(20)}`,
    )
    return (await engine.ingest(endpoint, form)).eventId
  }

  test('create shows the secret once; it is stored encrypted and signs what is sent', async () => {
    const created = await call('POST', '/v1/destinations', {
      project_id: 'PJdest',
      url: `${base}/200`,
    })
    expect(created.status).toBe(201)
    expect(created.json.secret).toStartWith('whsec_')
    expect(created.json.destination).toMatchObject({
      project_id: 'PJdest',
      endpoint_id: null,
      url: `${base}/200`,
      event_types: null,
      enabled: true,
      max_in_flight: 4,
    })
    const id = created.json.destination.id as string
    const [row] = await database.db.select().from(destinations).where(eq(destinations.id, id))
    expect(row?.secretCiphertext).not.toContain(created.json.secret.slice(6))
    const read = await call('GET', `/v1/destinations/${id}`)
    expect(read.status).toBe(200)
    expect(JSON.stringify(read.json)).not.toContain('whsec_')
    expect(read.json.jobs).toEqual({ queued: 0, running: 0, done: 0, dead: 0 })

    const eventId = await store('SMapi1')
    expect((await call('GET', `/v1/destinations/${id}`)).json.jobs.queued).toBe(1)
    await createForwarder({ database, masterKey }).runOnce()
    const got = received.at(-1)
    if (!got) throw new Error('nothing received')
    expect(got.headers['webhook-id']).toBe(eventId)
    expect(new Webhook(created.json.secret).verify(got.body, got.headers)).toMatchObject({
      id: 'SMapi1',
      event_id: eventId,
    })
    const attempts = await call('GET', `/v1/destinations/${id}/attempts`)
    expect(attempts.status).toBe(200)
    expect(attempts.json.data).toHaveLength(1)
    expect(attempts.json.data[0]).toMatchObject({
      event_id: eventId,
      attempt: 1,
      status: 200,
      outcome: 'done',
      response_body: 'answer /200',
    })
    expect(attempts.json.next_before).toBeNull()

    const resent = await call('POST', `/v1/destinations/${id}/resend`, { event_id: eventId })
    expect(resent).toEqual({
      status: 202,
      json: { event_id: eventId, destination_id: id, status: 'queued' },
    })
    await createForwarder({ database, masterKey }).runOnce()
    expect(received.filter((r) => r.headers['webhook-id'] === eventId)).toHaveLength(2)
    const paged = await call('GET', `/v1/destinations/${id}/attempts?limit=1`)
    expect(paged.json.data[0].attempt).toBe(1)
    const older = await call(
      'GET',
      `/v1/destinations/${id}/attempts?limit=1&before=${paged.json.next_before}`,
    )
    expect(older.json.data).toHaveLength(1)
    expect(older.json.data[0].id).toBeLessThan(paged.json.data[0].id)
    expect(await call('DELETE', `/v1/destinations/${id}`)).toEqual({
      status: 200,
      json: { id, deleted: true },
    })
    expect((await call('GET', `/v1/destinations/${id}`)).status).toBe(404)
  })

  test('dead jobs are retried in bulk after the URL is fixed', async () => {
    const created = await call('POST', '/v1/destinations', {
      endpoint_id: endpointId,
      url: `${base}/400`,
      event_types: ['incoming_message'],
    })
    const id = created.json.destination.id as string
    await store('SMapi2')
    await store('SMapi3')
    await createForwarder({ database, masterKey }).runOnce()
    expect((await call('GET', `/v1/destinations/${id}`)).json.jobs.dead).toBe(2)
    const patched = await call('PATCH', `/v1/destinations/${id}`, { url: `${base}/200` })
    expect(patched.status).toBe(200)
    expect(patched.json.url).toBe(`${base}/200`)
    expect(await call('POST', `/v1/destinations/${id}/retry-dead`)).toEqual({
      status: 200,
      json: { requeued: 2 },
    })
    await createForwarder({ database, masterKey }).runOnce()
    expect((await call('GET', `/v1/destinations/${id}`)).json.jobs).toEqual({
      queued: 0,
      running: 0,
      done: 2,
      dead: 0,
    })
    await call('DELETE', `/v1/destinations/${id}`)
  })

  test('rotation returns a new secret once and keeps the old one for the grace', async () => {
    const created = await call('POST', '/v1/destinations', {
      project_id: 'PJdest',
      url: `${base}/200`,
      enabled: false,
    })
    const id = created.json.destination.id as string
    expect(created.json.destination.disabled_reason).toBe('disabled by an operator')
    const rotated = await call('POST', `/v1/destinations/${id}/rotate-secret`, {
      grace_seconds: 60,
    })
    expect(rotated.status).toBe(200)
    expect(rotated.json.secret).toStartWith('whsec_')
    expect(rotated.json.secret).not.toBe(created.json.secret)
    const until = Date.parse(rotated.json.destination.previous_secret_expires_at)
    expect(until).toBeGreaterThan(Date.now())
    const enabled = await call('PATCH', `/v1/destinations/${id}`, { enabled: true })
    expect(enabled.json).toMatchObject({ enabled: true, disabled_reason: null })
    const listed = await call('GET', '/v1/destinations?project_id=PJdest')
    expect(listed.json.data.map((d: { id: string }) => d.id)).toContain(id)
    await call('DELETE', `/v1/destinations/${id}`)
  })

  test('bad requests get 400, unknown ids 404', async () => {
    const url = `${base}/200`
    const bad = [
      { url },
      { project_id: 'PJdest', endpoint_id: endpointId, url },
      { project_id: 'PJdest', url: 'ftp://example.com/' },
      { project_id: 'PJdest', url, max_in_flight: 0 },
      { project_id: 'PJdest', url, event_types: [] },
      { project_id: 'PJdest' },
    ]
    for (const body of bad) {
      const r = await call('POST', '/v1/destinations', body)
      expect({ body, status: r.status }).toEqual({ body, status: 400 })
      expect(typeof r.json.error.code).toBe('string')
    }
    const unknownProject = await call('POST', '/v1/destinations', { project_id: 'PJnone', url })
    expect(unknownProject.status).toBe(404)
    expect(unknownProject.json.error.param).toBe('project_id')
    for (const [method, path, body] of [
      ['GET', '/v1/destinations/dst_none', undefined],
      ['PATCH', '/v1/destinations/dst_none', { enabled: true }],
      ['DELETE', '/v1/destinations/dst_none', undefined],
      ['GET', '/v1/destinations/dst_none/attempts', undefined],
      ['POST', '/v1/destinations/dst_none/retry-dead', undefined],
      ['POST', '/v1/destinations/dst_none/rotate-secret', {}],
    ] as const) {
      expect({ path, status: (await call(method, path, body)).status }).toEqual({
        path,
        status: 404,
      })
    }
    const created = await call('POST', '/v1/destinations', { project_id: 'PJdest', url })
    const id = created.json.destination.id as string
    const missingEvent = await call('POST', `/v1/destinations/${id}/resend`, {
      event_id: '00000000-0000-0000-0000-000000000000',
    })
    expect(missingEvent.status).toBe(404)
    expect(missingEvent.json.error.param).toBe('event_id')
    const badId = await call('POST', `/v1/destinations/${id}/resend`, { event_id: 'x' })
    expect(badId.status).toBe(400)
    for (const limit of ['abc', '0', '501', '1e2']) {
      const r = await call('GET', `/v1/destinations/${id}/attempts?limit=${limit}`)
      expect({ limit, status: r.status }).toEqual({ limit, status: 400 })
    }
    const nul = await call('POST', '/v1/destinations', {
      project_id: 'PJdest',
      url: `${url}\u0000`,
    })
    expect(nul.status).toBe(400)
    const noToken = await app.handle(new Request('http://admin.local/v1/destinations'))
    expect(noToken.status).toBe(401)
    await call('DELETE', `/v1/destinations/${id}`)
  })
})
