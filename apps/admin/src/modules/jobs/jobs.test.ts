import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { jobs } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createWorker } from '@telehook/engine'
import { defineHandlers } from '@telehook/protocol'
import { eq } from 'drizzle-orm'
import { createAdminApp } from '../../app'
import { importMasterKey } from '../../crypto'

const TOKEN = 'jobs-test-admin-token-0123456789'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const EVENT = '00000000-0000-4000-8000-000000000001'

describe.each(TEST_DRIVERS)('jobs routes on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let app: ReturnType<typeof createAdminApp>
  const ids = { pending: 0, retrying: 0, running: 0, dead1: 0, dead2: 0, dead3: 0, done: 0 }

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }),
    )
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    database = await openTestDb(driver)
    app = createAdminApp({
      database,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
    })
    const rows: (Omit<typeof jobs.$inferInsert, 'eventId'> & { name: keyof typeof ids })[] = [
      { name: 'pending', handler: 'incoming_message', status: 'queued', attempts: 0 },
      {
        name: 'retrying',
        handler: 'incoming_message',
        status: 'queued',
        attempts: 2,
        lastError: 'x',
      },
      { name: 'running', handler: 'send_status', status: 'running', attempts: 1 },
      {
        name: 'dead1',
        handler: 'incoming_message',
        status: 'dead',
        attempts: 8,
        lastError: 'boom',
      },
      {
        name: 'dead2',
        handler: 'incoming_message',
        status: 'dead',
        attempts: 8,
        lastError: 'boom',
      },
      { name: 'dead3', handler: 'send_status', status: 'dead', attempts: 8, lastError: 'boom' },
      { name: 'done', handler: 'send_status', status: 'done', attempts: 1 },
    ]
    for (const { name, ...row } of rows) {
      const [r] = await database.db
        .insert(jobs)
        .values({ ...row, eventId: EVENT })
        .returning({ id: jobs.id })
      ids[name] = r?.id ?? 0
    }
  }, 60_000)

  afterAll(async () => {
    await database?.drop()
  })

  test('lists by state, handler and event; pages with a cursor', async () => {
    const state = async (s: string) =>
      ((await call('GET', `/v1/jobs?state=${s}`)).json.data as { id: number }[]).map((j) => j.id)
    expect(await state('pending')).toEqual([ids.pending])
    expect(await state('retrying')).toEqual([ids.retrying])
    expect(await state('running')).toEqual([ids.running])
    expect(await state('dead')).toEqual([ids.dead3, ids.dead2, ids.dead1])
    const byHandler = await call('GET', '/v1/jobs?state=dead&handler=send_status')
    expect((byHandler.json.data as { id: number; state: string }[]).map((j) => j.id)).toEqual([
      ids.dead3,
    ])
    const first = await call('GET', `/v1/jobs?limit=4&event_id=${EVENT}`)
    expect((first.json.data as unknown[]).length).toBe(4)
    const second = await call('GET', `/v1/jobs?limit=4&cursor=${first.json.next_cursor}`)
    expect((second.json.data as unknown[]).length).toBe(3)
    expect(second.json.next_cursor).toBeNull()
    expect((await call('GET', '/v1/jobs?state=sleeping')).status).toBe(400)
    expect((await call('GET', '/v1/jobs?cursor=abc')).status).toBe(400)
  })

  test('retry: a dead job is queued with fresh attempts; others are refused', async () => {
    const r = await call('POST', `/v1/jobs/${ids.dead1}/retry`)
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ id: ids.dead1, state: 'pending', attempts: 0 })
    expect((await call('POST', `/v1/jobs/${ids.pending}/retry`)).json).toMatchObject({
      error: { code: 'not_dead' },
    })
    expect((await call('POST', `/v1/jobs/${ids.done}/retry`)).status).toBe(409)
    expect((await call('POST', '/v1/jobs/999999/retry')).status).toBe(404)
    expect((await call('POST', '/v1/jobs/0/retry')).status).toBe(400)
  })

  test('retry-dead retries every dead job of one handler only', async () => {
    const r = await call('POST', '/v1/jobs/retry-dead', { handler: 'incoming_message' })
    expect(r).toEqual({ status: 200, json: { retried: 1 } })
    const [other] = await database.db.select().from(jobs).where(eq(jobs.id, ids.dead3))
    expect(other?.status).toBe('dead')
    expect((await call('POST', '/v1/jobs/retry-dead', {})).status).toBe(400)
  })

  test('cancel: a waiting job is cancelled and no worker runs it; a running one is not', async () => {
    expect((await call('POST', `/v1/jobs/${ids.retrying}/cancel`)).json).toMatchObject({
      state: 'cancelled',
    })
    expect((await call('POST', `/v1/jobs/${ids.running}/cancel`)).status).toBe(409)
    // A worker claims the three due incoming_message jobs (pending, two retried), not the cancelled one.
    const worker = createWorker({
      database,
      handlers: defineHandlers({ async: { incoming_message: () => {} } }),
      concurrency: 10,
    })
    expect(await worker.runOnce()).toBe(3)
    const [cancelled] = await database.db.select().from(jobs).where(eq(jobs.id, ids.retrying))
    expect(cancelled?.status).toBe('cancelled')
  })

  test('the routes are in the OpenAPI document', async () => {
    const doc = (await (await app.handle(new Request('http://localhost/docs/json'))).json()) as {
      paths: Record<string, unknown>
    }
    for (const p of [
      '/v1/jobs',
      '/v1/jobs/{id}/retry',
      '/v1/jobs/{id}/cancel',
      '/v1/jobs/retry-dead',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p)
    }
  })
})
