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
import { Webhook } from 'standardwebhooks'

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const SECRET = 'deno-forward-secret'

for (const driver of TEST_DRIVERS) {
  Deno.test({
    name: `webhook app and forwarding under Deno on ${driver}: destination, webhook, read back, delivery`,
    // postgres.js and PGlite keep timers between queries; the test closes them itself.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const database = await openTestDb(driver)
      const ac = new AbortController()
      const masterKey = await crypto.subtle.importKey(
        'raw',
        Uint8Array.from(atob(MASTER), (c) => c.charCodeAt(0)),
        'AES-GCM',
        false,
        ['encrypt', 'decrypt'],
      )
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
        forwarder.start()
        worker.start()
        const { secret } = await createDestination(database, masterKey, {
          endpointId: 'default',
          url: `http://127.0.0.1:${destination.addr.port}/hook`,
        })

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

        const [event] = await database.db
          .select({ id: events.id })
          .from(events)
          .where(eq(events.telerivetId, `SMdenoforward${driver}`))
        if (!event) throw new Error('event not stored')

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
  name: 'apps/cli/deno/serve.ts with TELEHOOK_ROLE=webhook,worker on PostgreSQL: stored and forwarded',
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
    const port = free()
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
        TELEHOOK_ROLE: 'webhook,worker',
        TELEHOOK_SECRET: SECRET,
        TELEHOOK_MASTER_KEY: MASTER,
      },
      stdout: 'null',
      stderr: 'null',
    }).spawn()
    try {
      const base = `http://127.0.0.1:${port}`
      const deadline = Date.now() + 90_000
      for (;;) {
        const ok = await fetch(`${base}/healthz`)
          .then(async (r) => {
            await r.body?.cancel()
            return r.status === 200
          })
          .catch(() => false)
        if (ok) break
        if (Date.now() > deadline) throw new Error('the Deno entry did not start')
        await new Promise((r) => setTimeout(r, 100))
      }
      const database = await openDb({ databaseUrl: url.toString(), migrate: false })
      const masterKey = await crypto.subtle.importKey(
        'raw',
        Uint8Array.from(atob(MASTER), (c) => c.charCodeAt(0)),
        'AES-GCM',
        false,
        ['encrypt', 'decrypt'],
      )
      const { secret } = await createDestination(database, masterKey, {
        endpointId: 'default',
        url: `http://127.0.0.1:${destination.addr.port}/hook`,
      })
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
      const [event] = await database.db
        .select({ id: events.id })
        .from(events)
        .where(eq(events.telerivetId, 'SMdenoentry0001'))
      await database.close()
      if (!event) throw new Error('event not stored')
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
