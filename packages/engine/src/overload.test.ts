import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { defineHandlers } from '@telehook/protocol'
import { incomingMessage, SECRET } from './fixtures'
import { createEndpoint, createEngine, type Endpoint, OverloadedError } from './index'

for (const driver of TEST_DRIVERS) {
  describe(`overload on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let endpoint: Endpoint
    beforeAll(async () => {
      database = await openTestDb(driver)
      endpoint = await createEndpoint(database, { kind: 'service', secret: SECRET })
    })
    afterAll(() => database?.drop())

    test('past maxPending, ingest refuses at once; the waiting ones are stored', async () => {
      let release = () => {}
      const gate = new Promise<void>((r) => {
        release = r
      })
      const handlers = defineHandlers({
        sync: {
          incoming_message: async () => {
            await gate
          },
        },
      })
      const engine = createEngine({ database, handlers, maxPending: 3 })
      const waiting = ['SMW1', 'SMW2', 'SMW3'].map((id) =>
        engine.ingest(endpoint, incomingMessage(id)),
      )
      // The handlers hold three deliveries inside ingest: a fourth is refused without waiting.
      const refused = await engine.ingest(endpoint, incomingMessage('SMW4')).catch((e) => e)
      expect(refused).toBeInstanceOf(OverloadedError)
      release()
      const stored = await Promise.all(waiting)
      expect(stored.map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored'])
      // Room again: the refused delivery, retried, is stored.
      expect((await engine.ingest(endpoint, incomingMessage('SMW4'))).outcome).toBe('stored')
    })
  })
}
