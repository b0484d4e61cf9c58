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
import { Webhook } from 'standardwebhooks'

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const ADMIN_TOKEN = 'deno-admin-token-0123456789'
const SECRET = 'deno-forward-secret'

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
        const received: { headers: Record<string, string>; body: string }[] = []
        let arrived: () => void = () => {}
        const delivered = new Promise<void>((r) => {
          arrived = r
        })
        const destination = Deno.serve(
          { port: 0, hostname: '127.0.0.1', signal: ac.signal, onListen() {} },
          async (req) => {
            received.push({ headers: Object.fromEntries(req.headers), body: await req.text() })
            arrived()
            return new Response('ok')
          },
        )
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
        const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

        const created = await fetch(`${adminBase}/v1/destinations`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            endpoint_id: 'default',
            url: `http://127.0.0.1:${destination.addr.port}/hook`,
          }),
        })
        assertEquals(created.status, 201, 'destination created')
        const { secret } = (await created.json()) as { secret: string }

        const posted = await fetch(`http://127.0.0.1:${webhook.addr.port}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            event: 'incoming_message',
            id: `SMdenoforward${driver}`,
            content: 'Hello from Deno',
            from_number: '+16505550123',
            to_number: '+16505550001',
            time_created: '1700000000',
            secret: SECRET,
          }).toString(),
        })
        assertEquals(posted.status, 200, 'webhook stored')
        await posted.body?.cancel()

        const listed = await fetch(`${adminBase}/v1/events?limit=5`, { headers: auth })
        assertEquals(listed.status, 200, 'events listed')
        const page = (await listed.json()) as { data: { id: string; telerivet_id: string }[] }
        const event = page.data.find((e) => e.telerivet_id === `SMdenoforward${driver}`)
        if (!event) throw new Error(`event not listed: ${JSON.stringify(page)}`)

        const timeout = setTimeout(() => arrived(), 30_000)
        await delivered
        clearTimeout(timeout)
        assertEquals(received.length, 1, 'one delivery')
        const got = received[0] as { headers: Record<string, string>; body: string }
        assertEquals(got.headers['webhook-id'], event.id, 'webhook-id is the event id')
        const body = new Webhook(secret).verify(got.body, got.headers) as Record<string, unknown>
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
    const { openDb } = await import('@telehook/db')
    const { TEST_DATABASE_URL } = await import('@telehook/db/testing')
    const { sql } = await import('drizzle-orm')
    const name = `telehook_test_deno_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const pg = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false })
    await pg.db.execute(sql.raw(`create database ${name}`))
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${name}`
    const free = () => {
      const l = Deno.listen({ hostname: '127.0.0.1', port: 0 })
      const p = (l.addr as Deno.NetAddr).port
      l.close()
      return p
    }
    const [port, adminPort] = [free(), free()]
    const ac = new AbortController()
    const received: { headers: Record<string, string>; body: string }[] = []
    const destination = Deno.serve(
      { port: 0, hostname: '127.0.0.1', signal: ac.signal, onListen() {} },
      async (req) => {
        received.push({ headers: Object.fromEntries(req.headers), body: await req.text() })
        return new Response('ok')
      },
    )
    const entry = new URL('../../apps/cli/deno/serve.ts', import.meta.url).pathname
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        'run',
        '--no-check',
        '--allow-net',
        '--allow-env',
        '--allow-read',
        '--allow-sys',
        entry,
      ],
      env: {
        DATABASE_URL: url.toString(),
        PORT: String(port),
        HOST: '127.0.0.1',
        ADMIN_PORT: String(adminPort),
        TELEHOOK_ROLE: 'webhook,admin,worker',
        TELEHOOK_SECRET: SECRET,
        TELEHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
        TELEHOOK_MASTER_KEY: MASTER,
      },
      stdout: 'null',
      stderr: 'null',
    }).spawn()
    try {
      const base = `http://127.0.0.1:${port}`
      const adminBase = `http://127.0.0.1:${adminPort}`
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
      const deadline = Date.now() + 90_000
      for (;;) {
        const ok = await fetch(`${adminBase}/v1/destinations`, { headers: auth })
          .then(async (r) => {
            await r.body?.cancel()
            return r.status === 200
          })
          .catch(() => false)
        if (ok) break
        if (Date.now() > deadline) throw new Error('the Deno entry did not start')
        await new Promise((r) => setTimeout(r, 100))
      }
      const created = await fetch(`${adminBase}/v1/destinations`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          endpoint_id: 'default',
          url: `http://127.0.0.1:${destination.addr.port}/hook`,
        }),
      })
      assertEquals(created.status, 201, 'destination created')
      const { secret } = (await created.json()) as { secret: string }
      const posted = await fetch(`${base}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          event: 'incoming_message',
          id: 'SMdenoentry0001',
          content: 'Hello from the Deno entry',
          secret: SECRET,
        }).toString(),
      })
      assertEquals(posted.status, 200, 'webhook stored')
      await posted.body?.cancel()
      const listed = await fetch(`${adminBase}/v1/events?limit=5`, { headers: auth })
      const page = (await listed.json()) as { data: { id: string; telerivet_id: string }[] }
      const event = page.data.find((e) => e.telerivet_id === 'SMdenoentry0001')
      if (!event) throw new Error(`event not listed: ${JSON.stringify(page)}`)
      while (received.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50))
      }
      assertEquals(received.length, 1, 'one delivery')
      const got = received[0] as { headers: Record<string, string>; body: string }
      assertEquals(got.headers['webhook-id'], event.id, 'webhook-id is the event id')
      const body = new Webhook(secret).verify(got.body, got.headers) as Record<string, unknown>
      assertEquals(body.content, 'Hello from the Deno entry', 'forwarded body')
      child.kill('SIGTERM')
      assertEquals((await child.status).code, 0, 'exit code after SIGTERM')
    } finally {
      try {
        child.kill('SIGKILL')
      } catch {
        // already exited
      }
      ac.abort()
      await pg.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
      await pg.close()
    }
  },
})
