/**
 * The hot path's look-up of stored deliveries keeps an index probe of `events` as the table grows
 * from empty. A statement prepared once has its plan cached: PostgreSQL (and PGlite, which is
 * PostgreSQL) switches to a generic plan after five runs, and one made while `events` was empty
 * probes it with a sequential scan until the next ANALYZE — 2 ms a look-up at 10 000 rows.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type NativeQuery, nativeClient } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createStoredCheck, STORED_SQL } from './batch'

const KEY = '[{"o":0,"e":"default","d":"x"}]'

setDefaultTimeout(60_000)

/** The part of a postgres.js reserved connection used here (the engine does not depend on it). */
interface Reserved {
  unsafe(text: string, params: never[], options: { prepare: boolean }): Promise<unknown>
  release(): void
}

for (const driver of TEST_DRIVERS) {
  describe(`stored check on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let reserved: Reserved | null = null
    /** One connection for everything, so that its cached plans can be read back. */
    let query: NativeQuery
    beforeAll(async () => {
      database = await openTestDb(driver)
      if (driver === 'postgres') {
        const sql = (database.db as unknown as { $client: { reserve(): Promise<Reserved> } })
          .$client
        reserved = await sql.reserve()
        const on = reserved
        query = (<T>(text: string, params: readonly unknown[], options?: { prepare?: boolean }) =>
          on.unsafe(text, params as never[], {
            prepare: options?.prepare ?? true,
          }) as unknown as Promise<T[]>) as NativeQuery
      } else {
        query = nativeClient(database.db).query
      }
    })
    afterAll(async () => {
      reserved?.release()
      await database?.drop()
    })

    test('no plan cached while events was empty scans it once it has grown', async () => {
      const isStored = createStoredCheck(query, { maxInflight: 1, maxSize: 16, firstReplanAt: 64 })
      // Past the five custom plans after which a prepared statement may keep a generic one.
      for (let i = 0; i < 8; i++) expect(await isStored('default', `k${i}`)).toBe(false)
      const before = isStored.generation
      await query(
        `insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid)
         select 'default', 'incoming_message', 'incoming_message:SM' || g, '{}', true
         from generate_series(1, 5000) g`,
        [],
      )
      // The engine reports every event it stores; here the table grew behind its back.
      isStored.grew(5000)
      expect(isStored.generation).toBeGreaterThan(before)
      expect(await isStored('default', 'incoming_message:SM4321')).toBe(true)
      expect(await isStored('default', 'incoming_message:SM9999')).toBe(false)
      // The look-up probes the unique index with both columns (not a scan of every row of the
      // endpoint through another index, nor of the table)…
      const probe = 'Index Cond: ((endpoint_id = k.e) AND (dedupe_key = k.d))'
      const fresh = await query<{ 'QUERY PLAN': string }>(
        `explain (costs off) ${STORED_SQL.replace('$1', `'${KEY}'`)}`,
        [],
        { prepare: false },
      )
      expect(fresh.map((r) => r['QUERY PLAN']).join('\n')).toContain(probe)
      // …and so does the plan of it that this connection keeps cached and uses now (the text
      // of the latest generation); earlier generations, planned on the empty table, are unused.
      const held = await query<{ name: string; statement: string }>(
        'select name, statement from pg_prepared_statements',
        [],
        { prepare: false },
      )
      const mine = held.filter((h) => h.statement.startsWith(STORED_SQL))
      const current = mine.find((h) => h.statement.endsWith(`-- plan ${isStored.generation}`))
      expect(current).toBeDefined()
      const plan = await query<{ 'QUERY PLAN': string }>(
        `explain (costs off) execute "${current?.name}"('${KEY}')`,
        [],
        { prepare: false },
      )
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain(probe)
    })
  })
}
