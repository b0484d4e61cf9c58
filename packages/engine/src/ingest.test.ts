import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  broadcasts,
  contacts,
  endpoints,
  events,
  messageStatusHistory,
  messages,
  queryRows,
} from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import {
  defineHandlers,
  type EventOf,
  type HandlerContext,
  reply,
  type WebhookReply,
} from '@telehook/protocol'
import { asc, eq, sql } from 'drizzle-orm'
import { form, incomingMessage, SECRET, sendStatus } from './fixtures'
import {
  createEndpoint,
  createEngine,
  type Endpoint,
  type Engine,
  ensureSingleEndpoint,
  rotateEndpointSecret,
} from './index'
import { prepare } from './ingest'
import { type StoreItem, storeBatch } from './store'

for (const driver of TEST_DRIVERS) {
  describe(`engine on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let engine: Engine
    let endpoint: Endpoint
    const calls: string[] = []
    /** What the handler's `ctx.signal` said, by message id. */
    const signals = new Map<string, string>()
    const handlers = defineHandlers({
      sync: {
        incoming_message: (m, ctx) => {
          // Not async: a plain return or throw takes the handler runner's path without a timer.
          if (m.content === 'sync-throw') {
            calls.push(m.id)
            throw new Error('thrown at once')
          }
          if (m.content === 'sync-reply') {
            calls.push(m.id)
            return reply().message({ content: 'at once' }).build()
          }
          return answer(m, ctx)
        },
      },
    })
    async function answer(
      m: EventOf<'incoming_message'>,
      ctx: HandlerContext,
    ): Promise<WebhookReply | undefined> {
      calls.push(m.id)
      if (m.content === 'watch') {
        // Watches its signal, then overruns: the signal aborts at the deadline.
        ctx.signal.addEventListener('abort', () => {
          signals.set(m.id, String((ctx.signal.reason as Error).message))
        })
        return new Promise(() => {})
      }
      if (m.content === 'late-look') {
        // Looks at its signal only after the deadline has passed: aborted already.
        setTimeout(() => signals.set(m.id, String(ctx.signal.aborted)), 400)
        return new Promise(() => {})
      }
      if (m.content === 'throw') throw new Error('boom')
      if (m.content === 'hang') return new Promise(() => {})
      if (m.content === 'bad') return { messages: 'nope' } as never
      if (m.content === 'slow') await Bun.sleep(20)
      // Keys in an order jsonb will not keep: replies must come back from storage.
      return reply()
        .message({ content: `Hi ${m.contact?.name ?? 'you'}`, to_number: m.from_number })
        .variable('$zeta', 1)
        .variable('$a', 'x')
        .build()
    }

    beforeAll(async () => {
      database = await openTestDb(driver)
      engine = createEngine({ database, handlers, handlerTimeoutMs: 200 })
      endpoint = await createEndpoint(database, {
        kind: 'project',
        projectId: null,
        secret: SECRET,
      })
    })
    afterAll(() => database?.drop())

    const eventRow = async (id: string) =>
      database.db
        .select()
        .from(events)
        .where(eq(events.id, id))
        .then((r) => r[0])

    test('incoming_message: stored once, mirrored, answered; a duplicate gets the stored reply', async () => {
      const first = await engine.ingest(endpoint, incomingMessage('SM1'))
      expect(first.outcome).toBe('stored')
      expect(first.valid).toBe(true)
      expect(first.event).toBe('incoming_message')
      expect(first.telerivetId).toBe('SM1')
      expect(first.handlerError).toBeNull()
      expect(first.reply?.messages?.[0]?.content).toBe('Hi Ada')

      const row = await eventRow(first.eventId)
      expect(row?.dedupeKey).toBe('incoming_message:SM1')
      expect(row?.payload.secret).toBeUndefined()
      expect(row?.payload.time_created).toBe(1_760_000_000)
      expect(row?.projectId).toBe('PJ1')

      const [m] = await database.db.select().from(messages).where(eq(messages.id, 'SM1'))
      expect(m?.direction).toBe('incoming')
      expect(m?.status).toBe('received')
      expect(m?.content).toBe('hello')
      expect(m?.contactId).toBe('CTSM1')
      expect(m?.timeCreated?.getTime()).toBe(1_760_000_000_000)

      const [c] = await database.db.select().from(contacts).where(eq(contacts.id, 'CTSM1'))
      expect(c?.name).toBe('Ada')
      expect(c?.vars).toEqual({ lang: 'en' })
      expect(c?.phoneNumber).toBe('+16505550123')
      expect(c?.messageCount).toBe(3)

      calls.length = 0
      const again = await engine.ingest(endpoint, incomingMessage('SM1', { content: 'changed' }))
      expect(again.outcome).toBe('duplicate')
      expect(again.eventId).toBe(first.eventId)
      expect(JSON.stringify(again.reply)).toBe(JSON.stringify(first.reply))
      expect(calls).toEqual([]) // the handler does not run for a known delivery
      expect((await eventRow(first.eventId))?.deliveryCount).toBe(2)
      const [m2] = await database.db.select().from(messages).where(eq(messages.id, 'SM1'))
      expect(m2?.content).toBe('hello') // nothing re-applied
    })

    test('50 concurrent deliveries of one message: one row, count 50, 50 identical replies', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          engine.ingest(endpoint, incomingMessage('SM50', { content: 'slow' })),
        ),
      )
      expect(results.filter((r) => r.outcome === 'stored')).toHaveLength(1)
      const bodies = new Set(results.map((r) => JSON.stringify(r.reply)))
      expect(bodies.size).toBe(1)
      expect([...bodies][0]).toContain('Hi Ada')
      const rows = await database.db
        .select()
        .from(events)
        .where(eq(events.dedupeKey, 'incoming_message:SM50'))
      expect(rows).toHaveLength(1)
      expect(rows[0]?.deliveryCount).toBe(50)
      const msgs = await database.db.select().from(messages).where(eq(messages.id, 'SM50'))
      expect(msgs).toHaveLength(1)
    })

    test('a late "sent" never overwrites "delivered"; the history keeps both', async () => {
      await engine.ingest(endpoint, sendStatus('SM2', 'delivered', { time_sent: 1_760_000_005 }))
      await engine.ingest(endpoint, sendStatus('SM2', 'sent', { time_sent: 1_760_000_005 }))
      const [m] = await database.db.select().from(messages).where(eq(messages.id, 'SM2'))
      expect(m?.status).toBe('delivered')
      expect(m?.direction).toBe('outgoing')
      expect(m?.timeSent?.getTime()).toBe(1_760_000_005_000)
      const history = await database.db
        .select()
        .from(messageStatusHistory)
        .where(eq(messageStatusHistory.messageId, 'SM2'))
        .orderBy(asc(messageStatusHistory.id))
      expect(history.map((h) => h.status)).toEqual(['delivered', 'sent'])
    })

    test('statuses in order move forward; the error follows its status; a click is its own event', async () => {
      const r1 = await engine.ingest(endpoint, sendStatus('SM3', 'queued'))
      await engine.ingest(
        endpoint,
        sendStatus('SM3', 'failed_queued', { error_message: 'temporary failure' }),
      )
      let [m] = await database.db.select().from(messages).where(eq(messages.id, 'SM3'))
      expect(m?.status).toBe('failed_queued')
      expect(m?.errorMessage).toBe('temporary failure')
      await engine.ingest(endpoint, sendStatus('SM3', 'sent'))
      await engine.ingest(endpoint, sendStatus('SM3', 'not_delivered', { error_message: 'DLR' }))
      const late = await engine.ingest(endpoint, sendStatus('SM3', 'queued'))
      expect(late.outcome).toBe('duplicate')
      expect(late.eventId).toBe(r1.eventId)
      const click = await engine.ingest(
        endpoint,
        sendStatus('SM3', 'not_delivered', { error_message: 'DLR', time_clicked: 1_760_000_100 }),
      )
      expect(click.outcome).toBe('stored')
      ;[m] = await database.db.select().from(messages).where(eq(messages.id, 'SM3'))
      expect(m?.status).toBe('not_delivered')
      expect(m?.errorMessage).toBe('DLR')
      expect(m?.timeClicked?.getTime()).toBe(1_760_000_100_000)
      const history = await database.db
        .select({ status: messageStatusHistory.status })
        .from(messageStatusHistory)
        .where(eq(messageStatusHistory.messageId, 'SM3'))
        .orderBy(asc(messageStatusHistory.id))
      expect(history.map((h) => h.status)).toEqual([
        'queued',
        'failed_queued',
        'sent',
        'not_delivered',
        'not_delivered',
      ])
    })

    test('send_broadcast fills telehook.broadcasts', async () => {
      const r = await engine.ingest(
        endpoint,
        form({
          event: 'send_broadcast',
          id: 'BC1',
          recipients_str: 'Group A',
          recipients: [{ type: 'group', id: 'CG1', name: 'Group A' }],
          estimated_count: 12,
          content: 'Hello all',
          route_id: 'PN1',
          project_id: 'PJ1',
          user_name: 'Op',
          user_email: 'op@example.com',
          time_created: 1_760_000_000,
        }),
      )
      expect(r.valid).toBe(true)
      const [b] = await database.db.select().from(broadcasts).where(eq(broadcasts.id, 'BC1'))
      expect(b?.estimatedCount).toBe(12)
      expect(b?.recipientsStr).toBe('Group A')
      expect(b?.recipients).toEqual([{ type: 'group', id: 'CG1', name: 'Group A' }])
      expect(b?.userEmail).toBe('op@example.com')
      expect(b?.content).toBe('Hello all')
      const dup = await engine.ingest(
        endpoint,
        form({ event: 'send_broadcast', id: 'BC1', content: 'Hello all', estimated_count: 13 }),
      )
      expect(dup.outcome).toBe('duplicate')
    })

    test('contact_update: add, groups, vars, block, an older update ignored, delete', async () => {
      const contact = (extra: Record<string, unknown>) =>
        form({
          event: 'contact_update',
          id: 'CT1',
          name: 'Bo',
          phone_number: '+15550001',
          project_id: 'PJ1',
          time_created: 1_760_000_000,
          ...extra,
        })
      const get = async () =>
        (await database.db.select().from(contacts).where(eq(contacts.id, 'CT1')))[0]
      await engine.ingest(
        endpoint,
        contact({ update_type: 'add', time_updated: 1_760_000_001, vars: { a: '1' } }),
      )
      expect((await get())?.vars).toEqual({ a: '1' })
      await engine.ingest(
        endpoint,
        contact({
          update_type: 'add_group',
          time_updated: 1_760_000_002,
          group_ids: ['CG1', 'CG2'],
          vars: { a: '2', b: 'x' },
        }),
      )
      let c = await get()
      expect(c?.groupIds).toEqual(['CG1', 'CG2'])
      expect(c?.vars).toEqual({ a: '2', b: 'x' })
      await engine.ingest(
        endpoint,
        contact({
          update_type: 'block_send',
          send_blocked: 1,
          time_updated: 1_760_000_003,
          group_ids: ['CG1', 'CG2'],
        }),
      )
      c = await get()
      expect(c?.sendBlocked).toBe(true)
      expect(c?.lastUpdateType).toBe('block_send')
      // Delivered late: older than what is stored, so it changes nothing.
      await engine.ingest(
        endpoint,
        contact({ update_type: 'update', name: 'Old', time_updated: 1_760_000_000 }),
      )
      expect((await get())?.name).toBe('Bo')
      await engine.ingest(
        endpoint,
        contact({ update_type: 'unblock_send', time_updated: 1_760_000_004, group_ids: ['CG1'] }),
      )
      c = await get()
      expect(c?.sendBlocked).toBe(false)
      expect(c?.groupIds).toEqual(['CG1'])
      await engine.ingest(endpoint, contact({ update_type: 'delete', time_updated: 1_760_000_005 }))
      c = await get()
      expect(c?.deleted).toBe(true)
      expect(c?.groupIds).toEqual([])
      // The same update posted twice is one event (hash of the canonical payload).
      const again = await engine.ingest(
        endpoint,
        contact({ update_type: 'delete', time_updated: 1_760_000_005 }),
      )
      expect(again.outcome).toBe('duplicate')
    })

    test('message_metadata folds stars, labels, vars and in_progress into the message', async () => {
      await engine.ingest(endpoint, incomingMessage('SM4', { vars: { x: '1' } }))
      const meta = (extra: Record<string, unknown>) =>
        form({ event: 'message_metadata', id: 'SM4', project_id: 'PJ1', ...extra })
      await engine.ingest(
        endpoint,
        meta({ update_type: 'star', starred: 1, label_ids: ['LB1', 'LB2'], vars: { y: '2' } }),
      )
      let [m] = await database.db.select().from(messages).where(eq(messages.id, 'SM4'))
      expect(m?.starred).toBe(true)
      expect(m?.labelIds).toEqual(['LB1', 'LB2'])
      expect(m?.vars).toEqual({ x: '1', y: '2' })
      expect(m?.direction).toBe('incoming')
      expect(m?.content).toBe('hello')
      await engine.ingest(endpoint, meta({ update_type: 'unstar', starred: 0, in_progress: 1 }))
      ;[m] = await database.db.select().from(messages).where(eq(messages.id, 'SM4'))
      expect(m?.starred).toBe(false)
      expect(m?.labelIds).toEqual([])
      expect(m?.inProgress).toBe(true)
      // Metadata for a message never seen creates its row.
      await engine.ingest(
        endpoint,
        form({ event: 'message_metadata', update_type: 'star', id: 'SMX', starred: 1 }),
      )
      const [x] = await database.db.select().from(messages).where(eq(messages.id, 'SMX'))
      expect(x?.starred).toBe(true)
    })

    test('a handler that throws, hangs or returns an invalid reply: stored, no reply, error given', async () => {
      for (const [id, content, error] of [
        ['SM5', 'throw', 'boom'],
        ['SM6', 'hang', 'handler exceeded 200 ms'],
        ['SM7', 'bad', 'handler returned an invalid reply'],
      ] as const) {
        const r = await engine.ingest(endpoint, incomingMessage(id, { content }))
        expect(r.outcome).toBe('stored')
        expect(r.reply).toBeNull()
        expect(r.handlerError).toBe(error)
        const row = await eventRow(r.eventId)
        expect(row?.reply).toBeNull()
        expect(row?.handlerError).toBe(error)
        const [m] = await database.db.select().from(messages).where(eq(messages.id, id))
        expect(m?.content).toBe(content)
        const dup = await engine.ingest(endpoint, incomingMessage(id, { content }))
        expect(dup.outcome).toBe('duplicate')
        expect(dup.reply).toBeNull()
      }
    })

    test('a handler that returns or throws at once; one that overruns sees its signal abort', async () => {
      const now = await engine.ingest(endpoint, incomingMessage('SMH1', { content: 'sync-reply' }))
      expect(now.reply).toEqual({ messages: [{ content: 'at once' }] })
      expect(now.handlerError).toBeNull()
      const thrown = await engine.ingest(
        endpoint,
        incomingMessage('SMH2', { content: 'sync-throw' }),
      )
      expect(thrown.outcome).toBe('stored')
      expect(thrown.reply).toBeNull()
      expect(thrown.handlerError).toBe('thrown at once')
      const watched = await engine.ingest(endpoint, incomingMessage('SMH3', { content: 'watch' }))
      expect(watched.handlerError).toBe('handler exceeded 200 ms')
      expect(signals.get('SMH3')).toBe('handler exceeded 200 ms')
      const late = await engine.ingest(endpoint, incomingMessage('SMH4', { content: 'late-look' }))
      expect(late.handlerError).toBe('handler exceeded 200 ms')
      await Bun.sleep(300)
      expect(signals.get('SMH4')).toBe('true')
    })

    test('unknown and invalid events are stored with valid = false and never dropped', async () => {
      const unknown = await engine.ingest(endpoint, form({ event: 'future_thing', id: 'ZZ1' }))
      expect(unknown.outcome).toBe('stored')
      expect(unknown.valid).toBe(false)
      expect(unknown.event).toBe('future_thing')
      const row = await eventRow(unknown.eventId)
      expect(row?.valid).toBe(false)
      expect(row?.event).toBe('future_thing')
      expect(row?.payload).toEqual({ event: 'future_thing', id: 'ZZ1' })
      expect(row?.dedupeKey).toMatch(/^unknown_event:sha256:[0-9a-f]{64}$/)
      const again = await engine.ingest(endpoint, form({ id: 'ZZ1', event: 'future_thing' }))
      expect(again.outcome).toBe('duplicate')

      const none = await engine.ingest(endpoint, form({ foo: 'bar' }))
      expect(none.valid).toBe(false)
      expect(none.event).toBeNull()
      expect((await eventRow(none.eventId))?.event).toBe('')

      calls.length = 0
      const invalid = await engine.ingest(
        endpoint,
        form({ event: 'incoming_message', content: 'no id', time_created: 'yesterday' }),
      )
      expect(invalid.valid).toBe(false)
      expect(invalid.reply).toBeNull()
      expect(calls).toEqual([]) // handlers see valid events only
      const irow = await eventRow(invalid.eventId)
      expect(irow?.dedupeKey).toMatch(/^invalid:incoming_message:sha256:/)
      expect(Array.isArray(irow?.errors)).toBe(true)
      expect(((irow?.errors ?? []) as unknown[]).length).toBeGreaterThan(0)
      const count = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from telehook.messages where content = 'no id'`,
      )
      expect(count[0]?.n).toBe(0)
    })

    test('authenticate: right, wrong, missing secret, unknown or disabled endpoint', async () => {
      expect(await engine.authenticate(endpoint.id, SECRET)).toEqual(endpoint)
      expect(await engine.authenticate(endpoint.id, 'wrong')).toBeNull()
      expect(await engine.authenticate(endpoint.id, undefined)).toBeNull()
      expect(await engine.authenticate('nope', SECRET)).toBeNull()
      const stored = await database.db.select().from(endpoints).where(eq(endpoints.id, endpoint.id))
      expect(stored[0]?.secretHash).not.toContain(SECRET)
      const other = await createEndpoint(database, { kind: 'service', secret: 's2' })
      expect(other.id.length).toBeGreaterThanOrEqual(20)
      await database.db
        .update(endpoints)
        .set({ disabledAt: new Date() })
        .where(eq(endpoints.id, other.id))
      expect(await engine.authenticate(other.id, 's2')).toBeNull()
    })

    test('rotation: new secret at once, old one during the grace period only', async () => {
      // Recheck at once: this test stands for a rotation made by another process a while ago.
      const engine = createEngine({ database, endpointRecheckMs: 0 })
      const ep = await createEndpoint(database, { kind: 'service', secret: 'old-secret' })
      expect(await engine.authenticate(ep.id, 'old-secret')).not.toBeNull() // now cached
      await rotateEndpointSecret(database, ep.id, 'new-secret', 60_000)
      // Rotated elsewhere, cache not invalidated: a failed check looks again.
      expect(await engine.authenticate(ep.id, 'new-secret')).not.toBeNull()
      expect(await engine.authenticate(ep.id, 'old-secret')).not.toBeNull()
      await database.db
        .update(endpoints)
        .set({ previousSecretExpiresAt: new Date(Date.now() - 1000) })
        .where(eq(endpoints.id, ep.id))
      engine.invalidateEndpoint(ep.id)
      expect(await engine.authenticate(ep.id, 'old-secret')).toBeNull()
      expect(await engine.authenticate(ep.id, 'new-secret')).not.toBeNull()
      await expect(rotateEndpointSecret(database, 'missing', 'x', 0)).rejects.toThrow()
    })

    test('wrong secrets and unknown ids reach the database once per recheck interval', async () => {
      let selects = 0
      const counted = {
        ...database,
        db: new Proxy(database.db, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver)
            if (key !== 'select' || typeof value !== 'function') return value
            return (...args: unknown[]) => {
              selects += 1
              return value.apply(target, args)
            }
          },
        }),
      }
      const e = createEngine({ database: counted, endpointRecheckMs: 60_000 })
      const ep = await createEndpoint(database, { kind: 'service', secret: 'right-secret' })
      expect(await e.authenticate(ep.id, 'right-secret')).toEqual(ep)
      for (let i = 0; i < 20; i++) expect(await e.authenticate(ep.id, `wrong-${i}`)).toBeNull()
      for (let i = 0; i < 20; i++) expect(await e.authenticate('no-such-endpoint', 'x')).toBeNull()
      expect(selects).toBe(2)
      // The right secret still works from the cache; invalidate() forces a look.
      expect(await e.authenticate(ep.id, 'right-secret')).toEqual(ep)
      e.invalidateEndpoint(ep.id)
      expect(await e.authenticate(ep.id, 'right-secret')).toEqual(ep)
      expect(selects).toBe(3)
    })

    test('ensureSingleEndpoint creates "default" and follows a changed secret', async () => {
      const a = await ensureSingleEndpoint(database, 'one')
      expect(a).toEqual({ id: 'default', kind: 'single', projectId: null })
      await ensureSingleEndpoint(database, 'one')
      expect(await engine.authenticate('default', 'one')).toEqual(a)
      await ensureSingleEndpoint(database, 'two')
      engine.invalidateEndpoint('default')
      expect(await engine.authenticate('default', 'one')).toBeNull()
      expect(await engine.authenticate('default', 'two')).toEqual(a)
    })

    for (const batch of [false, { maxInflight: 2, maxSize: 8 }] as const) {
      test(`50 concurrent copies with batch ${JSON.stringify(batch)}: one row, 50 same replies`, async () => {
        const e = createEngine({ database, handlers, batch })
        const id = `SMB${batch === false ? 'off' : 'on'}`
        const results = await Promise.all(
          Array.from({ length: 50 }, () => e.ingest(endpoint, incomingMessage(id))),
        )
        expect(results.filter((r) => r.outcome === 'stored')).toHaveLength(1)
        expect(new Set(results.map((r) => JSON.stringify(r.reply))).size).toBe(1)
        expect(new Set(results.map((r) => r.eventId)).size).toBe(1)
        const [row] = await database.db
          .select()
          .from(events)
          .where(eq(events.dedupeKey, `incoming_message:${id}`))
        expect(row?.deliveryCount).toBe(50)
      })
    }

    test('group commit: a row that fails does not sink the others in its batch', async () => {
      // A trigger plays the bad row: any message whose content is 'poison' cannot be stored.
      await database.db.execute(
        sql.raw(`create function telehook.test_poison() returns trigger language plpgsql as $$
          begin if new.content = 'poison' then raise exception 'poisoned row'; end if; return new; end $$`),
      )
      await database.db.execute(
        sql.raw(`create trigger test_poison before insert on telehook.messages
          for each row execute function telehook.test_poison()`),
      )
      try {
        const e = createEngine({ database, batch: { maxInflight: 1, maxSize: 16 } })
        const ids = Array.from({ length: 12 }, (_, i) => `SMP${i}`)
        const results = await Promise.allSettled(
          ids.map((id, i) =>
            e.ingest(endpoint, incomingMessage(id, { content: i === 5 ? 'poison' : 'fine' })),
          ),
        )
        expect(results.map((r) => r.status)).toEqual(
          ids.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')),
        )
        const stored = await queryRows<{ id: string }>(
          database.db,
          sql`select telerivet_id as id from telehook.events where telerivet_id like 'SMP%' order by 1`,
        )
        expect(stored.map((r) => r.id).sort()).toEqual(ids.filter((_, i) => i !== 5).sort())
        const msgs = await queryRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from telehook.messages where id like 'SMP%'`,
        )
        expect(msgs[0]?.n).toBe(11)
        expect(e.batchStats?.retried).toBeGreaterThanOrEqual(1)
      } finally {
        await database.db.execute(sql.raw('drop trigger test_poison on telehook.messages'))
        await database.db.execute(sql.raw('drop function telehook.test_poison()'))
      }
    })

    // PGlite runs one transaction at a time: two batches cannot interleave there.
    test.skipIf(driver !== 'postgres')(
      'group commit: batches writing the same rows in opposite orders do not deadlock',
      async () => {
        // A trigger holds each message row lock for 200 ms, so both batches are sure to hold their
        // first row when they ask for their second: without one lock order this is a deadlock
        // every time (PostgreSQL rolls one back after deadlock_timeout).
        await database.db.execute(
          sql.raw(`create function telehook.test_slow() returns trigger language plpgsql as $$
            begin if new.id like 'SMDL%' then perform pg_sleep(0.2); end if; return new; end $$`),
        )
        await database.db.execute(
          sql.raw(`create trigger test_slow before update on telehook.messages
            for each row execute function telehook.test_slow()`),
        )
        const item = async (f: ReturnType<typeof sendStatus>): Promise<StoreItem> => ({
          endpoint,
          prepared: await prepare(endpoint, f),
          reply: null,
          handlerError: null,
        })
        try {
          for (const round of [1, 2]) {
            const [m1, m2] = [`SMDL${round}a`, `SMDL${round}b`]
            await engine.ingest(endpoint, sendStatus(m1, 'queued'))
            await engine.ingest(endpoint, sendStatus(m2, 'queued'))
            const a = [await item(sendStatus(m1, 'sent')), await item(sendStatus(m2, 'sent'))]
            const b = [
              await item(sendStatus(m2, 'delivered')),
              await item(sendStatus(m1, 'delivered')),
            ]
            const results = await Promise.allSettled([
              storeBatch(database.db, a, new Set(), true),
              storeBatch(database.db, b, new Set(), true),
            ])
            expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(
              ['ok', 'ok'],
            )
            const rows = await database.db
              .select({ id: messages.id, status: messages.status })
              .from(messages)
              .where(sql`${messages.id} in (${m1}, ${m2})`)
              .orderBy(asc(messages.id))
            // Status precedence is untouched by the lock order: delivered outranks sent.
            expect(rows).toEqual([
              { id: m1, status: 'delivered' },
              { id: m2, status: 'delivered' },
            ])
            const history = await database.db
              .select({ status: messageStatusHistory.status })
              .from(messageStatusHistory)
              .where(eq(messageStatusHistory.messageId, m1))
              .orderBy(asc(messageStatusHistory.id))
            expect(history.map((h) => h.status).sort()).toEqual(['delivered', 'queued', 'sent'])
          }
        } finally {
          await database.db.execute(sql.raw('drop trigger test_slow on telehook.messages'))
          await database.db.execute(sql.raw('drop function telehook.test_slow()'))
        }
      },
    )

    test('values a column cannot hold stay in the payload and out of the mirror', async () => {
      const r = await engine.ingest(
        endpoint,
        incomingMessage('SMBIG', {
          time_created: 1e20,
          contact: { name: 'Big', message_count: 1e12 },
        }),
      )
      expect(r.outcome).toBe('stored')
      expect((await eventRow(r.eventId))?.payload.time_created).toBe(1e20)
      const [m] = await database.db.select().from(messages).where(eq(messages.id, 'SMBIG'))
      expect(m?.timeCreated).toBeNull()
      const [c] = await database.db.select().from(contacts).where(eq(contacts.id, 'CTSMBIG'))
      expect(c?.name).toBe('Big')
      expect(c?.messageCount).toBeNull()
    })

    test('a NUL character is stored as U+FFFD instead of failing forever', async () => {
      const r = await engine.ingest(endpoint, incomingMessage('SMNUL', { content: 'a\u0000b' }))
      expect(r.outcome).toBe('stored')
      const [m] = await database.db.select().from(messages).where(eq(messages.id, 'SMNUL'))
      expect(m?.content).toBe('a\uFFFDb')
    })

    test('deliveries are deduplicated per endpoint', async () => {
      const ep2 = await createEndpoint(database, { kind: 'service', secret: 'x' })
      const a = await engine.ingest(endpoint, incomingMessage('SM8'))
      const b = await engine.ingest(ep2, incomingMessage('SM8'))
      expect(a.outcome).toBe('stored')
      expect(b.outcome).toBe('stored')
      expect(b.eventId).not.toBe(a.eventId)
    })
  })
}
