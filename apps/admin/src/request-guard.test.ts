import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createJsonLogger } from '@telehook/engine'
import { routerPath } from '@telehook/engine/request-guard'
import { createAdminApp } from './app'
import { importMasterKey } from './crypto'
import { defaultAllowedHosts, inspectRequest, isConsolePath } from './request-guard'

const TOKEN = 'guard-test-admin-token-0123456789'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))

/** Sends raw bytes (no client-side normalisation) and returns the status code and body. */
function rawRequest(port: number, raw: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(raw))
    socket.setEncoding('utf8')
    socket.on('data', (d) => {
      buf += d
    })
    socket.on('error', reject)
    socket.on('close', () => {
      const status = Number(buf.slice(9, 12))
      resolve({ status, body: buf.slice(buf.indexOf('\r\n\r\n') + 4) })
    })
  })
}

const get = (path: string, headers: string[] = []) =>
  `GET ${path} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`

describe('routerPath matches what Elysia routes on', () => {
  test('the substring after the first slash past the scheme and a short Host', () => {
    expect(routerPath('http://a/xxx/v1/projects')).toBe('/v1/projects')
    expect(routerPath('http://admin.local/v1/projects?x=1')).toBe('/v1/projects')
    expect(routerPath('http://localhost//v1/x')).toBe('//v1/x')
  })

  test('a request whose router path and URL path differ is refused before auth', () => {
    const v = inspectRequest(new Request('http://a/xxx/v1/projects'), '*')
    expect(v).toMatchObject({ kind: 'refuse', status: 400, code: 'ambiguous_path' })
  })

  test('console paths: `/` and `/console/…` only; public ones are exact', () => {
    for (const p of ['/', '/console/', '/console/jobs', '/console/events/stream']) {
      expect({ p, console: isConsolePath(p) }).toEqual({ p, console: true })
    }
    for (const p of ['/v1/jobs', '/console', '/consolex', '//console/jobs', '/docs']) {
      expect({ p, console: isConsolePath(p) }).toEqual({ p, console: false })
    }
    const at = (path: string) => inspectRequest(new Request(`http://localhost${path}`), '*')
    expect(at('/console/sign-in')).toMatchObject({ kind: 'ok', public: true, console: false })
    expect(at('/console/sign-in/x')).toMatchObject({ kind: 'ok', public: false, console: true })
    expect(at('/console/jobs')).toMatchObject({ kind: 'ok', public: false, console: true })
    expect(at('/v1/jobs')).toMatchObject({ kind: 'ok', public: false, console: false })
    // A console path the URL reads differently is refused before any cookie is looked at.
    expect(at('/console/../v1/projects')).toMatchObject({
      kind: 'ok',
      public: false,
      console: false,
    })
  })

  test('loopback binds answer loopback names only; other binds any well-formed Host', () => {
    expect(defaultAllowedHosts('127.0.0.1')).toEqual(['localhost', '127.0.0.1', '[::1]'])
    expect(defaultAllowedHosts('0.0.0.0')).toBe('*')
  })
})

