/// <reference lib="deno.ns" />
/**
 * @module Deno smoke test: the webhook app (Elysia) served by `Deno.serve(app.fetch)` on
 * PostgreSQL through postgres.js, exactly as the README's Deno section runs it.
 */
import { events, openDb } from '@telehook/db'
import { openTestDb, TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, ensureSingleEndpoint, silentLogger } from '@telehook/engine'
import { createWebhookApp, exampleHandlers } from '@telehook/webhook'
import { eq, sql } from 'drizzle-orm'

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

Deno.test({
  name: 'apps/cli/deno/serve.ts runs as a program: deno run, post, stored, SIGTERM',
  ignore: !TEST_DRIVERS.includes('postgres'),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const name = `telehook_test_deno_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false })
    await admin.db.execute(sql.raw(`create database ${name}`))
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${name}`
    const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
    const port = (listener.addr as Deno.NetAddr).port
    listener.close()
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
        TELEHOOK_SECRET: 'deno-entry-secret',
      },
      stdout: 'null',
      stderr: 'null',
    }).spawn()
    try {
      const base = `http://127.0.0.1:${port}`
      const deadline = Date.now() + 60_000
      for (;;) {
        const ok = await fetch(`${base}/healthz`)
          .then(async (r) => {
            await r.body?.cancel()
            return r.status === 200
          })
          .catch(() => false)
        if (ok) break
        if (Date.now() > deadline) throw new Error('deno entry did not answer /healthz')
        await new Promise((r) => setTimeout(r, 100))
      }
      const res = await fetch(`${base}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form('SMdenoentry00000001', 'deno-entry-secret'),
      })
      assertEquals(res.status, 200, 'delivery through the entry')
      await res.body?.cancel()
      child.kill('SIGTERM')
      assertEquals((await child.status).code, 0, 'clean exit on SIGTERM')
      const check = await openDb({ databaseUrl: url.toString(), migrate: false })
      const rows = await check.db.select({ id: events.telerivetId }).from(events)
      await check.close()
      assertEquals(rows, [{ id: 'SMdenoentry00000001' }], 'stored by the entry')
    } finally {
      try {
        child.kill('SIGKILL')
      } catch {
        // already exited
      }
      await admin.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
      await admin.close()
    }
  },
})
