/** `TELEHOOK_SINGLE_PROJECT=0`: the single-project endpoint is off, also for a `default` row kept from before. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEndpoint, ensureSingleEndpoint, silentLogger } from '@telehook/engine'
import { assembleWebhook, type WebhookParts } from '../src/compose'
import { loadWebhookConfig } from '../src/config'

const SECRET = 'single-project-secret-0123'
const form = (secret: string) =>
  new URLSearchParams({
    event: 'incoming_message',
    id: 'SMsingleoff000001',
    message_type: 'sms',
    direction: 'incoming',
    content: 'hi',
    from_number: '+16505550123',
    to_number: '+16505550100',
    project_id: 'PJsingleoff',
    secret,
  }).toString()

const post = (parts: WebhookParts, path: string, secret: string) =>
  parts.app.handle(
    new Request(`http://localhost${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(secret),
    }),
  )

describe.each(TEST_DRIVERS)('single-project endpoint switch on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let dataDir = ''
  const running: WebhookParts[] = []

  beforeAll(async () => {
    database = await openTestDb(driver)
    dataDir = await mkdtemp(join(tmpdir(), 'telehook-single-'))
    // An earlier run with the endpoint on left its `default` row behind.
    await ensureSingleEndpoint(database, SECRET)
    await database.db.insert(projects).values({ id: 'PJsingleoff', name: 'Single off' })
    await createEndpoint(database, {
      kind: 'project',
      projectId: 'PJsingleoff',
      id: 'ep_single_off_test',
      secret: SECRET,
    })
  }, 60_000)

  afterAll(async () => {
    for (const p of running) await p.stop()
    await database?.drop()
    await rm(dataDir, { recursive: true, force: true })
  })

  test('off: POST /webhook is 404, /hooks/default is 403, a project endpoint still stores', async () => {
    const config = loadWebhookConfig({
      TELEHOOK_SINGLE_PROJECT: '0',
      TELEHOOK_DATA_DIR: dataDir,
    })
    expect(config.singleProject).toBe(false)
    const parts = await assembleWebhook(config, database, {
      handlers: undefined,
      logger: silentLogger,
      worker: false,
    })
    running.push(parts)
    expect(parts.secret).toBeNull()
    expect((await post(parts, '/webhook', SECRET)).status).toBe(404)
    expect((await post(parts, '/hooks/default', SECRET)).status).toBe(403)
    expect((await post(parts, '/hooks/ep_single_off_test', SECRET)).status).toBe(200)
  })

  test('on (the default): POST /webhook stores with the configured secret', async () => {
    const config = loadWebhookConfig({ TELEHOOK_SECRET: SECRET, TELEHOOK_DATA_DIR: dataDir })
    expect(config.singleProject).toBe(true)
    const parts = await assembleWebhook(config, database, {
      handlers: undefined,
      logger: silentLogger,
      worker: false,
    })
    running.push(parts)
    expect((await post(parts, '/webhook', SECRET)).status).toBe(200)
  })

  test('without the single-project endpoint, PostgreSQL needs no TELEHOOK_SECRET', () => {
    const url = 'postgres://root@127.0.0.1:5432/test'
    expect(() => loadWebhookConfig({ DATABASE_URL: url })).toThrow('TELEHOOK_SECRET')
    expect(loadWebhookConfig({ DATABASE_URL: url, TELEHOOK_SINGLE_PROJECT: '0' }).secret).toBe(
      undefined,
    )
  })
})
