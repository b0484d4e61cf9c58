/**
 * @module Retention benchmark: events older than the cutoff deleted per second, in batches, on
 * PGlite and on PostgreSQL, and the time one batch holds its locks. Reported, never asserted.
 * Usage: bun bench/retention.ts [events=20000] [batch=1000]
 */
import { queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'
import { pruneEventsBatch } from '../src/index'

const total = Number(process.argv[2] ?? 20_000)
const batch = Number(process.argv[3] ?? 1000)

for (const driver of TEST_DRIVERS) {
  const database = await openTestDb(driver)
  try {
    // Old events with a realistic payload, a tenth of them with a finished job; as many recent
    // ones, which must stay.
    const payload = JSON.stringify({
      id: 'SMxxxxxxxxxxxxxxxxxxxxxxxx',
      content: 'Hello there, this is a message of ordinary length',
      from_number: '+16505550123',
      to_number: '+16505550100',
      contact: { id: 'CTxxxxxxxxxxxxxxxx', name: 'Ada', vars: { city: 'Nairobi' } },
    })
    await database.db.execute(
      sql`insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid, received_at)
          select 'ep_bench', 'incoming_message', 'old-' || g, ${payload}::jsonb, true,
                 now() - interval '40 days'
          from generate_series(1, ${total}) g`,
    )
    await database.db.execute(
      sql`insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid)
          select 'ep_bench', 'incoming_message', 'new-' || g, ${payload}::jsonb, true
          from generate_series(1, ${total}) g`,
    )
    await database.db.execute(
      sql`insert into telehook.jobs (event_id, handler, status)
          select id, 'incoming_message', 'done' from telehook.events
          where dedupe_key like 'old-%' and random() < 0.1`,
    )
    const cutoff = new Date(Date.now() - 30 * 86_400_000)
    const batchMs: number[] = []
    let deleted = 0
    const started = performance.now()
    for (;;) {
      const t = performance.now()
      const n = await pruneEventsBatch(database, cutoff, batch)
      batchMs.push(performance.now() - t)
      deleted += n
      if (n < batch) break
    }
    const seconds = (performance.now() - started) / 1000
    const [left] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from telehook.events`,
    )
    batchMs.sort((a, b) => a - b)
    const pct = (p: number) => batchMs[Math.min(batchMs.length - 1, Math.floor(batchMs.length * p))]
    console.log(
      `${driver}: deleted ${deleted} of ${total * 2} events (${left?.n} left) in ${seconds.toFixed(2)} s = ${Math.round(deleted / seconds)} rows/s; batch of ${batch}: p50 ${pct(0.5)?.toFixed(0)} ms, max ${pct(1)?.toFixed(0)} ms`,
    )
  } finally {
    await database.drop()
  }
}
