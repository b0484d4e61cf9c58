import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEndpoint, createEngine, ensureSingleEndpoint } from '@telehook/engine'
import { defineHandlers } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import { createWebhookApp, type WebhookApp } from '../src/app'
import exampleHandlers, { ASK_NAME } from '../src/example-handlers'
import { createMetrics } from '../src/metrics'
import { startWebhookServer } from '../src/server'
import { captureLogger, countEvents, eventsOf, FORM, form, newId, post, rows } from './helpers'

// bun's 5 s default is too short for database suites on a busy 2-core machine (and bunfig's
// [test] timeout is not applied by this Bun).
setDefaultTimeout(30_000)

const SECRET = 'single-secret-Zq8w3Xk1Vb'
const HOOK_SECRET = 'hook-secret-Pp0Lr5Tt2Yy'
const WRONG_SECRET = 'wrong-secret-Mm4Nn6Bb9Cc'

const example = exampleHandlers.sync?.incoming_message
if (!example) throw new Error('the example module has no incoming_message handler')

/** The example conversation, plus two ways for a handler to fail. */
const handlers = defineHandlers({
  sync: {
    async incoming_message(message, ctx) {
      if (message.content === 'throw please') throw new Error('handler exploded')
      if (message.content === 'hang please') {
        await new Promise((resolve) => setTimeout(resolve, 5000))
      }
      return example(message, ctx)
    },
  },
})

function incoming(id: string, extra: Record<string, string | number> = {}) {
  return form({
    event: 'incoming_message',
    id,
    message_type: 'sms',
    content: 'Hello',
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: 1767225600,
    contact_id: 'CTabc123',
    phone_id: 'PNabc123',
    project_id: 'PJabc123',
    secret: SECRET,
    ...extra,
  })
}

