/**
 * The whole local loop on real sockets: the simulator plays Telerivet, the webhook app stores and
 * answers, the database mirrors. A service is created through the REST client against the
 * simulator (as the admin app does against Telerivet); the example conversation runs over three
 * messages through the simulator's chat command; on both database drivers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEndpoint, createEngine } from '@telehook/engine'
import { type RunningSimulator, startSimulator } from '@telehook/simulator'
import { runSimCli } from '@telehook/simulator/cli'
import { createTelerivetClient } from '@telehook/telerivet-api'
import {
  createWebhookApp,
  DEFAULT_BODY_LIMIT,
  exampleHandlers,
  type RunningServer,
  startWebhookServer,
} from '@telehook/webhook'
import { sql } from 'drizzle-orm'

const SERVICE_SECRET = 'e2e-service-secret-4hQ9xLm2'
const PROJECT_SECRET = 'e2e-project-secret-Vb7Tn3Kp'
const USER = '+16505550142'
/** The webhook's delivery log lines would drown the test output. */
const quiet = { info() {}, warn() {}, error() {} }

for (const driver of TEST_DRIVERS) {
  describe(`simulator -> webhook app -> ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let server: RunningServer
    let sim: RunningSimulator
    let webhookBase: string

    beforeAll(async () => {
      database = await openTestDb(driver)
      const engine = createEngine({ database, handlers: exampleHandlers, logger: quiet })
      server = startWebhookServer(createWebhookApp({ engine, database, logger: quiet }), {
        port: 0,
        hostname: '127.0.0.1',
        bodyLimit: DEFAULT_BODY_LIMIT,
      })
      webhookBase = `http://127.0.0.1:${server.port}`
      // The webhook listens on a random port, which real Telerivet would refuse: lift the check.
      sim = await startSimulator({ manualClock: true, allowedPorts: 'any', projectName: 'E2E' })
    })

    afterAll(async () => {
      await sim?.close()
      await server?.stop()
      await database?.drop()
    })

    test('the example conversation over three chat messages names the contact in both places', async () => {
      const serviceEndpoint = await createEndpoint(database, {
        kind: 'service',
        secret: SERVICE_SECRET,
      })
      const projectEndpoint = await createEndpoint(database, {
        kind: 'project',
        secret: PROJECT_SECRET,
      })
      const client = createTelerivetClient({ apiKey: sim.apiKey, baseUrl: sim.apiUrl, retries: 0 })
      const project = await client.getProject(sim.projectId)
      expect(project.id).toBe(sim.projectId)
      const service = await client.createService(sim.projectId, {
        service_type: 'incoming_message_webhook',
        name: 'Telehook',
        config: { url: `${webhookBase}/hooks/${serviceEndpoint.id}`, secret: SERVICE_SECRET },
      })
      // status notifications of the bot's replies go to the project endpoint
      sim.sim.setProjectWebhook(sim.projectId, {
        url: `${webhookBase}/hooks/${projectEndpoint.id}`,
        secret: PROJECT_SECRET,
      })

      const out: string[] = []
      const err: string[] = []
      const code = await runSimCli(['chat', '--sim', sim.url, '--from', USER], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        lines: (async function* () {
          yield 'Hello'
          yield '  Ada   Lovelace '
          yield 'Hi again'
        })(),
      })
      expect(err).toEqual([])
      expect(code).toBe(0)
      expect(out.filter((l) => l.startsWith('bot'))).toEqual([
        "bot> Hi! What's your name?",
        'bot> Thanks, Ada Lovelace! Nice to meet you.',
        'bot> Welcome back, Ada Lovelace!',
      ])

      // the simulator's contact and its state in the service
      const contact = sim.sim.contactByNumber(sim.projectId, USER)
      expect(contact?.name).toBe('Ada Lovelace')
      expect(sim.sim.serviceState(contact?.id ?? '', service.id)?.id).toBe('named')
      const incoming = sim.deliveries({ event: 'incoming_message' })
      expect(incoming.map((d) => [d.status, d.attempts.map((a) => a.http_status)])).toEqual([
        ['delivered', [200]],
        ['delivered', [200]],
        ['delivered', [200]],
      ])

      // the webhook's mirror, from the third message's contact[...] parameters
      const mirrored = await queryRows<{ id: string; name: string | null; phone_number: string }>(
        database.db,
        sql`select id, name, phone_number from telehook.contacts where phone_number = ${USER}`,
      )
      expect(mirrored).toEqual([
        { id: contact?.id ?? '', name: 'Ada Lovelace', phone_number: USER },
      ])
      const events = await queryRows<{ event: string; valid: boolean; reply: unknown }>(
        database.db,
        sql`select event, valid, reply from telehook.events
            where endpoint_id = ${serviceEndpoint.id} order by received_at`,
      )
      expect(events.map((e) => [e.event, e.valid])).toEqual([
        ['incoming_message', true],
        ['incoming_message', true],
        ['incoming_message', true],
      ])
      expect(events[1]?.reply).toMatchObject({
        variables: { 'contact.name': 'Ada Lovelace', 'state.id': 'named' },
      })

      // the replies' statuses reach the project endpoint and the messages mirror
      await sim.advance(60_000)
      const statuses = sim.deliveries({ event: 'send_status' })
      expect(statuses.length).toBe(6) // queued + sent for each of the three replies
      expect(statuses.every((d) => d.status === 'delivered')).toBe(true)
      const sent = await queryRows<{ content: string; status: string; direction: string }>(
        database.db,
        sql`select content, status, direction from telehook.messages
            where direction = 'outgoing' order by content`,
      )
      expect(sent.map((m) => [m.content, m.status])).toEqual([
        ["Hi! What's your name?", 'sent'],
        ['Thanks, Ada Lovelace! Nice to meet you.', 'sent'],
        ['Welcome back, Ada Lovelace!', 'sent'],
      ])
    })

    test('a wrong secret is refused (403) and retried by the simulator, then given up', async () => {
      const endpoint = await createEndpoint(database, {
        kind: 'service',
        secret: 'right-secret-1234567',
      })
      const other = sim.sim.createProject({ name: 'Wrong secret' })
      sim.sim.createService(other.project.id, {
        service_type: 'incoming_message_webhook',
        config: { url: `${webhookBase}/hooks/${endpoint.id}`, secret: 'wrong-secret-7654321' },
      })
      const outcome = await sim.incomingMessage({
        project_id: other.project.id,
        from_number: USER,
        content: 'hello?',
      })
      expect(outcome.deliveries[0]).toMatchObject({ http_status: 403, ok: false })
      await sim.advance(25 * 3_600_000)
      const [d] = sim.deliveries().filter((x) => x.project_id === other.project.id)
      expect(d?.status).toBe('failed')
      expect(d?.attempts.every((a) => a.http_status === 403)).toBe(true)
      const stored = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from telehook.events where endpoint_id = ${endpoint.id}`,
      )
      expect(stored[0]?.n).toBe(0)
    })
  })
}
