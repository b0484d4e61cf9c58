import { expect, test } from 'bun:test'
import type { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { openDb } from './client'
import { nativeClient } from './native'
import {
  DUE_SQL,
  type MaintenanceTarget,
  maintainOnce,
  startAutovacuum,
} from './pglite-maintenance'
import { queryRows } from './rows'
import { openTestDb, TEST_DRIVERS } from './testing'

for (const driver of TEST_DRIVERS) {
  test(`${driver}: the look-up of due tables runs, and finds nothing due in a new database`, async () => {
    const database = await openTestDb(driver)
    try {
      expect(await queryRows(database.db, sql.raw(DUE_SQL))).toEqual([])
    } finally {
      await database.drop()
    }
  })
}

/** The PGlite instance under a database opened by openDb. */
const pgliteOf = (db: unknown) => (db as { $client: PGlite }).$client

function targetOf(pg: PGlite): MaintenanceTarget {
  return {
    rows: async <T>(q: string) => (await pg.query<T>(q)).rows,
    exec: async (q) => {
      await pg.exec(q)
    },
  }
}

/** Makes the statistics of this session visible now (PostgreSQL flushes them at most once a second). */
async function flushStats(pg: PGlite): Promise<void> {
  await pg.query('select pg_stat_force_next_flush()')
  await pg.query('select 1')
}

const LOOKUP =
  'select 1 from telehook.events t where t.endpoint_id = $1 and t.dedupe_key = $2 limit 1'

/** The plan of the hot path's prepared statement `text`, as PGlite runs it now. */
async function cachedPlan(pg: PGlite, text: string): Promise<string> {
  const [statement] = (
    await pg.query<{ name: string }>(
      'select name from pg_prepared_statements where statement = $1',
      [text],
    )
  ).rows
  if (!statement) throw new Error('not prepared')
  const plan = await pg.query<{ 'QUERY PLAN': string }>(
    `explain execute ${statement.name}('ep', 'k')`,
  )
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n')
}

test('pglite: a statement prepared on an empty table gets a new plan once maintenance has analyzed the table', async () => {
  const database = await openDb({ memory: true, autovacuum: false })
  try {
    const pg = pgliteOf(database.db)
    const native = nativeClient(database.db)
    // Prepared and first run on the empty table, as the ingest path's stored check is.
    expect(await native.query(LOOKUP, ['ep', 'k'])).toEqual([])
    await pg.exec(`insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid)
      select 'ep', 'incoming_message', 'key' || g, '{}', true from generate_series(1, 3000) g`)
    // The plan made on the empty table: the endpoint's index, every row of the endpoint filtered.
    expect(await cachedPlan(pg, LOOKUP)).not.toContain('events_endpoint_dedupe_key')
    await flushStats(pg)
    expect(await maintainOnce(targetOf(pg))).toContain('vacuum (analyze) telehook.events')
    expect(await native.query(LOOKUP, ['ep', 'k'])).toEqual([])
    expect(await cachedPlan(pg, LOOKUP)).toContain('using events_endpoint_dedupe_key')
    // Done once: the counters start again from the analyzed table.
    await flushStats(pg)
    expect(await maintainOnce(targetOf(pg))).not.toContain('vacuum (analyze) telehook.events')
  } finally {
    await database.close()
  }
})

test('pglite: updated rows are vacuumed, a few changes are left alone', async () => {
  const database = await openDb({ memory: true, autovacuum: false })
  try {
    const pg = pgliteOf(database.db)
    await pg.exec(`insert into telehook.endpoints (id, kind, secret_hash)
      select 'ep' || g, 'service', 'h' from generate_series(1, 20) g`)
    await flushStats(pg)
    expect(await maintainOnce(targetOf(pg))).toEqual([])
    await pg.exec(`update telehook.endpoints set name = 'x'`)
    await pg.exec(`update telehook.endpoints set name = 'y'`)
    await pg.exec(`update telehook.endpoints set name = 'z'`)
    await flushStats(pg)
    expect(await maintainOnce(targetOf(pg))).toEqual(['vacuum (analyze) telehook.endpoints'])
    const [row] = (
      await pg.query<{ n: number }>(
        `select n_dead_tup::int as n from pg_stat_user_tables where relname = 'endpoints'`,
      )
    ).rows
    expect(row?.n).toBe(0)
  } finally {
    await database.close()
  }
})

test('pglite: openDb runs the maintenance in the background until close', async () => {
  const runs: string[][] = []
  const database = await openDb({
    memory: true,
    autovacuum: { intervalMs: 20, onRun: (statements) => runs.push(statements) },
  })
  try {
    const pg = pgliteOf(database.db)
    await pg.exec(`insert into telehook.endpoints (id, kind, secret_hash)
      select 'ep' || g, 'service', 'h' from generate_series(1, 200) g`)
    await flushStats(pg)
    while (!runs.flat().includes('analyze telehook.endpoints')) await Bun.sleep(20)
  } finally {
    await database.close()
  }
  const seen = runs.length
  await Bun.sleep(100)
  expect(runs.length).toBe(seen)
})

test('stop() waits for the round in progress, and rounds never overlap', async () => {
  let inRound = 0
  let most = 0
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let rounds = 0
  const autovacuum = startAutovacuum(
    {
      async rows<T>() {
        rounds++
        inRound++
        most = Math.max(most, inRound)
        await gate
        inRound--
        return [{ name: 't', vacuum: false, analyze: true }] as T[]
      },
      exec: async () => {},
    },
    { intervalMs: 5 },
  )
  while (rounds === 0) await Bun.sleep(5)
  await Bun.sleep(30)
  let stopped = false
  const stopping = autovacuum.stop().then(() => {
    stopped = true
  })
  await Bun.sleep(10)
  expect(stopped).toBe(false)
  release()
  await stopping
  expect(most).toBe(1)
  expect(rounds).toBe(1)
})