for (const driver of TEST_DRIVERS) {
  describe(`webhook ingestion on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let app: WebhookApp
    let engine: ReturnType<typeof createEngine>
    let hookId: string
    const logger = captureLogger()
    const metrics = createMetrics()

    beforeAll(async () => {
      database = await openTestDb(driver)
      engine = createEngine({ database, handlers, handlerTimeoutMs: 300, logger })
      await ensureSingleEndpoint(database, SECRET)
      const hook = await createEndpoint(database, { kind: 'service', secret: HOOK_SECRET })
      hookId = hook.id
      app = createWebhookApp({
        engine,
        database,
        singleProject: true,
        logger,
        metrics,
        deadlineMs: 6000,
        publicMetrics: true,
      })
    })
    afterAll(async () => {
      await database?.drop()
    })

    test('incoming_message: stored, mirrored, answered with the handler reply', async () => {
      const id = newId('SM')
      const res = await app.handle(post('/webhook', incoming(id)))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/json')
      const reply = await res.json()
      expect(reply.messages).toEqual([{ content: ASK_NAME }])
      expect(reply.variables).toEqual({ 'state.id': 'awaiting_name' })

      const [event] = await eventsOf(database, id)
      expect(event).toMatchObject({
        endpoint_id: 'default',
        event: 'incoming_message',
        valid: true,
        delivery_count: 1,
        reply,
      })
      expect(event?.payload.secret).toBeUndefined()
      const [message] = await rows(
        database,
        sql`select direction, content, from_number, to_number, contact_id, project_id
            from telehook.messages where id = ${id}`,
      )
      expect(message).toEqual({
        direction: 'incoming',
        content: 'Hello',
        from_number: '+16505550123',
        to_number: '+16505550100',
        contact_id: 'CTabc123',
        project_id: 'PJabc123',
      })
    })

    test('the example conversation stores the name through the reply variables', async () => {
      const body =
        `${incoming(newId('SM'), { content: '  Ada   Lovelace ' })}` +
        '&state%5Bid%5D=awaiting_name&contact%5Bname%5D='
      const res = await app.handle(post('/webhook', body))
      expect(res.status).toBe(200)
      const reply = await res.json()
      expect(reply.variables).toEqual({ 'contact.name': 'Ada Lovelace', 'state.id': 'named' })
      expect(reply.messages[0].content).toContain('Ada Lovelace')
    })

    test('send_status: stored with an empty 200, mirrored with its history', async () => {
      const id = newId('SM')
      const res = await app.handle(
        post(
          '/webhook',
          form({
            event: 'send_status',
            id,
            status: 'sent',
            message_type: 'sms',
            from_number: '+16505550100',
            to_number: '+16505550199',
            content: 'Your code is 1234',
            time_created: 1767225600,
            time_sent: 1767225601,
            project_id: 'PJabc123',
            secret: SECRET,
          }),
        ),
      )
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('')
      const [message] = await rows(
        database,
        sql`select status, direction, to_number from telehook.messages where id = ${id}`,
      )
      expect(message).toMatchObject({ status: 'sent', to_number: '+16505550199' })
      const history = await rows(
        database,
        sql`select status from telehook.message_status_history where message_id = ${id}`,
      )
      expect(history).toEqual([{ status: 'sent' }])
    })

    test('send_broadcast: mirrored into broadcasts', async () => {
      const id = newId('BC')
      const body = `${form({
        event: 'send_broadcast',
        id,
        recipients_str: 'Group A',
        estimated_count: 42,
        content: 'Market day tomorrow',
        route_id: 'PNabc123',
        project_id: 'PJabc123',
        user_name: 'Grace',
        user_email: 'grace@example.org',
        secret: SECRET,
      })}&recipients%5B0%5D%5Btype%5D=group&recipients%5B0%5D%5Bid%5D=GRxyz`
      const res = await app.handle(post('/webhook', body))
      expect(res.status).toBe(200)
      const [broadcast] = await rows(
        database,
        sql`select content, estimated_count, recipients_str, recipients
            from telehook.broadcasts where id = ${id}`,
      )
      expect(broadcast).toEqual({
        content: 'Market day tomorrow',
        estimated_count: 42,
        recipients_str: 'Group A',
        recipients: [{ type: 'group', id: 'GRxyz' }],
      })
    })

    test('contact_update: add, then delete, mirrored into contacts', async () => {
      const id = newId('CT')
      const add = `${form({
        event: 'contact_update',
        update_type: 'add',
        id,
        phone_number: '+16505550177',
        name: 'Lin',
        send_blocked: 0,
        project_id: 'PJabc123',
        secret: SECRET,
      })}&vars%5Bcity%5D=Accra&group_ids%5B0%5D=GR1&group_ids%5B1%5D=GR2`
      expect((await app.handle(post('/webhook', add))).status).toBe(200)
      const [contact] = await rows(
        database,
        sql`select name, phone_number, send_blocked, deleted, group_ids, vars
            from telehook.contacts where id = ${id}`,
      )
      expect(contact).toEqual({
        name: 'Lin',
        phone_number: '+16505550177',
        send_blocked: false,
        deleted: false,
        group_ids: ['GR1', 'GR2'],
        vars: { city: 'Accra' },
      })
      const del = form({
        event: 'contact_update',
        update_type: 'delete',
        id,
        phone_number: '+16505550177',
        name: 'Lin',
        project_id: 'PJabc123',
        secret: SECRET,
      })
      expect((await app.handle(post('/webhook', del))).status).toBe(200)
      const [deleted] = await rows(
        database,
        sql`select deleted from telehook.contacts where id = ${id}`,
      )
      expect(deleted).toEqual({ deleted: true })
    })

    test('message_metadata: stars, labels and vars folded into messages', async () => {
      const id = newId('SM')
      const body = `${form({
        event: 'message_metadata',
        update_type: 'add_label',
        id,
        starred: 1,
        project_id: 'PJabc123',
        secret: SECRET,
      })}&label_ids%5B0%5D=LB1&vars%5Bscore%5D=7`
      expect((await app.handle(post('/webhook', body))).status).toBe(200)
      const [message] = await rows(
        database,
        sql`select starred, label_ids, vars from telehook.messages where id = ${id}`,
      )
      expect(message).toEqual({ starred: true, label_ids: ['LB1'], vars: { score: '7' } })
    })

    test("POST /hooks/:endpointId takes its own secret, not another endpoint's", async () => {
      const id = newId('SM')
      const ok = await app.handle(post(`/hooks/${hookId}`, incoming(id, { secret: HOOK_SECRET })))
      expect(ok.status).toBe(200)
      expect((await eventsOf(database, id)).map((e) => e.endpoint_id)).toEqual([hookId])

      const other = newId('SM')
      const res = await app.handle(post(`/hooks/${hookId}`, incoming(other)))
      expect(res.status).toBe(403)
      expect(await eventsOf(database, other)).toEqual([])
    })

    test('wrong or missing secret, unknown endpoint: 403, nothing stored', async () => {
      const before = await countEvents(database)
      const id = newId('SM')
      const cases = [
        post('/webhook', incoming(id, { secret: WRONG_SECRET })),
        post('/webhook', incoming(id).replace(`secret=${SECRET}`, 'x=1')),
        post('/webhook', incoming(id, { secret: '' })),
        post('/webhook', `${incoming(id)}&secret%5B%5D=${SECRET}`),
        post('/hooks/no-such-endpoint', incoming(id)),
      ]
      for (const request of cases) {
        const res = await app.handle(request)
        expect(res.status).toBe(403)
        expect(await res.text()).toBe('Invalid webhook secret')
      }
      expect(await countEvents(database)).toBe(before)
    })

    test('a disabled endpoint answers 403 with its right secret, and stores nothing', async () => {
      const disabled = await createEndpoint(database, { kind: 'service', secret: HOOK_SECRET })
      const first = newId('SM')
      const ok = await app.handle(
        post(`/hooks/${disabled.id}`, incoming(first, { secret: HOOK_SECRET })),
      )
      expect(ok.status).toBe(200)
      await rows(
        database,
        sql`update telehook.endpoints set disabled_at = now() where id = ${disabled.id}`,
      )
      engine.invalidateEndpoint(disabled.id)
      const id = newId('SM')
      const res = await app.handle(
        post(`/hooks/${disabled.id}`, incoming(id, { secret: HOOK_SECRET })),
      )
      expect(res.status).toBe(403)
      expect(await res.text()).toBe('Invalid webhook secret')
      expect(await eventsOf(database, id)).toEqual([])
    })

    test('a chunked body past the limit is read on (1 MB at most) before its 413', async () => {
      // A pull stream of `chunks` chunks of 64 KB, counting what the server read.
      const counted = (chunks: number) => {
        let pulled = 0
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled === chunks) return controller.close()
            pulled++
            controller.enqueue(new Uint8Array(64 * 1024).fill(0x61))
          },
        })
        return { body, pulled: () => pulled }
      }
      // 640 KB: read to its end, so that over a socket the 413 is not lost in a reset.
      const whole = counted(10)
      expect((await app.handle(post('/webhook', whole.body))).status).toBe(413)
      expect(whole.pulled()).toBe(10)
      // Endless: refused once 1 MB past the 256 KB limit has been read and dropped.
      const endless = counted(Number.POSITIVE_INFINITY)
      expect((await app.handle(post('/webhook', endless.body))).status).toBe(413)
      expect(endless.pulled()).toBeGreaterThan(16)
      expect(endless.pulled()).toBeLessThan(24)
    })

    test('bad input: 413, 415 and 400, nothing stored', async () => {
      const before = await countEvents(database)
      const big = incoming(newId('SM'), { content: 'x'.repeat(300 * 1024) })
      const declared = await app.handle(post('/webhook', big))
      expect(declared.status).toBe(413)

      // No Content-Length: the bytes actually read are counted.
      const chunk = new TextEncoder().encode(big)
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < chunk.length; i += 16384)
            controller.enqueue(chunk.slice(i, i + 16384))
          controller.close()
        },
      })
      const streamed = await app.handle(post('/webhook', stream))
      expect(streamed.status).toBe(413)

      for (const type of ['application/json', 'text/plain', 'multipart/form-data; boundary=x']) {
        const res = await app.handle(
          post('/webhook', incoming(newId('SM')), { 'content-type': type }),
        )
        expect(res.status).toBe(415)
      }
      const untyped = new Request('http://telehook.test/webhook', {
        method: 'POST',
        body: new TextEncoder().encode(incoming(newId('SM'))),
      })
      expect((await app.handle(untyped)).status).toBe(415)
      const latin1 = await app.handle(
        post('/webhook', incoming(newId('SM')), { 'content-type': `${FORM}; charset=iso-8859-1` }),
      )
      expect(latin1.status).toBe(415)

      const badUtf8 = new Uint8Array([
        ...new TextEncoder().encode(incoming(newId('SM'))),
        0x26,
        0x61,
        0x3d,
        0xff,
      ])
      expect((await app.handle(post('/webhook', badUtf8))).status).toBe(400)

      const deep = `${incoming(newId('SM'))}&a${'[x]'.repeat(40)}=1`
      const deepRes = await app.handle(post('/webhook', deep))
      expect(deepRes.status).toBe(400)
      expect(await deepRes.text()).toBe('Unparseable request body')
      expect(await countEvents(database)).toBe(before)
    })

    test('charset=UTF-8 is accepted', async () => {
      const res = await app.handle(
        post('/webhook', incoming(newId('SM')), { 'content-type': `${FORM}; charset=UTF-8` }),
      )
      expect(res.status).toBe(200)
    })

    test('prototype-pollution keys stay ordinary data', async () => {
      const id = newId('SM')
      const body = `${incoming(id)}&__proto__%5Bpolluted%5D=yes&constructor%5Bprototype%5D%5Bpolluted%5D=yes&contact%5B__proto__%5D%5Bpolluted%5D=yes&prototype=1`
      const res = await app.handle(post('/webhook', body))
      expect(res.status).toBe(200)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty('polluted')
      expect(await eventsOf(database, id)).toHaveLength(1)
    })

    test('a 5000-parameter body is stored', async () => {
      const id = newId('SM')
      const vars = Array.from({ length: 4990 }, (_, i) => `contact%5Bvars%5D%5Bv${i}%5D=${i}`)
      const res = await app.handle(post('/webhook', `${incoming(id)}&${vars.join('&')}`))
      expect(res.status).toBe(200)
      const [event] = await eventsOf(database, id)
      const contact = event?.payload.contact as { vars: Record<string, unknown> }
      expect(Object.keys(contact.vars)).toHaveLength(4990)
    })

    test('invalid percent escapes are kept literally and stored', async () => {
      const id = newId('SM')
      const body = incoming(id).replace('content=Hello', 'content=100%+sure+%zz+%E2%82')
      const res = await app.handle(post('/webhook', body))
      expect(res.status).toBe(200)
      const [message] = await rows<{ content: string }>(
        database,
        sql`select content from telehook.messages where id = ${id}`,
      )
      expect(message?.content).toStartWith('100% sure %zz ')
    })

    // PostgreSQL text and jsonb cannot hold U+0000; refusing it would make Telerivet retry for a day.
    test('a NUL byte in a value is stored, not refused by the database', async () => {
      const id = newId('SM')
      const res = await app.handle(post('/webhook', incoming(id, { content: 'a\u0000b' })))
      expect(res.status).toBe(200)
      expect(await eventsOf(database, id)).toHaveLength(1)
      const [message] = await rows(
        database,
        sql`select content from telehook.messages where id = ${id}`,
      )
      expect(message).toEqual({ content: 'a\uFFFDb' })
    })

    test('an unknown event type is stored invalid and answered 200', async () => {
      const id = newId('XX')
      const res = await app.handle(
        post('/webhook', form({ event: 'teleport', id, secret: SECRET, where: 'mars' })),
      )
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('')
      const [event] = await eventsOf(database, id)
      expect(event).toMatchObject({ event: 'teleport', valid: false })
      expect(event?.payload).toMatchObject({ where: 'mars' })
      expect(event?.payload.secret).toBeUndefined()
    })

    test('a payload failing validation is stored invalid with its errors, answered 200', async () => {
      const id = newId('SM')
      const res = await app.handle(
        post(
          '/webhook',
          form({
            event: 'send_status',
            id,
            status: 'sent',
            time_sent: 'yesterday',
            secret: SECRET,
          }),
        ),
      )
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('')
      const [event] = await eventsOf(database, id)
      expect(event).toMatchObject({ event: 'send_status', valid: false })
      expect(event?.errors).toEqual([expect.objectContaining({ path: '/time_sent' })])
      expect(event?.payload).toMatchObject({ time_sent: 'yesterday' })
    })

    test('a throwing or hanging handler: stored, 200 without a reply, logged and counted', async () => {
      for (const content of ['throw please', 'hang please']) {
        const id = newId('SM')
        const res = await app.handle(post('/webhook', incoming(id, { content })))
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('')
        expect(await eventsOf(database, id)).toHaveLength(1)
        const line = logger.lines.find((l) => l.msg === 'delivery' && l.telerivet_id === id)
        expect(line?.handler_error).toEqual(expect.any(String))
      }
      expect(metrics.render()).toMatch(
        /telehook_webhook_handler_errors_total\{event="incoming_message"\} [2-9]/,
      )
    })

    test('50 concurrent deliveries of one message: one row, delivery_count 50, identical replies', async () => {
      const id = newId('SM')
      const body = incoming(id)
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => app.handle(post('/webhook', body))),
      )
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200))
      const bodies = await Promise.all(responses.map((r) => r.text()))
      expect(new Set(bodies).size).toBe(1)
      expect(JSON.parse(bodies[0] as string).messages).toEqual([{ content: ASK_NAME }])
      const events = await eventsOf(database, id)
      expect(events).toHaveLength(1)
      expect(events[0]?.delivery_count).toBe(50)
      const messages = await rows(database, sql`select id from telehook.messages where id = ${id}`)
      expect(messages).toHaveLength(1)
      // A later duplicate gets the very same bytes.
      const again = await app.handle(post('/webhook', body))
      expect(await again.text()).toBe(bodies[0] as string)
    })

    test('out of order: delivered then sent keeps delivered, history has both', async () => {
      const id = newId('SM')
      const status = (s: string, t: number) =>
        form({
          event: 'send_status',
          id,
          status: s,
          time_sent: t,
          project_id: 'PJabc123',
          secret: SECRET,
        })
      expect((await app.handle(post('/webhook', status('delivered', 1767225605)))).status).toBe(200)
      expect((await app.handle(post('/webhook', status('sent', 1767225601)))).status).toBe(200)
      const [message] = await rows(
        database,
        sql`select status from telehook.messages where id = ${id}`,
      )
      expect(message).toEqual({ status: 'delivered' })
      const history = await rows(
        database,
        sql`select status from telehook.message_status_history where message_id = ${id} order by id`,
      )
      expect(history).toEqual([{ status: 'delivered' }, { status: 'sent' }])
    })

    test('GET /healthz answers 200 while the database answers', async () => {
      const res = await app.handle(new Request('http://telehook.test/healthz'))
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok', driver })
    })

    test('GET /metrics counts deliveries by event and outcome', async () => {
      const res = await app.handle(new Request('http://telehook.test/metrics'))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
      const text = await res.text()
      expect(text).toMatch(
        /telehook_webhook_deliveries_total\{event="incoming_message",outcome="stored"\} \d+/,
      )
      expect(text).toMatch(
        /telehook_webhook_deliveries_total\{event="incoming_message",outcome="duplicate"\} \d+/,
      )
      expect(text).toMatch(/telehook_webhook_duplicates_total\{event="incoming_message"\} \d+/)
      expect(text).toMatch(/telehook_webhook_forbidden_total [1-9]/)
      expect(text).toMatch(/telehook_webhook_invalid_events_total\{event="unknown"\} 1/)
      expect(text).toContain('telehook_webhook_request_duration_seconds_bucket{le="+Inf"}')
      // group commit runs on both drivers; its counters are served with the rest
      expect(text).toMatch(/telehook_engine_batches_total \d+/)
    })

    test('a real socket: Telerivet-style POST with fetch', async () => {
      const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit: 262144 })
      try {
        const id = newId('SM')
        const res = await fetch(new URL('/webhook', server.url), {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: incoming(id),
        })
        expect(res.status).toBe(200)
        expect((await res.json()).messages).toEqual([{ content: ASK_NAME }])
        expect(await eventsOf(database, id)).toHaveLength(1)
        const forbidden = await fetch(new URL('/webhook', server.url), {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: incoming(newId('SM'), { secret: WRONG_SECRET }),
        })
        expect(forbidden.status).toBe(403)
        const tooBig = await fetch(new URL('/webhook', server.url), {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: incoming(newId('SM'), { content: 'x'.repeat(270 * 1024) }),
        })
        expect(tooBig.status).toBe(413)
        // Far past the limit, Bun's own cap refuses it before the app reads a byte.
        const huge = await fetch(new URL('/webhook', server.url), {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: incoming(newId('SM'), { content: 'x'.repeat(2 * 1024 * 1024) }),
        })
        expect(huge.status).toBe(413)
      } finally {
        await server.stop()
      }
    })

    test('one JSON log line per delivery, and no secret in any line', () => {
      const deliveries = logger.lines.filter((l) => l.msg === 'delivery')
      expect(deliveries.length).toBeGreaterThan(60)
      for (const line of deliveries) {
        expect(Object.keys(line)).toEqual(
          expect.arrayContaining([
            'endpoint',
            'event',
            'telerivet_id',
            'outcome',
            'status',
            'duration_ms',
          ]),
        )
      }
      expect(deliveries.some((l) => l.status === 403 && l.outcome === 'forbidden')).toBe(true)
      // A stored message that ran the example handler reports the handler's share of the time.
      const replied = deliveries.find(
        (l) => l.outcome === 'stored' && l.event === 'incoming_message',
      )
      expect(replied?.handler_ms).toEqual(expect.any(Number))
      const text = logger.text()
      for (const secret of [SECRET, HOOK_SECRET, WRONG_SECRET]) expect(text).not.toContain(secret)
    })
  })
}
