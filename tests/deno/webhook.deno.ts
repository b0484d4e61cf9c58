/// <reference lib="deno.ns" />
/**
 * @module Deno smoke test: the webhook app (Elysia) served by `Deno.serve(app.fetch)` on
 * PostgreSQL through postgres.js, exactly as the README's Deno section runs it.
 */
import { events } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, ensureSingleEndpoint, silentLogger } from '@telehook/engine'
import { createWebhookApp, exampleHandlers } from '@telehook/webhook'
import { eq } from 'drizzle-orm'

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

function form(id: string, secret: string): string {
  return new URLSearchParams({
    event: 'incoming_message',
    id,
    message_type: 'sms',
    direction: 'incoming',
    content: 'Hello from Deno',
    from_number: '+16505550123',
    to_number: '+16505550001',
    time_created: '1700000000',
    contact_id: 'CTdenosmoke0000001',
    phone_id: 'PNdenosmoke0000001',
    project_id: 'PJdenosmoke0000001',
    secret,
  }).toString()
}

Deno.test({
  name: 'webhook app under Deno.serve on PostgreSQL: store, read back, dedupe, refuse',
  ignore: !TEST_DRIVERS.includes('postgres'),
  // postgres.js keeps a socket timer between queries; the test closes the pool itself.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const database = await openTestDb('postgres')
    const ac = new AbortController()
    try {
      const secret = 'deno-smoke-secret'
      await ensureSingleEndpoint(database, secret)
      const engine = createEngine({ database, handlers: exampleHandlers, logger: silentLogger })
      const app = createWebhookApp({ engine, database, singleProject: true, logger: silentLogger })
      const server = Deno.serve(
        { port: 0, hostname: '127.0.0.1', signal: ac.signal, onListen() {} },
        app.fetch,
      )
      const base = `http://127.0.0.1:${server.addr.port}`
      const post = (body: string) =>
        fetch(`${base}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        })

      const health = await fetch(`${base}/healthz`)
      assertEquals(health.status, 200, 'healthz')
      await health.body?.cancel()

      const first = await post(form('SMdenosmoke00000001', secret))
      assertEquals(first.status, 200, 'first delivery')
      const reply = await first.text()
      assertEquals(JSON.parse(reply).messages[0].content, "Hi! What's your name?", 'reply')

      const again = await post(form('SMdenosmoke00000001', secret))
      assertEquals(await again.text(), reply, 'duplicate answered with the stored reply bytes')

      const refused = await post(form('SMdenosmoke00000002', 'wrong-secret'))
      assertEquals(refused.status, 403, 'wrong secret')
      await refused.body?.cancel()

      const rows = await database.db
        .select({ telerivetId: events.telerivetId, deliveryCount: events.deliveryCount })
        .from(events)
      assertEquals(rows, [{ telerivetId: 'SMdenosmoke00000001', deliveryCount: 2 }], 'events')
      const stored = await database.db
        .select({ valid: events.valid, payload: events.payload })
        .from(events)
        .where(eq(events.telerivetId, 'SMdenosmoke00000001'))
      assertEquals(stored[0]?.valid, true, 'valid')
      assertEquals(
        (stored[0]?.payload as { content?: string } | undefined)?.content,
        'Hello from Deno',
        'payload',
      )
      ac.abort()
      await server.finished
    } finally {
      ac.abort()
      await database.drop()
    }
  },
})
