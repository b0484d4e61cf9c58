import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { endpoints, events, jobs, queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'
import { createAdminApp } from '../../app'
import { importMasterKey } from '../../crypto'
import { overview } from './service'

const TOKEN = 'overview-test-admin-token-012345'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const NOW = new Date('2026-01-01T12:00:30Z')
const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000)

describe.each(TEST_DRIVERS)('overview on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>

  beforeAll(async () => {
    database = await openTestDb(driver)
    await database.db.insert(endpoints).values([
      { id: 'ep-busy', kind: 'service', secretHash: 'x', name: 'Busy' },
      { id: 'ep-silent', kind: 'service', secretHash: 'x', name: 'Silent' },
    ])
    let n = 0
    const ev = (
      event: string,
      minutesAgo: number,
      extra: Partial<typeof events.$inferInsert> = {},
    ) => ({
      endpointId: 'ep-busy',
      event,
      dedupeKey: `k${n++}`,
      payload: {},
      valid: true,
      receivedAt: at(minutesAgo),
      lastReceivedAt: at(minutesAgo),
      ...extra,
    })
    await database.db.insert(events).values([
      ev('incoming_message', 0),
      ev('incoming_message', 0, { deliveryCount: 3 }),
      ev('send_status', 0),
      ev('send_status', 5, { valid: false }),
      ev('send_status', 59, { handlerError: 'threw' }),
      ev('incoming_message', 61), // outside the hour, inside the day
      ev('incoming_message', 60 * 25), // outside both
    ])
    await database.db.insert(jobs).values([
      { eventId: crypto.randomUUID(), handler: 'h', status: 'queued', attempts: 0 },
      { eventId: crypto.randomUUID(), handler: 'h', status: 'queued', attempts: 3 },
      { eventId: crypto.randomUUID(), handler: 'h', status: 'dead', attempts: 8 },
      { eventId: crypto.randomUUID(), handler: 'h', status: 'done', attempts: 1 },
    ])
  }, 60_000)

  afterAll(async () => {
    await database?.drop()
  })

  test('the last hour: per-minute buckets by type, totals, duplicates, queue, endpoints', async () => {
    const o = await overview(database, 'hour', NOW)
    expect(o.from).toBe('2026-01-01T11:01:00.000Z')
    expect(o.to).toBe('2026-01-01T12:01:00.000Z')
    expect(o.series).toEqual([
      {
        at: '2026-01-01T11:01:00.000Z',
        event: 'send_status',
        events: 1,
        deliveries: 1,
        invalid: 0,
      },
      {
        at: '2026-01-01T11:55:00.000Z',
        event: 'send_status',
        events: 1,
        deliveries: 1,
        invalid: 1,
      },
      {
        at: '2026-01-01T12:00:00.000Z',
        event: 'incoming_message',
        events: 2,
        deliveries: 4,
        invalid: 0,
      },
      {
        at: '2026-01-01T12:00:00.000Z',
        event: 'send_status',
        events: 1,
        deliveries: 1,
        invalid: 0,
      },
    ])
    expect(o.totals).toEqual({
      events: 5,
      deliveries: 7,
      duplicates: 2,
      invalid: 1,
      handler_errors: 1,
    })
    expect(o.duplicate_ratio).toBeCloseTo(2 / 7)
    expect(o.queue).toEqual({ pending: 1, running: 0, retrying: 1, dead: 1 })
    const byId = Object.fromEntries(o.endpoints.map((e) => [e.id, e.last_delivery_at]))
    expect(byId).toEqual({ 'ep-busy': at(0).toISOString(), 'ep-silent': null })
  })

  test('the last day: 15-minute buckets', async () => {
    const o = await overview(database, 'day', NOW)
    expect(o.bucket_seconds).toBe(900)
    expect(o.totals.events).toBe(6)
    expect(o.series[0]).toEqual({
      at: '2026-01-01T10:45:00.000Z',
      event: 'incoming_message',
      events: 1,
      deliveries: 1,
      invalid: 0,
    })
  })

  test('GET /v1/overview answers with the schema; a bad range is 400', async () => {
    const app = createAdminApp({
      database,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
    })
    const get = (q: string) =>
      app.handle(
        new Request(`http://localhost/v1/overview${q}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
      )
    const res = await get('?range=day')
    expect(res.status).toBe(200)
    expect(((await res.json()) as { range: string }).range).toBe('day')
    expect((await get('?range=week')).status).toBe(400)
  })

  test.skipIf(driver !== 'postgres')(
    'on many events the series is read from events_received_idx, not the table',
    async () => {
      await database.db.execute(sql`
        insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid, received_at,
          last_received_at)
        select 'ep-busy', 'send_status', 'bulk' || i, '{}'::jsonb, true,
               now() - make_interval(secs => i), now() - make_interval(secs => i)
        from generate_series(1, 50000) as i`)
      await database.db.execute(sql`analyze telehook.events`)
      const plan = await queryRows<{ 'QUERY PLAN': string }>(
        database.db,
        sql`explain select date_bin('60 seconds'::interval, received_at, timestamptz '1970-01-01'),
                 event, count(*), sum(delivery_count), count(*) filter (where not valid)
            from telehook.events
            where received_at >= now() - interval '1 hour' and received_at < now()
            group by 1, 2`,
      )
      const text = plan.map((r) => r['QUERY PLAN']).join('\n')
      expect(text).toContain('events_received_idx')
      expect(text).not.toContain('Seq Scan')
    },
    60_000,
  )
})
