/// <reference lib="deno.ns" />
/**
 * @module Deno end to end: the webhook app on `Deno.serve` and the forwarding worker in the Deno
 * process, on PGlite and on PostgreSQL; and the Deno entry (`apps/cli/deno/serve.ts`) with the
 * webhook and worker roles. A destination is created, a webhook posted, the event read back, and
 * the forwarded delivery arrives, which standardwebhooks' verifier accepts. (The admin API under
 * Deno is `admin.deno.ts`.)
 */
import { events } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, createWorker, ensureSingleEndpoint, silentLogger } from '@telehook/engine'
import { createDestination, createForwarder } from '@telehook/engine/forward'
import { createWebhookApp } from '@telehook/webhook'
import { eq } from 'drizzle-orm'
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
const SECRET = 'deno-forward-secret'

const importKey = () =>
  crypto.subtle.importKey(
    'raw',
    Uint8Array.from(atob(MASTER), (c) => c.charCodeAt(0)),
    'AES-GCM',
    false,
    ['encrypt', 'decrypt'],
  )

for (const driver of TEST_DRIVERS) {
  Deno.test({
    name: `webhook app and forwarding under Deno on ${driver}: destination, webhook, read back, delivery`,
    // postgres.js and PGlite keep timers between queries; the test closes them itself.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const database = await openTestDb(driver)
      const ac = new AbortController()
      const masterKey = await importKey()
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
        forwarder.start()
        worker.start()
        const { secret } = await createDestination(database, masterKey, {
          endpointId: 'default',
          url: destination.url,
        })

        await postIncoming(`http://127.0.0.1:${webhook.addr.port}/webhook`, {
          id: `SMdenoforward${driver}`,
          content: 'Hello from Deno',
          from_number: '+16505550123',
          to_number: '+16505550001',
          time_created: '1700000000',
          secret: SECRET,
        })

        const [event] = await database.db
          .select({ id: events.id })
          .from(events)
          .where(eq(events.telerivetId, `SMdenoforward${driver}`))
        if (!event) throw new Error('event not stored')

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
  name: 'apps/cli/deno/serve.ts with TELEHOOK_ROLE=webhook,worker on PostgreSQL: stored and forwarded',
  ignore: !TEST_DRIVERS.includes('postgres'),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { openDb } = await import('@telehook/db')
    const scratch = await scratchDatabase()
    const port = freePort()
    const ac = new AbortController()
    const destination = startDestination(ac.signal)
    const child = spawnEntry({
      DATABASE_URL: scratch.url.toString(),
      PORT: String(port),
      HOST: '127.0.0.1',
      TELEHOOK_ROLE: 'webhook,worker',
      TELEHOOK_SECRET: SECRET,
      TELEHOOK_MASTER_KEY: MASTER,
    })
    try {
      const base = `http://127.0.0.1:${port}`
      const deadline = Date.now() + 90_000
      await waitFor200(`${base}/healthz`, {}, deadline)
      const database = await openDb({ databaseUrl: scratch.url.toString(), migrate: false })
      const { secret } = await createDestination(database, await importKey(), {
        endpointId: 'default',
        url: destination.url,
      })
      await postIncoming(`${base}/webhook`, {
        id: 'SMdenoentry0001',
        content: 'Hello from the Deno entry',
        secret: SECRET,
      })
      const [event] = await database.db
        .select({ id: events.id })
        .from(events)
        .where(eq(events.telerivetId, 'SMdenoentry0001'))
      await database.close()
      if (!event) throw new Error('event not stored')
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
