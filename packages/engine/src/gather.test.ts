import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { nativeClient, queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { defineHandlers } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import { lockKeysOf, ROW_LOCK_SPACE } from './batch'
import { incomingMessage, SECRET } from './fixtures'
import { createEndpoint, createEngine, type Endpoint } from './index'
import { prepare } from './ingest'
import { createBatcher } from './store'

/** How many transactions stored these messages: rows of one statement share `now()`. */
async function transactionsOf(
  database: Awaited<ReturnType<typeof openTestDb>>,
  ids: string[],
): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    database.db,
    sql`select count(distinct received_at)::int as n from telehook.events
      where telerivet_id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`,
  )
  return Number(rows[0]?.n)
}

for (const driver of TEST_DRIVERS) {
  describe(`gathering a batch on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let endpoint: Endpoint
    beforeAll(async () => {
      database = await openTestDb(driver)
      endpoint = await createEndpoint(database, { kind: 'service', secret: SECRET })
    })
    afterAll(() => database?.drop())

    test('deliveries still on their way share the free slot’s transaction', async () => {
      const gates = new Map<string, () => void>()
      const opened = new Map<string, Promise<void>>()
      for (const id of ['SMG2', 'SMG3']) {
        opened.set(id, new Promise<void>((r) => gates.set(id, r)))
      }
      const handlers = defineHandlers({
        sync: {
          incoming_message: async (event) => {
            await opened.get(event.id)
            return { messages: [{ content: `hi ${event.id}` }] }
          },
        },
      })
      // A minute's gathering: the batch can only go when the last one on the way arrives.
      const engine = createEngine({
        database,
        handlers,
        batch: { maxInflight: 1, gatherMs: 60_000 },
      })
      const all = ['SMG1', 'SMG2', 'SMG3'].map((id) => engine.ingest(endpoint, incomingMessage(id)))
      await Bun.sleep(50)
      gates.get('SMG2')?.()
      await Bun.sleep(50)
      gates.get('SMG3')?.()
      const results = await Promise.all(all)
      expect(results.map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored'])
      expect(results.map((r) => r.reply)).toEqual(
        ['SMG1', 'SMG2', 'SMG3'].map((id) => ({ messages: [{ content: `hi ${id}` }] })),
      )
      // Without gathering SMG1 took the free slot alone, 100 ms before the others.
      expect(await transactionsOf(database, ['SMG1', 'SMG2', 'SMG3'])).toBe(1)
      expect(engine.batchStats?.batches).toBe(1)
    })

    test('a delivery with none on its way is stored at once', async () => {
      const engine = createEngine({ database, batch: { gatherMs: 60_000 } })
      // The test's 5 s limit would stop a delivery waiting for the minute.
      expect((await engine.ingest(endpoint, incomingMessage('SMG4'))).outcome).toBe('stored')
    })

    test('one that fails on its way, or never comes, does not hold the others', async () => {
      const items = async (id: string) => ({
        endpoint,
        prepared: await prepare(endpoint, incomingMessage(id)),
        reply: null,
        handlerError: null,
      })
      const long = createBatcher(database.db, new Set(), {
        maxSize: 64,
        maxInflight: 1,
        gatherMs: 60_000,
        lock: database.driver === 'postgres',
      })
      const [a, b] = [long.announce(), long.announce()]
      const storing = a.store(await items('SMG5'))
      // b gives up on its way (a failed handler deadline, a bad form…): a goes without it.
      b.drop()
      b.drop()
      expect((await storing).inserted).toBe(true)

      const short = createBatcher(database.db, new Set(), {
        maxSize: 64,
        maxInflight: 1,
        gatherMs: 30,
        lock: database.driver === 'postgres',
      })
      const [c] = [short.announce(), short.announce()]
      // The second one never comes: c waits no longer than gatherMs.
      expect((await c?.store(await items('SMG6')))?.inserted).toBe(true)
    })

    // Two slots exist on PostgreSQL only (PGlite runs one statement at a time).
    test.skipIf(driver !== 'postgres')(
      'with one slot held, the free slot takes everything waiting',
      async () => {
        const native = nativeClient(database.db)
        const engine = createEngine({ database, batch: { maxInflight: 2, gatherMs: 60_000 } })
        // A transaction elsewhere holds the row lock of SMH0: its batch waits in its slot.
        const [key] = lockKeysOf({
          endpoint,
          prepared: await prepare(endpoint, incomingMessage('SMH0')),
          reply: null,
          handlerError: null,
        })
        let release = () => {}
        const held = new Promise<void>((r) => {
          release = r
        })
        let locked = () => {}
        const isLocked = new Promise<void>((r) => {
          locked = r
        })
        const holder = native.transaction(async (q) => {
          await q('select pg_advisory_xact_lock($1, hashtext($2))', [ROW_LOCK_SPACE, key])
          locked()
          await held
        })
        await isLocked
        const blocked = engine.ingest(endpoint, incomingMessage('SMH0'))
        try {
          await Bun.sleep(50)
          // Four more arrive together while that slot is busy: the one free slot takes all four
          // (taking half left two waiting for a slot until the lock was released).
          const ids = ['SMH1', 'SMH2', 'SMH3', 'SMH4']
          const more = await Promise.all(
            ids.map((id) => engine.ingest(endpoint, incomingMessage(id))),
          )
          expect(more.map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored', 'stored'])
          expect(await transactionsOf(database, ids)).toBe(1)
        } finally {
          release()
          await holder
        }
        expect((await blocked).outcome).toBe('stored')
      },
    )
  })
}
