import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'
import { createJsonLogger, createRetention, pruneEventsBatch } from './index'

const DAY = 86_400_000

for (const driver of TEST_DRIVERS) {
  describe(`retention on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    beforeAll(async () => {
      database = await openTestDb(driver)
    })
    afterAll(() => database.drop())

    /** An event received `days` ago, with jobs in the given states, and a mirror row. */
    async function stored(key: string, days: number, jobStates: string[] = []): Promise<string> {
      const [row] = await queryRows<{ id: string }>(
        database.db,
        sql`insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid, received_at)
            values ('ep_retention', 'incoming_message', ${key}, '{}'::jsonb, true,
                    now() - ${`${days} days`}::interval)
            returning id`,
      )
      const id = row?.id ?? ''
      for (const status of jobStates) {
        await database.db.execute(
          sql`insert into telehook.jobs (event_id, handler, status) values (${id}, 'incoming_message', ${status})`,
        )
      }
      await database.db.execute(
        sql`insert into telehook.message_status_history (project_id, message_id, status, event_id)
            values ('PJret', ${`SM${key}`}, 'sent', ${id})`,
      )
      return id
    }

    const count = async (table: string) =>
      (
        await queryRows<{ n: number }>(
          database.db,
          sql.raw(`select count(*)::int as n from telehook.${table}`),
        )
      )[0]?.n

    test('deletes old events in batches, keeps recent ones, the mirror and unfinished work', async () => {
      const old = await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((k) => stored(`old-${k}`, 40, k === 'a' ? ['done'] : [])),
      )
      const recent = await stored('recent', 1)
      const queued = await stored('old-queued', 40, ['queued'])
      const dead = await stored('old-dead', 40, ['done', 'dead'])
      const mirrorBefore = await count('message_status_history')

      expect(await pruneEventsBatch(database, new Date(Date.now() - 30 * DAY), 2)).toBe(2)
      const lines: string[] = []
      const retention = createRetention({
        database,
        maxAgeMs: 30 * DAY,
        batchSize: 2,
        pauseMs: 0,
        logger: createJsonLogger((l) => lines.push(l)),
      })
      expect(await retention.runOnce()).toBe(3)
      expect(await retention.runOnce()).toBe(0)

      const left = await queryRows<{ id: string }>(database.db, sql`select id from telehook.events`)
      expect(left.map((r) => r.id).sort()).toEqual([recent, queued, dead].sort())
      for (const id of old) expect(left.map((r) => r.id)).not.toContain(id)
      // The deleted event's finished job went with it; the others' jobs stay.
      const jobStates = await queryRows<{ status: string }>(
        database.db,
        sql`select status from telehook.jobs order by status`,
      )
      expect(jobStates.map((j) => j.status)).toEqual(['dead', 'done', 'queued'])
      expect(await count('message_status_history')).toBe(mirrorBefore)
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ msg: 'retention: old events deleted', deleted: 3 }),
      ])
    })

    test('start runs a round at once; stop waits for it', async () => {
      await stored('old-started', 40)
      let deleted = 0
      const retention = createRetention({
        database,
        maxAgeMs: 30 * DAY,
        logger: {
          info: (o) => {
            deleted += Number(o.deleted)
          },
          warn: () => {},
          error: () => {},
        },
      })
      retention.start()
      while (deleted === 0) await new Promise((r) => setTimeout(r, 10))
      await retention.stop()
      expect(deleted).toBe(1)
    })
  })
}