describe.each(TEST_DRIVERS)('admin request guard on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  // Any well-formed Host: the path check alone must stop the bypass. `strict` checks Hosts as well.
  let app: ReturnType<typeof createAdminApp>
  let strict: ReturnType<typeof createAdminApp>
  let server: ReturnType<typeof Bun.serve>
  const logLines: string[] = []

  beforeAll(async () => {
    database = await openTestDb(driver)
    const deps = {
      database,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: TOKEN,
      masterKey: await importMasterKey(MASTER),
      logger: createJsonLogger((l) => logLines.push(l)),
    }
    app = createAdminApp({ ...deps, allowedHosts: '*' })
    strict = createAdminApp({ ...deps, allowedHosts: defaultAllowedHosts('127.0.0.1') })
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => app.fetch(r) })
  }, 60_000)

  afterAll(async () => {
    server?.stop(true)
    await database?.drop()
  })

  test('through app.handle: the reported bypass and its variants never answer 200', async () => {
    const cases: [string, Record<string, string>, number][] = [
      ['http://a/xxx/v1/projects', { host: 'a' }, 400],
      ['http://localhost/xxx/v1/projects', {}, 401],
      ['http://localhost//v1/projects', {}, 401],
      ['http://localhost/./v1/projects', {}, 401],
      ['http://localhost/v1%2Fprojects', {}, 401],
      ['http://localhost/%2Fv1/projects', {}, 401],
      ['http://localhost/v1/projects', { host: '' }, 400],
      // The admin port's Host syntax is strict: no `_`, no trailing dot (the webhook's is lenient).
      ['http://localhost/v1/projects', { host: 'admin_host' }, 400],
      ['http://localhost/v1/projects', { host: 'localhost.' }, 400],
      ['http://localhost/no/such/route', {}, 401],
      // The console's home page: without a session, off to the sign-in form.
      ['http://localhost/', {}, 303],
      ['http://localhost/console/jobs', {}, 303],
      ['http://localhost/console/', {}, 303],
      ['http://localhost/consolex/v1/projects', {}, 401],
    ]
    for (const [url, headers, status] of cases) {
      const res = await app.handle(new Request(url, { headers }))
      expect({ url, headers, status: res.status }).toEqual({ url, headers, status })
    }
  })

  test('over a socket: the exact request from the report, and variants', async () => {
    const port = server.port as number
    const cases: [string, number][] = [
      [get('/xxx/v1/projects', ['Host: a']), 400],
      [get('/xx/v1/projects', ['Host: ab']), 400],
      [get('/x/v1/projects', ['Host: abc']), 400],
      [get('//v1/projects', ['Host: localhost']), 401],
      [get('/./v1/projects', ['Host: localhost']), 401],
      [get('/v1/../v1/projects', ['Host: localhost']), 401],
      [get('/v1%2Fprojects', ['Host: localhost']), 401],
      [get('/v1/projects', ['Host: ']), 400],
      [get('/v1/projects', []), 400],
      [get('/v1/projects', ['Host: localhost:8081']), 401],
      [get('/v1/projects', ['Host: 127.0.0.1']), 401],
    ]
    for (const [raw, status] of cases) {
      const res = await rawRequest(port, raw)
      expect({ raw, status: res.status }).toEqual({ raw, status })
      expect(res.body).not.toContain('"projects"')
    }
    const ok = await rawRequest(
      port,
      get('/v1/projects', ['Host: localhost', `Authorization: Bearer ${TOKEN}`]),
    )
    expect(ok.status).toBe(200)
  })

  test('a Host the admin API does not serve is refused (421), loopback names are served', async () => {
    for (const [host, status] of [
      ['evil.example', 421],
      ['a', 421],
      ['localhost:8081', 401],
      ['127.0.0.1', 401],
      ['[::1]:8081', 401],
    ] as const) {
      const res = await strict.handle(
        new Request('http://localhost/v1/projects', { headers: { host } }),
      )
      expect({ host, status: res.status }).toEqual({ host, status })
    }
  })

  test('the allow-list is reachable without a token; refusals are logged', async () => {
    expect((await app.handle(new Request('http://localhost/docs/json'))).status).toBe(200)
    expect((await app.handle(new Request('http://localhost/docs'))).status).toBe(200)
    // a path that merely starts like an allowed one is not allowed
    expect((await app.handle(new Request('http://localhost/docs/../v1/projects'))).status).toBe(401)
    expect((await app.handle(new Request('http://localhost/docsx'))).status).toBe(401)
    logLines.length = 0
    await app.handle(new Request('http://a/xxx/v1/projects', { headers: { host: 'a' } }))
    expect(logLines.some((l) => l.includes('admin request refused'))).toBe(true)
  })
})
