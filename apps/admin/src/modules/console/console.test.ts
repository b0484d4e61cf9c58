import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { consoleSessions, events } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'
import { createAdminApp } from '../../app'
import { importMasterKey } from '../../crypto'
import { createAdminToken } from '../tokens/service'
import { CSS, SCRIPT } from './assets'
import { escapeHtml } from './html'
import { parseUtc } from './queries'

const TOKEN = 'console-test-admin-token-0123456'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

test('escapeHtml escapes what can break out of text or a quoted attribute', () => {
  expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
    '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  )
})

test('filter times without a zone are UTC; others as written; nonsense is null', () => {
  expect(parseUtc('2026-01-31')?.toISOString()).toBe('2026-01-31T00:00:00.000Z')
  expect(parseUtc('2026-01-31T14:00')?.toISOString()).toBe('2026-01-31T14:00:00.000Z')
  expect(parseUtc('2026-01-31 14:00:05')?.toISOString()).toBe('2026-01-31T14:00:05.000Z')
  expect(parseUtc('2026-01-31T14:00:00+02:00')?.toISOString()).toBe('2026-01-31T12:00:00.000Z')
  expect(parseUtc('yesterday')).toBeNull()
  expect(parseUtc('')).toBeUndefined()
})

describe.each(TEST_DRIVERS)('console over app.handle on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let app: ReturnType<typeof createAdminApp>
  const h = (path: string, init: RequestInit = {}) =>
    app.handle(new Request(`http://localhost${path}`, init))

  async function signIn(token = TOKEN, next?: string) {
    const body = new URLSearchParams({ token, ...(next ? { next } : {}) })
    return h('/console/sign-in', { method: 'POST', headers: FORM, body: String(body) })
  }
  async function session() {
    const res = await signIn()
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const page = await (await h('/console/jobs', { headers: { cookie } })).text()
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
    return { cookie, csrf }
  }

  beforeAll(async () => {
    database = await openTestDb(driver)
    app = createAdminApp({
      database,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
      metrics: () =>
        [
          'telehook_webhook_deliveries_total{event="incoming_message",outcome="stored"} 7',
          'telehook_webhook_deliveries_total{event="incoming_message",outcome="forbidden"} 5',
          'telehook_webhook_deliveries_total{event="none",outcome="unavailable"} 2',
        ].join('\n'),
    })
  }, 60_000)

  test('the overview shows the webhook answers by status class from the metrics', async () => {
    const { cookie } = await session()
    const page = await (await h('/', { headers: { cookie } })).text()
    const cards = [...page.matchAll(/<div class="label">([^<]+)<\/div><div class="value">(\d+)</g)]
    const byLabel = Object.fromEntries(cards.map((m) => [m[1], Number(m[2])]))
    expect(byLabel['2xx (stored or duplicate)']).toBe(7)
    expect(byLabel['4xx (refused)']).toBe(5)
    expect(byLabel['5xx (not stored, Telerivet retries)']).toBe(2)
  })

  afterAll(async () => {
    await database?.drop()
  })

  test('a live log ends when the process begins to stop (deps.stopping), not at the drain', async () => {
    const stopping = new AbortController()
    const stoppable = createAdminApp({
      database,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
      stopping: stopping.signal,
    })
    const { cookie } = await session()
    const res = await stoppable.handle(
      new Request('http://localhost/console/events/stream', { headers: { cookie } }),
    )
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toContain(': connected')
    const next = reader.read()
    const within = (ms: number) =>
      Promise.race([next, Bun.sleep(ms).then(() => 'still open' as const)])
    // Open while nothing stops it (the next ping is 5 s away) ...
    expect(await within(300)).toBe('still open')
    stopping.abort()
    // ... and ended at once when the stop begins.
    expect(await within(2000)).toEqual({ done: true, value: undefined })
  })

  test('without a session: pages redirect to the sign-in form, actions get 401', async () => {
    const root = await h('/')
    expect(root.status).toBe(303)
    expect(root.headers.get('location')).toBe('/console/sign-in')
    const jobs = await h('/console/jobs?state=dead')
    expect(jobs.headers.get('location')).toBe(
      '/console/sign-in?next=%2Fconsole%2Fjobs%3Fstate%3Ddead',
    )
    expect((await h('/console/jobs/1/retry', { method: 'POST' })).status).toBe(401)
    expect((await h('/console/no-such-page')).status).toBe(303)
    // The sign-in form and the assets are public.
    expect((await h('/console/sign-in')).status).toBe(200)
    expect((await h('/console/assets/console.css')).status).toBe(200)
    // A bearer token does not open the console; a session does not open the JSON API.
    const bearer = { authorization: `Bearer ${TOKEN}` }
    expect((await h('/console/jobs', { headers: bearer })).status).toBe(303)
    const { cookie } = await session()
    expect((await h('/v1/jobs', { headers: { cookie } })).status).toBe(401)
  })

  test('sign-in: a wrong token is 401 with no cookie; the right one sets a strict HttpOnly cookie', async () => {
    const bad = await signIn('wrong-token')
    expect(bad.status).toBe(401)
    expect(bad.headers.get('set-cookie')).toBeNull()
    expect(await bad.text()).toContain('That token is not valid.')
    const good = await signIn(TOKEN, '/console/jobs')
    expect(good.status).toBe(303)
    expect(good.headers.get('location')).toBe('/console/jobs')
    const cookie = good.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(
      /^telehook_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    )
    // Only the hash of the cookie is stored.
    const value = cookie.split(';')[0]?.split('=')[1] ?? ''
    const rows = await database.db.select().from(consoleSessions)
    expect(rows.some((r) => r.idHash === value)).toBe(false)
    expect(rows.length).toBeGreaterThan(0)
  })

  test('a token made with `telehook token create` signs in too; next never leaves the console', async () => {
    const { token } = await createAdminToken(database, 'ops')
    for (const next of ['//evil.example/', 'https://evil.example/', '/v1/projects', '/\\evil']) {
      const res = await signIn(token, next)
      expect({ next, location: res.headers.get('location') }).toEqual({ next, location: '/' })
    }
  })

  test('with a session every page renders; values are escaped', async () => {
    const { cookie } = await session()
    await database.db.insert(events).values({
      endpointId: 'default',
      event: 'incoming_message',
      dedupeKey: 'xss',
      payload: { content: '<script>alert(1)</script>', from_number: '+1555' },
      valid: true,
    })
    for (const path of [
      '/',
      '/?range=day',
      '/console/events',
      '/console/events?valid=false&event=send_status',
      '/console/conversations?phone=555',
      '/console/jobs?state=dead',
      '/console/projects',
    ]) {
      const res = await h(path, { headers: { cookie } })
      expect({ path, status: res.status }).toEqual({ path, status: 200 })
      const body = await res.text()
      expect(body).not.toContain('<script>alert(1)')
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
    const list = await (await h('/console/events', { headers: { cookie } })).text()
    expect(list).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect((await h('/console/events?cursor=garbage', { headers: { cookie } })).status).toBe(400)
    expect((await h('/console/events?since=soon', { headers: { cookie } })).status).toBe(400)
    const future = await (
      await h('/console/events?since=2999-01-01', { headers: { cookie } })
    ).text()
    expect(future).toContain('No events match.')
    const past = await (await h('/console/events?until=2999-01-01', { headers: { cookie } })).text()
    expect(past).toContain('&lt;script&gt;alert(1)')
  })

  test('an action without the CSRF token, or with a wrong one, is refused with 403', async () => {
    const { cookie, csrf } = await session()
    expect(csrf.length).toBeGreaterThan(20)
    const post = (body: string, headers: Record<string, string> = {}) =>
      h('/console/jobs/retry-dead', {
        method: 'POST',
        headers: { ...FORM, cookie, ...headers },
        body,
      })
    expect((await post('handler=x')).status).toBe(403)
    expect((await post('handler=x&csrf=nope')).status).toBe(403)
    expect((await post('handler=x', { 'x-csrf-token': 'nope' })).status).toBe(403)
    const ok = await post(`handler=x&csrf=${csrf}`)
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toContain('done=')
    expect((await post('handler=x', { 'x-csrf-token': csrf })).status).toBe(303)
    // Another session's token is no good for this one.
    const other = await session()
    expect((await post(`handler=x&csrf=${other.csrf}`)).status).toBe(403)
  })

  test('signing out ends the session everywhere; an expired session is refused', async () => {
    const { cookie, csrf } = await session()
    const out = await h('/console/sign-out', {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: `csrf=${csrf}`,
    })
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
    expect((await h('/', { headers: { cookie } })).status).toBe(303)
    const again = await session()
    await database.db.execute(
      sql`update telehook.console_sessions set expires_at = now() - interval '1 second'`,
    )
    expect((await h('/', { headers: { cookie: again.cookie } })).status).toBe(303)
  })

  test('the first page is well under 150 KB, with a full day of every event type', async () => {
    await database.db.execute(sql`
      insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid, received_at,
        last_received_at)
      select 'default', e, 'size' || i || e, '{}'::jsonb, true,
             now() - make_interval(mins => i), now() - make_interval(mins => i)
      from generate_series(0, 1439, 7) as i,
           unnest(array['incoming_message','send_status','send_broadcast','contact_update',
                        'message_metadata','other_type']) as e`)
    const { cookie } = await session()
    const page = await (await h('/?range=day', { headers: { cookie } })).text()
    const hour = await (await h('/', { headers: { cookie } })).text()
    const bytes = (s: string) => new TextEncoder().encode(s).length
    const total = Math.max(bytes(page), bytes(hour)) + bytes(CSS) + bytes(SCRIPT)
    expect(total).toBeLessThan(150 * 1024)
  })
})
