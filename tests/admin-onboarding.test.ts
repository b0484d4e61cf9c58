/**
 * Onboarding across apps on real sockets: the admin API onboards two Telerivet projects on the
 * simulator and creates one webhook service each; the simulator then delivers incoming messages to
 * each service's URL with its own secret, through the webhook app, into the right project.
 * The public URL is http://127.0.0.1:8000 (a port Telerivet accepts); the simulator's fetch sends
 * what it addresses there to the webhook app's real port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createAdminApp, importMasterKey } from '@telehook/admin'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, createJsonLogger } from '@telehook/engine'
import { encodeForm } from '@telehook/protocol'
import { type RunningSimulator, startSimulator } from '@telehook/simulator'
import {
  createWebhookApp,
  DEFAULT_BODY_LIMIT,
  type RunningServer,
  startWebhookServer,
} from '@telehook/webhook'

const PUBLIC_URL = 'http://127.0.0.1:8000'
const ADMIN_TOKEN = 'onboarding-admin-token-9f8e7d6c'
const KEY_A = 'onboarding_key_A_never_shown_0001'
const KEY_B = 'onboarding_key_B_never_shown_0002'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))

interface Svc {
  id: string
  url: string
  telerivet_service_id: string
}

for (const driver of TEST_DRIVERS) {
  describe(`admin onboarding -> simulator -> webhook app (${driver})`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let webhook: RunningServer
    let admin: ReturnType<typeof Bun.serve>
    let sim: RunningSimulator
    let webhookBase = ''
    let adminBase = ''
    let projectB = ''
    const logs: string[] = []
    const answers: string[] = []
    const svc: Record<string, Svc> = {}

    async function api(method: string, path: string, body?: unknown) {
      const res = await fetch(`${adminBase}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      answers.push(text)
      return { status: res.status, json: JSON.parse(text) }
    }

    beforeAll(async () => {
      database = await openTestDb(driver)
      const logger = createJsonLogger((l) => logs.push(l))
      // One engine for both apps, so the admin's invalidations reach the webhook's endpoint cache.
      const engine = createEngine({ database, logger })
      webhook = startWebhookServer(createWebhookApp({ engine, database, logger }), {
        port: 0,
        hostname: '127.0.0.1',
        bodyLimit: DEFAULT_BODY_LIMIT,
      })
      webhookBase = `http://127.0.0.1:${webhook.port}`
      sim = await startSimulator({
        manualClock: true,
        apiKey: KEY_A,
        projectName: 'Alpha',
        // Telerivet's port rule stays on; only the socket behind the public URL is rewritten.
        fetch: ((input: string | URL | Request, init?: RequestInit) => {
          const url = String(input instanceof Request ? input.url : input)
          return fetch(
            url.startsWith(PUBLIC_URL) ? webhookBase + url.slice(PUBLIC_URL.length) : url,
            init,
          )
        }) as unknown as typeof fetch,
      })
      projectB = sim.sim.createProject({ name: 'Beta', apiKey: KEY_B }).project.id
      const app = createAdminApp({
        database,
        engine,
        publicUrl: PUBLIC_URL,
        telerivetApiUrl: sim.apiUrl,
        adminToken: ADMIN_TOKEN,
        masterKey: await importMasterKey(MASTER),
        logger,
      })
      admin = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
      adminBase = `http://127.0.0.1:${admin.port}`
    }, 60_000)

    afterAll(async () => {
      await sim?.close()
      await admin?.stop(true)
      await webhook?.stop()
      await database?.drop()
    })

    test('two projects onboarded with one service each', async () => {
      expect((await fetch(`${adminBase}/v1/projects`)).status).toBe(401)
      for (const [id, key] of [
        [sim.projectId, KEY_A],
        [projectB, KEY_B],
      ] as const) {
        expect((await api('POST', '/v1/projects', { project_id: id, api_key: key })).status).toBe(
          201,
        )
        const s = await api('POST', `/v1/projects/${id}/services`, { name: `Inbox ${id}` })
        expect(s.status).toBe(201)
        svc[id] = s.json
        expect(s.json.url).toStartWith(`${PUBLIC_URL}/hooks/`)
        expect(sim.sim.service(id, s.json.telerivet_service_id).webhook_url).toBe(s.json.url)
      }
      expect(svc[sim.projectId]?.id).not.toBe(svc[projectB]?.id)
    })

    test('the simulator delivers to each URL with its own secret; both land under the right project', async () => {
      const a = await sim.incomingMessage({
        project_id: sim.projectId,
        from_number: '+15550001111',
        content: 'to A',
      })
      const b = await sim.incomingMessage({
        project_id: projectB,
        from_number: '+15550002222',
        content: 'to B',
      })
      expect(a.deliveries.map((d) => d.http_status)).toEqual([200])
      expect(b.deliveries.map((d) => d.http_status)).toEqual([200])
      for (const [project, out] of [
        [sim.projectId, a],
        [projectB, b],
      ] as const) {
        const list = await api('GET', `/v1/events?project_id=${project}&event=incoming_message`)
        expect(list.json.data.map((e: { telerivet_id: string }) => e.telerivet_id)).toEqual([
          out.message.id,
        ])
        expect(list.json.data[0].endpoint_id).toBe(svc[project]?.id)
        const m = await api('GET', `/v1/messages/${out.message.id}`)
        expect(m.json).toMatchObject({ project_id: project, content: out.message.content })
      }
    })

    test("a secret of project A is refused on project B's endpoint", async () => {
      const secretA = String(
        sim.sim.serviceConfig(sim.projectId, svc[sim.projectId]?.telerivet_service_id ?? '').secret,
      )
      const form = encodeForm({
        event: 'incoming_message',
        id: 'SMforged0001',
        secret: secretA,
        content: 'forged',
        from_number: '+15550009999',
        to_number: '+16505550100',
        direction: 'incoming',
        message_type: 'sms',
        project_id: projectB,
      })
      const res = await fetch(`${webhookBase}/hooks/${svc[projectB]?.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      })
      expect(res.status).toBe(403)
      const list = await api('GET', `/v1/events?project_id=${projectB}`)
      expect(
        list.json.data.some((e: { telerivet_id: string }) => e.telerivet_id === 'SMforged0001'),
      ).toBe(false)
    })

    test('rotation: new deliveries use the new secret; the old one is still accepted during grace', async () => {
      const s = svc[sim.projectId] as Svc
      const old = String(sim.sim.serviceConfig(sim.projectId, s.telerivet_service_id).secret)
      const r = await api('POST', `/v1/projects/${sim.projectId}/services/${s.id}/rotate-secret`)
      expect(r.status).toBe(200)
      const fresh = String(sim.sim.serviceConfig(sim.projectId, s.telerivet_service_id).secret)
      expect(fresh).not.toBe(old)
      const out = await sim.incomingMessage({
        project_id: sim.projectId,
        from_number: '+15550001111',
        content: 'after',
      })
      expect(out.deliveries.map((d) => d.http_status)).toEqual([200])
      // A delivery that left Telerivet before the rotation still authenticates.
      const late = await fetch(`${webhookBase}/hooks/${s.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: encodeForm({
          event: 'incoming_message',
          id: 'SMinflight001',
          secret: old,
          content: 'in flight',
          from_number: '+15550001111',
          to_number: '+16505550100',
          direction: 'incoming',
          message_type: 'sms',
          project_id: sim.projectId,
        }),
      })
      expect(late.status).toBe(200)
    })

    test('neither API key appears in any admin answer or any log line', () => {
      expect(logs.length).toBeGreaterThan(4)
      for (const line of [...logs, ...answers]) {
        expect(line).not.toContain(KEY_A)
        expect(line).not.toContain(KEY_B)
      }
    })
  })
}
