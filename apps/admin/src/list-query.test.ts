import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { broadcasts, contacts, messageStatusHistory, messages } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createAdminApp } from './app'
import { importMasterKey } from './crypto'

const TOKEN = 'list-test-admin-token-0123456789'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const T0 = Date.parse('2026-01-01T00:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000)

describe.each(TEST_DRIVERS)('list routes of the mirror on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let app: ReturnType<typeof createAdminApp>

  async function list(
    path: string,
  ): Promise<{ status: number; ids: string[]; next: string | null }> {
    const res = await app.handle(
      new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    )
    const body = (await res.json()) as { data?: { id: string }[]; next_cursor?: string | null }
    return {
      status: res.status,
      ids: (body.data ?? []).map((r) => r.id),
      next: body.next_cursor ?? null,
    }
  }

  /** Every page of a list, following next_cursor. */
  async function all(path: string, limit: number): Promise<string[]> {
    const ids: string[] = []
    let cursor: string | null = null
    do {
      const sep = path.includes('?') ? '&' : '?'
      const page = await list(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.status).toBe(200)
      ids.push(...page.ids)
      cursor = page.next
    } while (cursor)
    return ids
  }

  beforeAll(async () => {
    database = await openTestDb(driver)
    app = createAdminApp({
      database,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
    })
    await database.db.insert(messages).values([
      {
        projectId: 'PJa',
        id: 'SM1',
        direction: 'incoming',
        status: 'received',
        contactId: 'CT1',
        content: 'Hello 100% sure',
        timeCreated: at(1),
      },
      {
        projectId: 'PJa',
        id: 'SM2',
        direction: 'outgoing',
        status: 'delivered',
        contactId: 'CT1',
        content: 'Hi there',
        timeCreated: at(2),
      },
      {
        projectId: 'PJa',
        id: 'SM3',
        direction: 'outgoing',
        status: 'failed',
        contactId: 'CT2',
        content: 'Your code',
        timeCreated: at(3),
      },
      // Same id in another project, same time: the key (project, id) keeps them apart.
      {
        projectId: 'PJb',
        id: 'SM3',
        direction: 'incoming',
        status: 'received',
        contactId: 'CT9',
        content: 'hello again',
        timeCreated: at(3),
      },
      {
        projectId: 'PJb',
        id: 'SM4',
        direction: 'incoming',
        status: 'received',
        contactId: 'CT9',
        content: 'x_y',
        timeCreated: at(4),
      },
    ])
    await database.db.insert(contacts).values([
      { projectId: 'PJa', id: 'CT1', name: 'Amina Diallo', phoneNumber: '+1 (555) 010-7788' },
      { projectId: 'PJa', id: 'CT2', name: 'Bob', phoneNumber: '+15550002222' },
      { projectId: 'PJb', id: 'CT9', name: 'Amina B', phoneNumber: '+447700900123' },
    ])
    await database.db.insert(broadcasts).values([
      { projectId: 'PJa', id: 'BC1', status: 'complete', timeCreated: at(10) },
      { projectId: 'PJa', id: 'BC2', status: 'queued', timeCreated: at(20) },
      { projectId: 'PJb', id: 'BC3', status: 'complete', timeCreated: at(30) },
    ])
  }, 60_000)

  afterAll(async () => {
    await database?.drop()
  })

  test('messages: newest first; every filter; pages cover each row once', async () => {
    expect((await list('/v1/messages')).ids).toEqual(['SM4', 'SM3', 'SM3', 'SM2', 'SM1'])
    expect(await all('/v1/messages', 2)).toEqual(['SM4', 'SM3', 'SM3', 'SM2', 'SM1'])
    expect((await list('/v1/messages?project_id=PJa')).ids).toEqual(['SM3', 'SM2', 'SM1'])
    expect((await list('/v1/messages?contact_id=CT1')).ids).toEqual(['SM2', 'SM1'])
    expect((await list('/v1/messages?direction=outgoing')).ids).toEqual(['SM3', 'SM2'])
    expect((await list('/v1/messages?status=failed')).ids).toEqual(['SM3'])
    expect((await list('/v1/messages?q=HELLO')).ids).toEqual(['SM3', 'SM1'])
    // LIKE's wildcards are taken literally.
    expect((await list('/v1/messages?q=100%25')).ids).toEqual(['SM1'])
    expect((await list('/v1/messages?q=x_y')).ids).toEqual(['SM4'])
    expect((await list('/v1/messages?q=_')).ids).toEqual(['SM4'])
    const range = `since=${at(2).toISOString()}&until=${Math.floor(at(4).getTime() / 1000)}`
    expect((await list(`/v1/messages?${range}`)).ids).toEqual(['SM3', 'SM3', 'SM2'])
    expect((await list('/v1/messages?direction=sideways')).status).toBe(400)
    expect((await list('/v1/messages?since=yesterday')).status).toBe(400)
    expect((await list('/v1/messages?cursor=bm9wZQ')).status).toBe(400)
  })

  test('contacts: by (project, id); phone digits and name; paged', async () => {
    expect(await all('/v1/contacts', 1)).toEqual(['CT1', 'CT2', 'CT9'])
    expect((await list('/v1/contacts?phone=555 0107')).ids).toEqual(['CT1'])
    expect((await list('/v1/contacts?phone=%2B44')).ids).toEqual(['CT9'])
    expect((await list('/v1/contacts?name=amina')).ids).toEqual(['CT1', 'CT9'])
    expect((await list('/v1/contacts?project_id=PJb')).ids).toEqual(['CT9'])
  })

  test('broadcasts: newest first; project, status, time range; paged', async () => {
    expect(await all('/v1/broadcasts', 2)).toEqual(['BC3', 'BC2', 'BC1'])
    expect((await list('/v1/broadcasts?status=complete')).ids).toEqual(['BC3', 'BC1'])
    expect((await list('/v1/broadcasts?project_id=PJa')).ids).toEqual(['BC2', 'BC1'])
    expect((await list(`/v1/broadcasts?since=${at(15).toISOString()}`)).ids).toEqual(['BC3', 'BC2'])
  })

  test('one message or contact by id: 409 when the id is in several projects, project_id picks one', async () => {
    const eventId = '00000000-0000-4000-8000-000000000001'
    await database.db.insert(messageStatusHistory).values([
      { projectId: 'PJa', messageId: 'SM3', status: 'failed', eventId },
      { projectId: 'PJb', messageId: 'SM3', status: 'sent', eventId },
    ])
    const get = async (path: string) => {
      const res = await app.handle(
        new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
      )
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const both = await get('/v1/messages/SM3')
    expect(both.status).toBe(409)
    expect(both.body).toMatchObject({ error: { code: 'ambiguous_id', param: 'project_id' } })
    const a = await get('/v1/messages/SM3?project_id=PJa')
    expect(a.status).toBe(200)
    expect(a.body).toMatchObject({ project_id: 'PJa', content: 'Your code' })
    // the history of PJa's SM3 only, never PJb's
    expect((a.body.status_history as { status: string }[]).map((h) => h.status)).toEqual(['failed'])
    const b = await get('/v1/messages/SM3?project_id=PJb')
    expect((b.body.status_history as { status: string }[]).map((h) => h.status)).toEqual(['sent'])
    expect((await get('/v1/messages/SM1')).status).toBe(200)
    expect((await get('/v1/messages/SM1?project_id=PJb')).status).toBe(404)
    await database.db.insert(contacts).values({ projectId: 'PJb', id: 'CT1', name: 'Other' })
    expect((await get('/v1/contacts/CT1')).status).toBe(409)
    expect((await get('/v1/contacts/CT1?project_id=PJb')).body).toMatchObject({ name: 'Other' })
  })
})
