/// <reference lib="deno.ns" />
/**
 * @module Deno end to end with the admin API: the webhook app, the admin API and the forwarding
 * worker under Deno (in process on PGlite and PostgreSQL, and the Deno entry with all three roles):
 * create a destination through the admin API, post a webhook, read the event back through the
 * admin API, and receive the forwarded delivery, which standardwebhooks' verifier accepts.
 * (The docs viewer's script is loaded on Bun only, apps/admin/src/scalar-bun.ts; on Deno
 * `/docs/json` works and `/docs/scalar.js` answers 501.)
 */
import { createAdminApp, importMasterKey } from '@telehook/admin'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, createWorker, ensureSingleEndpoint, silentLogger } from '@telehook/engine'
import { createForwarder } from '@telehook/engine/forward'
import { createWebhookApp } from '@telehook/webhook'
import {
  assertEquals,
  firstDelivery,
  freePort,
  killEntry,
  postIncoming,
  scratchDatabase,
  spawnEntry,
  startDestination,
  stopEntry,
  waitFor200,
} from './forwarding-helpers.ts'

const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const ADMIN_TOKEN = 'deno-admin-token-0123456789'
const SECRET = 'deno-forward-secret'
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** Creates a destination for the single-project endpoint through the admin API; its secret. */
async function createDestinationVia(adminBase: string, url: string): Promise<string> {
  const created = await fetch(`${adminBase}/v1/destinations`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint_id: 'default', url }),
  })
  assertEquals(created.status, 201, 'destination created')
  return ((await created.json()) as { secret: string }).secret
}

/** The stored event of a Telerivet id, read back through the admin API. */
async function listedEvent(adminBase: string, telerivetId: string): Promise<{ id: string }> {
  const listed = await fetch(`${adminBase}/v1/events?limit=5`, { headers: auth })
  assertEquals(listed.status, 200, 'events listed')
  const page = (await listed.json()) as { data: { id: string; telerivet_id: string }[] }
  const event = page.data.find((e) => e.telerivet_id === telerivetId)
  if (!event) throw new Error(`event not listed: ${JSON.stringify(page)}`)
  return event
}

for (const driver of TEST_DRIVERS) {
  Deno.test({
    name: `admin API and forwarding under Deno on ${driver}: destination, webhook, read back, delivery`,
    // postgres.js and PGlite keep timers between queries; the test closes them itself.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const database = await openTestDb(driver)
      const ac = new AbortController()
      const masterKey = await importMasterKey(MASTER)
      const forwarder = createForwarder({ database, masterKey, logger: silentLogger })
      const worker = createWorker({ database, logger: silentLogger })
      try {
        const destination = startDestination(ac.signal)
        await ensureSingleEndpoint(database, SECRET)
        const engine = createEngine({ database, logger: silentLogger })
        const webhook = Deno.serve(
          { port: 0, hostname: '127.0.0.1', signal: ac.signal, onListen() {} },
          createWebhookApp({ engine, database, singleProject: true, logger: silentLogger }).fetch,
        )
        const admin = Deno.serve(
          { port: 0, hostname: '127.0.0.1', signal: ac.signal, onListen() {} },
          createAdminApp({
            database,
            engine,
            publicUrl: undefined,
            adminToken: ADMIN_TOKEN,
            masterKey,
            logger: silentLogger,
          }).fetch,
        )
        forwarder.start()
        worker.start()
        const adminBase = `http://127.0.0.1:${admin.addr.port}`
        const secret = await createDestinationVia(adminBase, destination.url)

        await postIncoming(`http://127.0.0.1:${webhook.addr.port}/webhook`, {
          id: `SMdenoforward${driver}`,
          content: 'Hello from Deno',
          from_number: '+16505550123',
          to_number: '+16505550001',
          time_created: '1700000000',
          secret: SECRET,
        })
        const event = await listedEvent(adminBase, `SMdenoforward${driver}`)

        const body = await firstDelivery(destination, event.id, secret)
        assertEquals(
          [body.event, body.content, body.time_created, body.event_id],
          ['incoming_message', 'Hello from Deno', 1700000000, event.id],
          'forwarded body',
        )
      } finally {
        await forwarder.stop()
        await worker.stop()
        ac.abort()
        await database.drop()
      }
    },
  })
}

Deno.test({
  name: 'apps/cli/deno/serve.ts with TELEHOOK_ROLE=webhook,admin,worker on PostgreSQL: one command',
  ignore: !TEST_DRIVERS.includes('postgres'),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const scratch = await scratchDatabase()
    const [port, adminPort] = [freePort(), freePort()]
    const ac = new AbortController()
    const destination = startDestination(ac.signal)
    const child = spawnEntry({
      DATABASE_URL: scratch.url.toString(),
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      TELEHOOK_ROLE: 'webhook,admin,worker',
      TELEHOOK_SECRET: SECRET,
      TELEHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
      TELEHOOK_MASTER_KEY: MASTER,
    })
    try {
      const base = `http://127.0.0.1:${port}`
      const adminBase = `http://127.0.0.1:${adminPort}`
      const deadline = Date.now() + 90_000
      await waitFor200(`${adminBase}/v1/destinations`, auth, deadline)
      const secret = await createDestinationVia(adminBase, destination.url)
      await postIncoming(`${base}/webhook`, {
        id: 'SMdenoentry0001',
        content: 'Hello from the Deno entry',
        secret: SECRET,
      })
      const event = await listedEvent(adminBase, 'SMdenoentry0001')
      const body = await firstDelivery(destination, event.id, secret, deadline - Date.now())
      assertEquals(body.content, 'Hello from the Deno entry', 'forwarded body')
      await stopEntry(child)
    } finally {
      killEntry(child)
      ac.abort()
      await scratch.drop()
    }
  },
})
