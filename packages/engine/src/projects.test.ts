import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { contacts, events, messageStatusHistory, messages, projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { and, asc, eq } from 'drizzle-orm'
import { form, incomingMessage, SECRET, sendStatus } from './fixtures'
import {
  createEndpoint,
  createEngine,
  type Endpoint,
  type Engine,
  ensureSingleEndpoint,
  replayEvent,
} from './index'

for (const driver of TEST_DRIVERS) {
  describe(`projects on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let engine: Engine
    let a: Endpoint
    let b: Endpoint

    beforeAll(async () => {
      database = await openTestDb(driver)
      engine = createEngine({ database })
      await database.db.insert(projects).values([
        { id: 'PJA', name: 'A' },
        { id: 'PJB', name: 'B' },
      ])
      a = await createEndpoint(database, { kind: 'project', projectId: 'PJA', secret: 'secret-a' })
      b = await createEndpoint(database, { kind: 'project', projectId: 'PJB', secret: SECRET })
    })
    afterAll(() => database?.drop())

    const messageOf = async (projectId: string, id: string) =>
      (
        await database.db
          .select()
          .from(messages)
          .where(and(eq(messages.projectId, projectId), eq(messages.id, id)))
      )[0]

    test("holding only A's secret, a send_status naming B's message and project leaves B's message alone", async () => {
      await engine.ingest(
        b,
        sendStatus('SMB1', 'sent', { project_id: 'PJB', content: 'real', to_number: '+1555' }),
      )
      const before = await messageOf('PJB', 'SMB1')
      expect(before?.content).toBe('real')

      // Only A's secret authenticates A's endpoint; the payload claims project B.
      expect(await engine.authenticate(a.id, 'secret-a')).toEqual(a)
      const forged = await engine.ingest(
        a,
        sendStatus('SMB1', 'delivered', {
          project_id: 'PJB',
          content: 'forged',
          to_number: '+1999',
          error_message: 'x',
        }),
      )
      expect(forged.outcome).toBe('stored')
      const [row] = await database.db.select().from(events).where(eq(events.id, forged.eventId))
      expect(row?.flag).toBe('project_mismatch')
      expect(row?.projectId).toBe('PJA')
      expect(row?.payload.project_id).toBe('PJB') // the payload is kept as sent

      const after = await messageOf('PJB', 'SMB1')
      expect(after?.content).toBe('real')
      expect(after?.status).toBe('sent')
      expect(after?.toNumber).toBe('+1555')
      expect(after?.errorMessage).toBeNull()
      const history = await database.db
        .select({ status: messageStatusHistory.status })
        .from(messageStatusHistory)
        .where(eq(messageStatusHistory.messageId, 'SMB1'))
      expect(history.map((h) => h.status)).toEqual(['sent'])
      expect(await messageOf('PJA', 'SMB1')).toBeUndefined()

      // A replay of the flagged event keeps it out of the mirror too.
      expect(await replayEvent(database, forged.eventId)).toEqual({ jobs: 0, applied: false })
      expect((await messageOf('PJB', 'SMB1'))?.content).toBe('real')
    })

    test('the same Telerivet id in two projects makes two rows, each with its own history', async () => {
      // No project_id in the payload: the endpoint's project is the row's.
      await engine.ingest(a, sendStatus('SMB1', 'queued', { project_id: undefined, content: 'a' }))
      const mine = await messageOf('PJA', 'SMB1')
      expect(mine?.content).toBe('a')
      expect(mine?.status).toBe('queued')
      expect((await messageOf('PJB', 'SMB1'))?.content).toBe('real')
      const history = await database.db
        .select({ projectId: messageStatusHistory.projectId, status: messageStatusHistory.status })
        .from(messageStatusHistory)
        .where(eq(messageStatusHistory.messageId, 'SMB1'))
        .orderBy(asc(messageStatusHistory.id))
      expect(history).toEqual([
        { projectId: 'PJB', status: 'sent' },
        { projectId: 'PJA', status: 'queued' },
      ])
    })

    test("contacts and broadcasts: another project's payload is flagged; the own project's is keyed by it", async () => {
      await engine.ingest(b, incomingMessage('SMB2', { project_id: 'PJB', contact_id: 'CTX' }))
      const forged = await engine.ingest(
        a,
        form({ event: 'contact_update', id: 'CTX', project_id: 'PJB', name: 'Mallory' }),
      )
      const [row] = await database.db.select().from(events).where(eq(events.id, forged.eventId))
      expect(row?.flag).toBe('project_mismatch')
      const rows = await database.db.select().from(contacts).where(eq(contacts.id, 'CTX'))
      expect(rows.map((c) => [c.projectId, c.name])).toEqual([['PJB', 'Ada']])

      await engine.ingest(a, form({ event: 'send_broadcast', id: 'BCX', project_id: 'PJA' }))
      await engine.ingest(b, form({ event: 'send_broadcast', id: 'BCX', content: 'b' }))
      const own = await database.db.select().from(events).where(eq(events.telerivetId, 'BCX'))
      expect(own.map((e) => e.flag)).toEqual([null, null])
    })

    test('singleEndpoint: false refuses the single-project endpoint whatever its secret', async () => {
      const single = await ensureSingleEndpoint(database, 'single-secret')
      expect(await engine.authenticate(single.id, 'single-secret')).toEqual(single)
      const off = createEngine({ database, singleEndpoint: false })
      expect(await off.authenticate(single.id, 'single-secret')).toBeNull()
      expect(await off.authenticate(a.id, 'secret-a')).toEqual(a)
    })
  })
}
