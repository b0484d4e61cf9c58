import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createSimulator } from '@telehook/simulator'
import { type AdminApp, createAdminApp } from './app'
import { importMasterKey } from './crypto'
import { createAdminToken } from './modules/tokens/service'

const TOKEN = 'eden-test-admin-token-0123456789'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const API_KEY = 'eden_key_0123456789_abcdef'

describe.each(TEST_DRIVERS)('Eden client against a running admin app on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let server: ReturnType<typeof Bun.serve>
  let sim: ReturnType<typeof createSimulator>
  let api: ReturnType<typeof treaty<AdminApp>>
  let projectId = ''

  beforeAll(async () => {
    database = await openTestDb(driver)
    sim = createSimulator({ apiKey: API_KEY, projectName: 'Eden project' })
    projectId = sim.projectId
    const app = createAdminApp({
      database,
      publicUrl: 'http://127.0.0.1:8000',
      telerivetApiUrl: 'http://sim.local/v1',
      // Telerivet calls go to the in-process simulator; the admin API itself is on a real socket.
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        sim.fetch(new Request(input, init))) as typeof fetch,
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
    })
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
    api = treaty<AdminApp>(`http://127.0.0.1:${server.port}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
  }, 60_000)

  afterAll(async () => {
    await server?.stop(true)
    await database?.drop()
  })

  test('typed calls: onboard a project, read it back, list events', async () => {
    const created = await api.v1.projects.post({ project_id: projectId, api_key: API_KEY })
    expect(created.status).toBe(201)
    // `data` is typed from the route's response schema: no cast needed to read its fields.
    const name: string | undefined = created.data?.name
    expect(name).toBe('Eden project')

    const one = await api.v1.projects({ id: projectId }).get()
    expect(one.data?.id).toBe(projectId)

    const list = await api.v1.projects.get()
    expect(list.data?.data.map((p) => p.id)).toEqual([projectId])

    const page = await api.v1.events.get({ query: { project_id: projectId, limit: '10' } })
    expect(page.status).toBe(200)
    expect(page.data?.data).toEqual([])
    expect(page.data?.next_cursor).toBeNull()
  })

  test('errors come back typed by status, with the shared error body', async () => {
    const missing = await api.v1.projects({ id: 'PJnope' }).get()
    expect(missing.status).toBe(404)
    expect(missing.error?.value).toMatchObject({ error: { code: 'not_found' } })

    const anonymous = treaty<AdminApp>(`http://127.0.0.1:${server.port}`)
    const refused = await anonymous.v1.projects.get()
    expect(refused.status).toBe(401)
  })

  test('tokens: list and revoke through the client', async () => {
    const { id } = await createAdminToken(database, 'eden')
    const listed = await api.v1.tokens.get()
    expect(listed.data?.data.map((t) => t.id)).toContain(id)
    const revoked = await api.v1.tokens({ id }).delete()
    expect(revoked.data).toEqual({ id, revoked: true })
    const again = await api.v1.tokens({ id }).delete()
    expect(again.status).toBe(404)
  })

  test('the client is checked at compile time', () => {
    // Wrong field types are compile errors (bun test does not typecheck; `bun run typecheck` does).
    const typed = () =>
      // @ts-expect-error api_key must be a string
      api.v1.projects.post({ project_id: 'PJx', api_key: 5 })
    expect(typeof typed).toBe('function')
  })
})
