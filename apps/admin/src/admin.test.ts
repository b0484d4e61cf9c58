import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { adminTokens, endpoints, events, idempotencyKeys, jobs, projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, createJsonLogger, type Engine } from '@telehook/engine'
import { parseForm, sha256Hex } from '@telehook/protocol'
import { createSimulator, type RunningSimulator, startSimulator } from '@telehook/simulator'
import { eq, sql } from 'drizzle-orm'
import pkg from '../package.json'
import { type AdminDeps, createAdminApp } from './app'
import { decryptSecret, importMasterKey } from './crypto'
import { IDEMPOTENCY_STALE_MS } from './idempotency'
import { createAdminToken } from './modules/tokens/service'

const ADMIN_TOKEN = 'test-admin-token-0123456789'
const PUBLIC_URL = 'http://127.0.0.1:8000'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const KEY_A = 'sim_key_project_a_SECRET_1234567890'
const KEY_B = 'sim_key_project_b_SECRET_0987654321'

describe.each(TEST_DRIVERS)('admin API on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let sim: RunningSimulator
  let engine: Engine
  let masterKey: CryptoKey
  const logLines: string[] = []
  const bodies: string[] = []
  let app: ReturnType<typeof createAdminApp>
  let projectB = ''

  // Stands in for the webhook app: the simulator's deliveries go straight into the engine.
  const deliverToEngine = async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init)
    const id = new URL(req.url).pathname.split('/hooks/')[1] ?? ''
    const form = parseForm(await req.text())
    const secret = typeof form.secret === 'string' ? form.secret : undefined
    const ep = await engine.authenticate(id, secret)
    if (!ep) return new Response('Invalid webhook secret', { status: 403 })
    const r = await engine.ingest(ep, form)
    return Response.json(r.reply ?? {})
  }

  function makeApp(extra: Partial<AdminDeps> = {}) {
    return createAdminApp({
      database,
      engine,
      publicUrl: PUBLIC_URL,
      telerivetApiUrl: sim.apiUrl,
      adminToken: ADMIN_TOKEN,
      masterKey,
      logger: createJsonLogger((l) => logLines.push(l)),
      telerivetRetries: 1,
      ...extra,
    })
  }

  async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    on = app,
    raw?: string,
  ) {
    const res = await on.handle(
      new Request(`http://admin.local${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body !== undefined || raw !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(raw !== undefined ? { body: raw } : {}),
      }),
    )
    const text = await res.text()
    bodies.push(text)
    // biome-ignore lint/suspicious/noExplicitAny: test helper reads arbitrary JSON
    let json: any = null
    try {
      json = JSON.parse(text)
    } catch {}
    return { status: res.status, json, text, headers: res.headers }
  }

  beforeAll(async () => {
    database = await openTestDb(driver)
    engine = createEngine({ database, endpointCacheMs: 0 })
    masterKey = await importMasterKey(MASTER)
    sim = await startSimulator({
      port: 0,
      manualClock: true,
      apiKey: KEY_A,
      projectName: 'Project A',
      fetch: deliverToEngine as unknown as typeof fetch,
    })
    projectB = sim.sim.createProject({ name: 'Project B', apiKey: KEY_B }).project.id
    app = makeApp()
  }, 60_000)

  afterAll(async () => {
    await sim?.close()
    await database?.drop()
  })

  describe('auth', () => {
    test('no token, wrong token, malformed header → 401 with nothing about the data', async () => {
      for (const h of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic abc' }]) {
        const res = await app.handle(
          new Request('http://admin.local/v1/projects', { headers: h as Record<string, string> }),
        )
        expect(res.status).toBe(401)
        expect(res.headers.get('www-authenticate')).toContain('Bearer')
        expect(await res.json()).toEqual({
          error: { code: 'unauthorized', message: 'Missing or invalid token' },
        })
      }
      // Checked before parsing and validation: a bad body or an unknown route is still a 401.
      for (const [method, path, body] of [
        ['POST', '/v1/projects', '{"project_id": 5'],
        ['POST', '/v1/projects', '{"project_id": 5}'],
        ['GET', '/v1/no-such-route', undefined],
      ] as const) {
        const res = await app.handle(
          new Request(`http://admin.local${path}`, {
            method,
            headers: { 'content-type': 'application/json' },
            ...(body ? { body } : {}),
          }),
        )
        expect(res.status).toBe(401)
      }
      // The same answer for an existing and a missing object.
      const a = await app.handle(
        new Request('http://admin.local/v1/events/00000000-0000-0000-0000-000000000000'),
      )
      expect(a.status).toBe(401)
    })

    test('a token made with createAdminToken works; only its hash is stored', async () => {
      const { token, id } = await createAdminToken(database, 'ci')
      const res = await app.handle(
        new Request('http://admin.local/v1/projects', {
          headers: { authorization: `Bearer ${token}` },
        }),
      )
      expect(res.status).toBe(200)
      const [row] = await database.db.select().from(adminTokens).where(eq(adminTokens.id, id))
      expect(row?.tokenHash).toBe(await sha256Hex(token))
      expect(JSON.stringify(row)).not.toContain(token)
      expect(row?.lastUsedAt).toBeInstanceOf(Date)
    })

    test('OpenAPI 3.1.0, valid, every error answer with ErrorBody; the viewer from its package', async () => {
      const res = await app.handle(new Request('http://admin.local/docs/json'))
      expect(res.status).toBe(200)
      // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document read as JSON
      const doc = (await res.json()) as any
      expect(doc.openapi).toBe('3.1.0')
      expect(await new Validator().validate(doc)).toEqual({ valid: true })
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/healthz',
          '/metrics',
          '/v1/projects',
          '/v1/projects/{id}/services',
          '/v1/projects/{id}/services/{sid}/rotate-secret',
          '/v1/events',
          '/v1/messages/{id}',
          '/v1/tokens',
          '/v1/tokens/{id}',
        ]),
      )
      const errorRef = { $ref: '#/components/schemas/ErrorBody' }
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!path.startsWith('/v1/')) continue
        // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI operation
        for (const [method, op] of Object.entries(ops as Record<string, any>)) {
          const r401 = op.responses['401']?.content['application/json'].schema
          expect({ path, method, r401 }).toEqual({ path, method, r401: errorRef })
        }
      }
      expect(
        doc.paths['/v1/projects/{id}'].get.responses['404'].content['application/json'].schema,
      ).toEqual(errorRef)
      expect(doc.paths['/healthz'].get.security).toEqual([])

      const page = await app.handle(new Request('http://admin.local/docs'))
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toContain('text/html')
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'")
      const html = await page.text()
      // Nothing from another origin: every src and href is a path on this server.
      const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])
      expect(refs).toEqual(['/docs/scalar.js'])
      expect(html).toContain('"url":"/docs/json"')

      const script = await app.handle(new Request('http://admin.local/docs/scalar.js'))
      expect(script.status).toBe(200)
      expect(script.headers.get('content-type')).toContain('javascript')
      const bundled = Bun.file(
        new URL(
          '../node_modules/@scalar/api-reference/dist/browser/standalone.js',
          import.meta.url,
        ),
      )
      expect((await script.arrayBuffer()).byteLength).toBe(bundled.size)
      const gz = await app.handle(
        new Request('http://admin.local/docs/scalar.js', {
          headers: { 'accept-encoding': 'gzip, br' },
        }),
      )
      expect(gz.headers.get('content-encoding')).toBe('gzip')
      expect(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer())).byteLength).toBe(bundled.size)
      // Pinned: an exact version, not a range.
      expect(pkg.dependencies['@scalar/api-reference']).toMatch(/^\d+\.\d+\.\d+$/)
    })
  })

  describe('projects', () => {
    test('onboarding checks the key against Telerivet and stores it encrypted', async () => {
      const a = await call('POST', '/v1/projects', { project_id: sim.projectId, api_key: KEY_A })
      expect(a.status).toBe(201)
      expect(a.json).toMatchObject({ id: sim.projectId, name: 'Project A' })
      const b = await call('POST', '/v1/projects', {
        project_id: projectB,
        api_key: KEY_B,
        name: 'B (ours)',
      })
      expect(b.status).toBe(201)
      expect(b.json.name).toBe('B (ours)')
      const [row] = await database.db.select().from(projects).where(eq(projects.id, projectB))
      expect(row?.apiKeyCiphertext).toBeString()
      expect(row?.apiKeyCiphertext).not.toContain(KEY_B)
      expect(await decryptSecret(masterKey, row?.apiKeyCiphertext ?? '', projectB)).toBe(KEY_B)
      const list = await call('GET', '/v1/projects')
      expect(list.json.data.map((p: { id: string }) => p.id).sort()).toEqual(
        [sim.projectId, projectB].sort(),
      )
      expect((await call('GET', `/v1/projects/${projectB}`)).json.name).toBe('B (ours)')
      expect((await call('GET', '/v1/projects/PJnope')).status).toBe(404)
    })

    test('a wrong key or a foreign project is a clear 400 and stores nothing', async () => {
      const bad = await call('POST', '/v1/projects', { project_id: 'PJnew', api_key: 'not-a-key' })
      expect(bad.status).toBe(400)
      expect(bad.json.error.code).toBe('telerivet_unauthorized')
      const foreign = await call('POST', '/v1/projects', { project_id: projectB, api_key: KEY_A })
      expect(foreign.status).toBe(400)
      expect(foreign.json.error.code).toBe('telerivet_project_not_found')
      const rows = await database.db.select({ id: projects.id }).from(projects)
      expect(rows.map((r) => r.id)).not.toContain('PJnew')
    })

    test('a malformed body is a 400 that does not echo the values', async () => {
      const r = await call('POST', '/v1/projects', { project_id: 5, api_key: KEY_A })
      expect(r.status).toBe(400)
      expect(r.json.error.code).toBe('invalid_request')
      expect(r.text).not.toContain(KEY_A)
      // An enumeration names its allowed values (never the rejected one).
      const e = await call('POST', `/v1/projects/${sim.projectId}/services`, {
        message_types: ['sms', 'fax'],
      })
      expect(e.status).toBe(400)
      expect(e.json.error.errors).toEqual([
        {
          path: '/message_types/1',
          message: 'Expected one of text, call, sms, mms, ussd_session, chat',
        },
      ])
      expect(e.text).not.toContain('fax')
    })

    test('a body that is not JSON is a 415 or a 400 that says so, never a field error', async () => {
      for (const [type, body] of [
        ['application/x-www-form-urlencoded', `project_id=PJx&api_key=${KEY_A}`],
        ['text/plain', JSON.stringify({ project_id: 'PJx', api_key: KEY_A })],
      ] as const) {
        const r = await call('POST', '/v1/projects', undefined, { 'content-type': type }, app, body)
        expect({ status: r.status, code: r.json.error.code }).toEqual({
          status: 415,
          code: 'unsupported_media_type',
        })
        expect(r.text).not.toContain(KEY_A)
      }
      const bad = await call('POST', '/v1/projects', undefined, {}, app, '{"project_id":')
      expect(bad.status).toBe(400)
      expect(bad.json.error.code).toBe('invalid_json')
      const charset = await call(
        'POST',
        '/v1/projects',
        undefined,
        { 'content-type': 'application/json; charset=utf-8' },
        app,
        '{"project_id": 5}',
      )
      expect(charset.json.error.code).toBe('invalid_request')
    })
  })

  describe('services', () => {
    let svcA: { id: string; telerivet_service_id: string; url: string }
    let svcB: { id: string; telerivet_service_id: string; url: string }

    test('create: endpoint + Telerivet incoming_message_webhook service with its own secret', async () => {
      const r = await call('POST', `/v1/projects/${sim.projectId}/services`, {
        name: 'Inbox A',
        message_types: ['sms'],
        priority: 3,
      })
      expect(r.status).toBe(201)
      svcA = r.json
      expect(svcA.url).toBe(`${PUBLIC_URL}/hooks/${svcA.id}`)
      expect(r.text).not.toContain('secret"')
      const remote = sim.sim.service(sim.projectId, svcA.telerivet_service_id)
      expect(remote).toMatchObject({
        service_type: 'incoming_message_webhook',
        webhook_url: svcA.url,
        name: 'Inbox A',
        priority: 3,
        message_types: ['sms'],
      })
      const config = sim.sim.serviceConfig(sim.projectId, svcA.telerivet_service_id)
      const secret = String(config.secret)
      expect(secret.length).toBeGreaterThanOrEqual(32)
      const [ep] = await database.db.select().from(endpoints).where(eq(endpoints.id, svcA.id))
      expect(ep).toMatchObject({ kind: 'service', projectId: sim.projectId })
      expect(ep?.secretHash).toBe(await sha256Hex(secret))
      const b = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Inbox B' })
      expect(b.status).toBe(201)
      svcB = b.json
    })

    test('incoming messages land under the right project; a secret of A is refused on B', async () => {
      const outA = await sim.incomingMessage({
        project_id: sim.projectId,
        from_number: '+15551110001',
        content: 'hello A',
      })
      const outB = await sim.incomingMessage({
        project_id: projectB,
        from_number: '+15551110002',
        content: 'hello B',
      })
      expect(outA.deliveries.map((d) => d.http_status)).toEqual([200])
      expect(outB.deliveries.map((d) => d.http_status)).toEqual([200])
      const rows = await database.db.select().from(events)
      const byMsg = new Map(rows.map((e) => [e.telerivetId, e]))
      expect(byMsg.get(outA.message.id)).toMatchObject({
        projectId: sim.projectId,
        endpointId: svcA.id,
      })
      expect(byMsg.get(outB.message.id)).toMatchObject({ projectId: projectB, endpointId: svcB.id })
      const secretA = String(sim.sim.serviceConfig(sim.projectId, svcA.telerivet_service_id).secret)
      expect(await engine.authenticate(svcB.id, secretA)).toBeNull()
      expect(await engine.authenticate(svcA.id, secretA)).toMatchObject({
        projectId: sim.projectId,
      })
    })

    test('Idempotency-Key: a retry gets the first answer and creates nothing more', async () => {
      const before = sim.sim.services(projectB).length
      const h = { 'idempotency-key': 'create-b-2' }
      const first = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Inbox B2' }, h)
      const again = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Inbox B2' }, h)
      expect(first.status).toBe(201)
      expect(again.status).toBe(201)
      expect(again.json).toEqual(first.json)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(sim.sim.services(projectB).length).toBe(before + 1)
      const other = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Other' }, h)
      expect(other.status).toBe(422)
      expect(other.json.error.code).toBe('idempotency_key_reused')
    })

    test('Idempotency-Key: concurrent retries create one service', async () => {
      const before = sim.sim.services(projectB).length
      const h = { 'idempotency-key': 'create-b-concurrent' }
      const answers = await Promise.all(
        [1, 2, 3].map(() => call('POST', `/v1/projects/${projectB}/services`, { name: 'Race' }, h)),
      )
      expect(sim.sim.services(projectB).length).toBe(before + 1)
      const created = answers.filter((a) => a.status === 201)
      expect(created.length).toBeGreaterThanOrEqual(1)
      for (const a of answers) expect([201, 409]).toContain(a.status)
      expect(new Set(created.map((a) => a.json.id)).size).toBe(1)
      const later = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Race' }, h)
      expect(later.json.id).toBe(created[0]?.json.id)
    })

    test('Idempotency-Key: a first attempt that died with its process does not block the key', async () => {
      const scope = `services:${projectB}`
      const insert = async (key: string, age: number) =>
        database.db.insert(idempotencyKeys).values({
          scope,
          key,
          requestHash: await sha256Hex(JSON.stringify({})),
          status: 0,
          response: null,
          createdAt: new Date(Date.now() - age),
        })
      await insert('died-long-ago', IDEMPOTENCY_STALE_MS + 60_000)
      await insert('still-running', 1_000)
      const h = (k: string) => ({ 'idempotency-key': k })
      const running = await call(
        'POST',
        `/v1/projects/${projectB}/services`,
        {},
        h('still-running'),
      )
      expect(running.status).toBe(409)
      expect(running.json.error.code).toBe('idempotency_in_progress')
      const before = sim.sim.services(projectB).length
      const taken = await call('POST', `/v1/projects/${projectB}/services`, {}, h('died-long-ago'))
      expect(taken.status).toBe(201)
      expect(sim.sim.services(projectB).length).toBe(before + 1)
      const again = await call('POST', `/v1/projects/${projectB}/services`, {}, h('died-long-ago'))
      expect(again.json.id).toBe(taken.json.id)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
    })

    test('TELEHOOK_PUBLIC_URL on a port Telerivet refuses → 400 before anything is created', async () => {
      const epBefore = (await database.db.select().from(endpoints)).length
      const svBefore = sim.sim.services(projectB).length
      for (const url of ['http://127.0.0.1:3000', undefined]) {
        const bad = makeApp({ publicUrl: url })
        const r = await call('POST', `/v1/projects/${projectB}/services`, {}, {}, bad)
        expect(r.status).toBe(400)
        expect(r.json.error.code).toBe(url ? 'public_url_invalid' : 'public_url_missing')
        if (url) expect(r.json.error.message).toContain('port 3000')
      }
      expect((await database.db.select().from(endpoints)).length).toBe(epBefore)
      expect(sim.sim.services(projectB).length).toBe(svBefore)
    })

    test('Telerivet refusing (invalid_param, port it refuses) → 4xx and no endpoint left', async () => {
      const epBefore = (await database.db.select().from(endpoints)).length
      const dup = await call('POST', `/v1/projects/${projectB}/services`, {
        vars: { 'not a valid name!': 1 },
      })
      expect(dup.status).toBe(400)
      expect(dup.json.error.code).toBe('telerivet_invalid_param')
      expect(dup.json.error.param).toBeString()
      // Telerivet's own port rule: a Telerivet that only accepts 443 refuses our URL on 8000.
      const strict = createSimulator({ allowedPorts: [443], apiKey: 'strict_key_abcdefghijklmnop' })
      const strictApp = makeApp({
        telerivetApiUrl: 'http://strict.sim/v1',
        fetch: ((input: string | URL | Request, init?: RequestInit) =>
          strict.fetch(new Request(input, init))) as unknown as typeof fetch,
      })
      const p = await call(
        'POST',
        '/v1/projects',
        { project_id: strict.projectId, api_key: 'strict_key_abcdefghijklmnop' },
        {},
        strictApp,
      )
      expect(p.status).toBe(201)
      const port = await call(
        'POST',
        `/v1/projects/${strict.projectId}/services`,
        {},
        {},
        strictApp,
      )
      expect(port.status).toBe(400)
      expect(port.json.error).toMatchObject({
        code: 'telerivet_invalid_param',
        param: 'config.url',
      })
      expect(strict.services(strict.projectId)).toEqual([])
      expect(
        (await call('DELETE', `/v1/projects/${strict.projectId}`, undefined, {}, strictApp)).status,
      ).toBe(200)
      strict.close()
      expect((await database.db.select().from(endpoints)).length).toBe(epBefore)
    })

    test('failure after Telerivet created the service → deleted there, nothing here', async () => {
      // A real database failure at the moment the Telerivet service id is recorded.
      await database.db.execute(
        sql.raw(`create function telehook.fail_boom() returns trigger language plpgsql as $$
          begin
            if new.name = 'boom' and new.telerivet_service_id is not null then
              raise exception 'simulated commit failure';
            end if;
            return new;
          end $$`),
      )
      await database.db.execute(
        sql.raw(
          'create trigger fail_boom before update on telehook.endpoints for each row execute function telehook.fail_boom()',
        ),
      )
      const epBefore = (await database.db.select().from(endpoints)).length
      const svBefore = sim.sim.services(projectB).length
      const r = await call('POST', `/v1/projects/${projectB}/services`, { name: 'boom' })
      expect(r.status).toBe(500)
      expect(r.json.error.code).toBe('commit_failed')
      expect(sim.sim.services(projectB).length).toBe(svBefore)
      expect(sim.sim.services(projectB).some((s) => s.name === 'boom')).toBe(false)
      expect((await database.db.select().from(endpoints)).length).toBe(epBefore)
      await database.db.execute(sql.raw('drop trigger fail_boom on telehook.endpoints'))
    })

    test('a lost answer to createService: found by URL and adopted, no duplicate', async () => {
      let lost = 0
      const losing = makeApp({
        fetch: (async (input: string | URL | Request, init?: RequestInit) => {
          const res = await fetch(input, init)
          const req = new Request(input, init)
          if (
            req.method === 'POST' &&
            new URL(req.url).pathname.endsWith('/services') &&
            lost++ === 0
          ) {
            throw new TypeError('connection reset after the request was sent')
          }
          return res
        }) as unknown as typeof fetch,
      })
      const before = sim.sim.services(projectB).length
      const r = await call(
        'POST',
        `/v1/projects/${projectB}/services`,
        { name: 'Lost' },
        {},
        losing,
      )
      expect(r.status).toBe(201)
      expect(sim.sim.services(projectB).length).toBe(before + 1)
      expect(sim.sim.service(projectB, r.json.telerivet_service_id).webhook_url).toBe(r.json.url)
    })

    test('Telerivet unreachable after creating: pending, then reconciled by the list', async () => {
      const dead = makeApp({
        fetch: (async (input: string | URL | Request, init?: RequestInit) => {
          const req = new Request(input, init)
          if (req.method === 'POST') await fetch(input, init)
          throw new TypeError('network down')
        }) as unknown as typeof fetch,
      })
      const r = await call(
        'POST',
        `/v1/projects/${projectB}/services`,
        { name: 'Pending' },
        {},
        dead,
      )
      expect(r.status).toBe(502)
      expect(r.json.error.code).toBe('telerivet_outcome_unknown')
      const list = await call('GET', `/v1/projects/${projectB}/services`)
      const item = list.json.data.find((s: { name: string }) => s.name === 'Pending')
      expect(item.state).toBe('ok')
      expect(item.telerivet_service_id).toMatch(/^SV/)
      expect(list.json.unmanaged).toEqual([])
    })

    test('Telerivet refusing the connection: nothing pending, a 502 naming the cause', async () => {
      const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
      const port = closed.port
      closed.stop(true)
      const refused = makeApp({ telerivetApiUrl: `http://127.0.0.1:${port}/v1` })
      const epBefore = (await database.db.select().from(endpoints)).length
      const svcBefore = sim.sim.services(projectB).length
      const r = await call(
        'POST',
        `/v1/projects/${projectB}/services`,
        { name: 'Refused' },
        {},
        refused,
      )
      expect(r.status).toBe(502)
      expect(r.json.error.code).toBe('telerivet_unreachable')
      expect(r.json.error.message).toContain('nothing was created')
      expect(r.json.error.message).toContain(`127.0.0.1:${port}`)
      expect((await database.db.select().from(endpoints)).length).toBe(epBefore)
      expect(sim.sim.services(projectB).length).toBe(svcBefore)
    })

    test('unknown outcome and Telerivet never created it: pending, then removed by the list', async () => {
      // The request may have been sent (no connection error code), but it never reached Telerivet.
      const lost = makeApp({
        fetch: (async () => {
          throw new TypeError('connection reset')
        }) as unknown as typeof fetch,
      })
      const r = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Ghost' }, {}, lost)
      expect(r.status).toBe(502)
      expect(r.json.error.code).toBe('telerivet_outcome_unknown')
      expect(r.json.error.message).toContain(`GET /v1/projects/${projectB}/services`)
      const [ghost] = await database.db.select().from(endpoints).where(eq(endpoints.name, 'Ghost'))
      expect(ghost?.telerivetServiceId).toBeNull()
      // Young: Telerivet may still be creating it.
      const young = await call('GET', `/v1/projects/${projectB}/services`)
      expect(young.json.data.find((x: { id: string }) => x.id === ghost?.id)?.state).toBe('pending')
      const rotateYoung = await call(
        'POST',
        `/v1/projects/${projectB}/services/${ghost?.id}/rotate-secret`,
        {},
      )
      expect(rotateYoung.status).toBe(409)
      expect(rotateYoung.json.error.code).toBe('pending')
      // Old enough and still not on Telerivet: it was never created, and the list says so.
      await database.db
        .update(endpoints)
        .set({ createdAt: new Date(Date.now() - 3 * 60_000) })
        .where(eq(endpoints.id, ghost?.id ?? ''))
      const settled = await call('GET', `/v1/projects/${projectB}/services`)
      expect(settled.json.data.some((x: { id: string }) => x.id === ghost?.id)).toBe(false)
      expect(settled.json.removed_pending).toEqual([
        { id: ghost?.id, name: 'Ghost', created_at: expect.any(String) },
      ])
      expect(
        await database.db
          .select()
          .from(endpoints)
          .where(eq(endpoints.id, ghost?.id ?? '')),
      ).toEqual([])
    })

    test('rotate-secret on a pending service: settled first (adopted by name when Telerivet shows no URL), or a cause that helps', async () => {
      // Created on Telerivet, answer lost, and the look-up failed too.
      const dead = makeApp({
        fetch: (async (input: string | URL | Request, init?: RequestInit) => {
          const req = new Request(input, init)
          if (req.method === 'POST') await fetch(input, init)
          throw new TypeError('network down')
        }) as unknown as typeof fetch,
      })
      const r = await call('POST', `/v1/projects/${projectB}/services`, { name: 'Half' }, {}, dead)
      expect(r.json.error.code).toBe('telerivet_outcome_unknown')
      const [half] = await database.db.select().from(endpoints).where(eq(endpoints.name, 'Half'))
      const path = `/v1/projects/${projectB}/services/${half?.id}/rotate-secret`
      // Telerivet still unreachable: a 502 that says to try again, not to list.
      const down = await call('POST', path, {}, {}, dead)
      expect(down.status).toBe(502)
      expect(down.json.error.message).toContain('try again when it answers')
      // Telerivet lists its services without URLs: the one with this name is adopted.
      const noUrls = makeApp({
        fetch: (async (input: string | URL | Request, init?: RequestInit) => {
          const req = new Request(input, init)
          const res = await fetch(req)
          if (req.method !== 'GET' || !new URL(req.url).pathname.endsWith('/services')) return res
          const page = (await res.json()) as { data: Record<string, unknown>[] }
          for (const s of page.data) delete s.webhook_url
          return Response.json(page)
        }) as unknown as typeof fetch,
      })
      const rotated = await call('POST', path, {}, {}, noUrls)
      expect(rotated.status).toBe(200)
      const remote = sim.sim.services(projectB).find((x) => x.name === 'Half')
      expect(rotated.json.telerivet_service_id).toBe(remote?.id)
      const secret = sim.sim.serviceConfig(projectB, remote?.id ?? '').secret
      expect(await engine.authenticate(half?.id ?? '', String(secret))).not.toBeNull()
    })

    test('list shows drift beside Telerivet (inactive, url, missing) and unmanaged services', async () => {
      sim.sim.updateService(projectB, svcB.telerivet_service_id, { active: false })
      const l1 = await call('GET', `/v1/projects/${projectB}/services`)
      const b1 = l1.json.data.find((s: { id: string }) => s.id === svcB.id)
      expect(b1).toMatchObject({ state: 'drift', drift: ['active'] })
      expect(b1.telerivet).toMatchObject({ active: false, webhook_url: svcB.url })
      sim.sim.updateService(projectB, svcB.telerivet_service_id, { active: true })
      const foreign = sim.sim.createService(projectB, {
        service_type: 'incoming_message_webhook',
        config: { url: `${PUBLIC_URL}/hooks/unknown-endpoint` },
      })
      const l2 = await call('GET', `/v1/projects/${projectB}/services`)
      expect(l2.json.data.find((s: { id: string }) => s.id === svcB.id).state).toBe('ok')
      expect(l2.json.unmanaged).toEqual([
        { telerivet_service_id: foreign.id, webhook_url: `${PUBLIC_URL}/hooks/unknown-endpoint` },
      ])
      sim.sim.deleteService(projectB, foreign.id)
    })

    test('list with Telerivet unreachable: local state, state unknown, the error named', async () => {
      const down = makeApp({
        fetch: (async () => {
          throw new TypeError('connect ECONNREFUSED')
        }) as unknown as typeof fetch,
      })
      const r = await call('GET', `/v1/projects/${projectB}/services`, undefined, {}, down)
      expect(r.status).toBe(200)
      expect(r.json.telerivet_error).toContain('ECONNREFUSED')
      expect(r.json.data.length).toBeGreaterThan(0)
      expect(r.json.data.every((s: { state: string }) => s.state === 'unknown')).toBe(true)
    })

    test('a changed master key is a clear error and creates nothing', async () => {
      const other = await importMasterKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(1))))
      const wrong = makeApp({ masterKey: other })
      const epBefore = (await database.db.select().from(endpoints)).length
      const r = await call('POST', `/v1/projects/${projectB}/services`, {}, {}, wrong)
      expect(r.status).toBe(500)
      expect(r.json.error.code).toBe('master_key_mismatch')
      expect((await database.db.select().from(endpoints)).length).toBe(epBefore)
    })

    test('rotate-secret: Telerivet gets the new secret; the old one works during the grace period', async () => {
      const oldSecret = String(
        sim.sim.serviceConfig(sim.projectId, svcA.telerivet_service_id).secret,
      )
      const r = await call(
        'POST',
        `/v1/projects/${sim.projectId}/services/${svcA.id}/rotate-secret`,
        {},
      )
      expect(r.status).toBe(200)
      const expires = Date.parse(r.json.previous_secret_expires_at)
      expect(expires - Date.now()).toBeGreaterThan(9 * 60_000)
      expect(expires - Date.now()).toBeLessThanOrEqual(10 * 60_000)
      const newSecret = String(
        sim.sim.serviceConfig(sim.projectId, svcA.telerivet_service_id).secret,
      )
      expect(newSecret).not.toBe(oldSecret)
      expect(sim.sim.service(sim.projectId, svcA.telerivet_service_id).webhook_url).toBe(svcA.url)
      expect(await engine.authenticate(svcA.id, newSecret)).not.toBeNull()
      expect(await engine.authenticate(svcA.id, oldSecret)).not.toBeNull()
      // The simulator now delivers with the new secret.
      const out = await sim.incomingMessage({
        project_id: sim.projectId,
        from_number: '+15551110003',
        content: 'after rotation',
      })
      expect(out.deliveries.map((d) => d.http_status)).toEqual([200])
      // With no grace the previous secret is refused at once.
      const r2 = await call(
        'POST',
        `/v1/projects/${sim.projectId}/services/${svcA.telerivet_service_id}/rotate-secret`,
        { grace_seconds: 0 },
      )
      expect(r2.status).toBe(200)
      const newest = String(sim.sim.serviceConfig(sim.projectId, svcA.telerivet_service_id).secret)
      expect(await engine.authenticate(svcA.id, newSecret)).toBeNull()
      expect(await engine.authenticate(svcA.id, newest)).not.toBeNull()
    })

    test('rotate-secret refused by Telerivet keeps the current secret', async () => {
      const current = String(sim.sim.serviceConfig(sim.projectId, svcA.telerivet_service_id).secret)
      const failing = makeApp({
        fetch: (async () =>
          Response.json(
            { error: { code: 'invalid_param', message: 'no', param: 'secret' } },
            { status: 400 },
          )) as unknown as typeof fetch,
      })
      const r = await call(
        'POST',
        `/v1/projects/${sim.projectId}/services/${svcA.id}/rotate-secret`,
        {},
        {},
        failing,
      )
      expect(r.status).toBe(400)
      expect(await engine.authenticate(svcA.id, current)).not.toBeNull()
      const [ep] = await database.db.select().from(endpoints).where(eq(endpoints.id, svcA.id))
      expect(ep?.secretHash).toBe(await sha256Hex(current))
    })

    test('delete: gone on Telerivet, endpoint disabled and refusing deliveries', async () => {
      const secret = String(sim.sim.serviceConfig(projectB, svcB.telerivet_service_id).secret)
      const r = await call('DELETE', `/v1/projects/${projectB}/services/${svcB.id}`)
      expect(r.status).toBe(200)
      expect(r.json.disabled_at).toBeString()
      expect(sim.sim.services(projectB).some((s) => s.id === svcB.telerivet_service_id)).toBe(false)
      expect(await engine.authenticate(svcB.id, secret)).toBeNull()
      const l = await call('GET', `/v1/projects/${projectB}/services`)
      expect(l.json.data.some((s: { id: string }) => s.id === svcB.id)).toBe(false)
      expect((await call('DELETE', `/v1/projects/${projectB}/services/nope`)).status).toBe(404)
    })
  })

  describe('project webhook, events, messages, contacts', () => {
    let hook: { id: string; url: string; secret: string }

    test('project-webhook returns URL and secret once; asking again rotates with grace', async () => {
      const r = await call('POST', `/v1/projects/${sim.projectId}/project-webhook`)
      expect(r.status).toBe(201)
      hook = r.json
      expect(hook.url).toBe(`${PUBLIC_URL}/hooks/${hook.id}`)
      expect(await engine.authenticate(hook.id, hook.secret)).toMatchObject({ kind: 'project' })
      const again = await call('POST', `/v1/projects/${sim.projectId}/project-webhook`)
      expect(again.status).toBe(200)
      expect(again.json.id).toBe(hook.id)
      expect(again.json.secret).not.toBe(hook.secret)
      expect(await engine.authenticate(hook.id, hook.secret)).not.toBeNull()
      hook = again.json
      sim.sim.setProjectWebhook(sim.projectId, { url: hook.url, secret: hook.secret })
    })

    test('messages/:id has the status history; contacts/:id the contact', async () => {
      const sent = await sim.sim.sendMessage(sim.projectId, {
        to_number: '+15005550012',
        content: 'hi',
      })
      await sim.advance(5_000)
      const m = await call('GET', `/v1/messages/${sent.id}`)
      expect(m.status).toBe(200)
      expect(m.json.status).toBe('delivered')
      expect(m.json.status_history.map((h: { status: string }) => h.status)).toEqual([
        'sent',
        'delivered',
      ])
      expect(m.json.project_id).toBe(sim.projectId)
      const contact = sim.sim.contacts(sim.projectId).find((x) => x.phone_number === '+15551110001')
      const c = await call('GET', `/v1/contacts/${contact?.id}`)
      expect(c.status).toBe(200)
      expect(c.json.phone_number).toBe(contact?.phone_number)
      expect((await call('GET', '/v1/messages/SMnope')).status).toBe(404)
      expect((await call('GET', '/v1/contacts/CTnope')).status).toBe(404)
    })

    test('events: filters and cursor paging visit every event once', async () => {
      const all = await database.db.select({ id: events.id }).from(events)
      expect(all.length).toBeGreaterThanOrEqual(5)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const q: string = `/v1/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`
        const r = await call('GET', q)
        expect({ status: r.status, body: r.json }).toMatchObject({ status: 200 })
        expect(r.json.data.length).toBeLessThanOrEqual(2)
        seen.push(...r.json.data.map((e: { id: string }) => e.id))
        cursor = r.json.next_cursor
        pages++
      } while (cursor && pages < 50)
      expect(seen.length).toBe(all.length)
      expect(new Set(seen).size).toBe(all.length)
      const byProject = await call('GET', `/v1/events?project_id=${projectB}`)
      expect(
        byProject.json.data.every((e: { project_id: string }) => e.project_id === projectB),
      ).toBe(true)
      expect(byProject.json.data.length).toBeGreaterThan(0)
      const statuses = await call('GET', '/v1/events?event=send_status&valid=true')
      expect(statuses.json.data.length).toBe(2)
      expect(statuses.json.data[0]).toMatchObject({
        event: 'send_status',
        endpoint_id: hook.id,
        valid: true,
      })
      const future = await call(
        'GET',
        `/v1/events?since=${new Date(Date.now() + 60_000).toISOString()}`,
      )
      expect(future.json.data).toEqual([])
      expect((await call('GET', '/v1/events?since=yesterday')).status).toBe(400)
      expect((await call('GET', '/v1/events?cursor=garbage')).status).toBe(400)
    })

    test('events/:id and replay', async () => {
      const [e] = await database.db
        .select()
        .from(events)
        .where(eq(events.event, 'incoming_message'))
        .limit(1)
      const r = await call('GET', `/v1/events/${e?.id}`)
      expect(r.status).toBe(200)
      expect(r.json).toMatchObject({ id: e?.id, event: 'incoming_message', valid: true })
      expect(r.json.payload).toBeObject()
      expect(r.json.payload.secret).toBeUndefined()
      expect(Date.parse(r.json.received_at)).not.toBeNaN()
      const rep = await call('POST', `/v1/events/${e?.id}/replay`)
      expect(rep.status).toBe(200)
      expect(rep.json).toMatchObject({ event_id: e?.id, jobs: 1 })
      const queued = await database.db
        .select()
        .from(jobs)
        .where(eq(jobs.eventId, e?.id ?? ''))
      expect(queued.map((j) => j.handler)).toEqual(['incoming_message'])
      expect(
        (await call('POST', '/v1/events/00000000-0000-0000-0000-000000000000/replay')).status,
      ).toBe(404)
      expect((await call('GET', '/v1/events/not-a-uuid')).status).toBe(400)
    })

    test('deleting a project deletes its services on Telerivet and disables its endpoints', async () => {
      const remaining = sim.sim.services(projectB).length
      expect(remaining).toBeGreaterThan(0)
      const r = await call('DELETE', `/v1/projects/${projectB}`)
      expect(r.status).toBe(200)
      expect(r.json.services_deleted).toBe(remaining)
      expect(sim.sim.services(projectB).length).toBe(0)
      const eps = await database.db
        .select()
        .from(endpoints)
        .where(eq(endpoints.projectId, projectB))
      expect(eps).toEqual([])
      expect((await call('GET', `/v1/projects/${projectB}`)).status).toBe(404)
    })
  })

  describe('input rules, monitoring, tokens', () => {
    const forged = (v: unknown) =>
      btoa(JSON.stringify(v)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')

    test('limit is an integer from 1 to 500; anything else is a 400 that says so', async () => {
      for (const limit of ['0', '501', '5000', 'abc', '5.5', '', '1e2', '0x10', '-1', '+5']) {
        const r = await call('GET', `/v1/events?limit=${encodeURIComponent(limit)}`)
        expect({ limit, status: r.status, param: r.json.error.param }).toEqual({
          limit,
          status: 400,
          param: 'limit',
        })
        expect(r.json.error.message).toBe('Invalid query: limit must be an integer from 1 to 500')
      }
      for (const limit of ['1', '50', '500']) {
        expect((await call('GET', `/v1/events?limit=${limit}`)).status).toBe(200)
      }
    })

    test('a forged cursor or a NUL in an id is a 400; the log holds no SQL and no parameters', async () => {
      const from = logLines.length
      const uuid = '00000000-0000-4000-8000-000000000000'
      for (const cursor of [
        forged(['x', 'y']),
        forged(['2026-11-30 08:00:00+00', 'not-a-uuid']),
        forged(['2026-13-45 99:00:00+00', uuid]),
        forged(['2026-11-30 08:00:00+00', uuid, 'extra']),
        forged({ at: 1 }),
        '%00',
      ]) {
        const r = await call('GET', `/v1/events?cursor=${cursor}`)
        expect({ cursor, status: r.status }).toEqual({ cursor, status: 400 })
      }
      const good = await call(
        'GET',
        `/v1/events?cursor=${forged(['2026-11-30 08:00:00.123456+00', uuid])}`,
      )
      expect(good.status).toBe(200)
      for (const path of [
        '/v1/messages/%00',
        '/v1/messages/SM%00x',
        '/v1/contacts/%00',
        '/v1/projects/%00',
        `/v1/projects/${sim.projectId}/services/%00`,
        '/v1/tokens/%00',
        '/v1/events?project_id=%00',
        '/v1/events?event=a%00b',
      ]) {
        const r = await call(/tokens|services/.test(path) ? 'DELETE' : 'GET', path)
        expect({ path, status: r.status }).toEqual({ path, status: 400 })
        expect(r.json.error.code).toBe('invalid_request')
      }
      const body = await call('POST', '/v1/projects', {
        project_id: sim.projectId,
        api_key: KEY_A,
        name: 'a\u0000b',
      })
      expect(body.status).toBe(400)
      const logged = logLines.slice(from)
      expect(logged.some((l) => l.includes('"level":"error"'))).toBe(false)
      for (const line of logged) {
        expect(line).not.toContain('Failed query')
        expect(line).not.toContain('params')
        expect(line).not.toContain('\\u0000')
      }
    })

    test('/healthz answers without a token; /metrics needs one and serves the given source', async () => {
      const health = await app.handle(new Request('http://admin.local/healthz'))
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok', driver })
      const anonymous = await app.handle(new Request('http://admin.local/metrics'))
      expect(anonymous.status).toBe(401)
      expect((await call('GET', '/metrics')).status).toBe(404)
      const withMetrics = makeApp({ metrics: async () => 'telehook_test_total 3\n' })
      expect((await withMetrics.handle(new Request('http://admin.local/metrics'))).status).toBe(401)
      const m = await call('GET', '/metrics', undefined, {}, withMetrics)
      expect(m.status).toBe(200)
      expect(m.headers.get('content-type')).toContain('text/plain')
      expect(m.text).toBe('telehook_test_total 3\n')
    })

    test('tokens: listed without their hash; a revoked token is refused; unknown id 404', async () => {
      const { id, token } = await createAdminToken(database, 'to revoke')
      const list = await call('GET', '/v1/tokens')
      expect(list.status).toBe(200)
      const entry = list.json.data.find((t: { id: string }) => t.id === id)
      expect(entry).toEqual({
        id,
        name: 'to revoke',
        created_at: expect.any(String),
        last_used_at: null,
      })
      expect(list.text).not.toContain(await sha256Hex(token))
      const asIt = () =>
        app.handle(
          new Request('http://admin.local/v1/projects', {
            headers: { authorization: `Bearer ${token}` },
          }),
        )
      expect((await asIt()).status).toBe(200)
      const r = await call('DELETE', `/v1/tokens/${id}`)
      expect(r.json).toEqual({ id, revoked: true })
      expect((await asIt()).status).toBe(401)
      expect((await call('DELETE', `/v1/tokens/${id}`)).status).toBe(404)
    })
  })

  test('the API keys never appear in any response or log line', () => {
    expect(logLines.length).toBeGreaterThan(5)
    const requests = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'admin request')
    expect(requests.some((l) => l.status === 201 && l.path === '/v1/projects')).toBe(true)
    expect(requests.some((l) => l.status === 401)).toBe(true)
    for (const text of [...logLines, ...bodies]) {
      expect(text).not.toContain(KEY_A)
      expect(text).not.toContain(KEY_B)
    }
  })
})
