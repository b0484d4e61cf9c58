/**
 * PostgreSQL unreachable: a closed port, and a live database behind a TCP proxy that the test
 * cuts and restores. The app must answer 503 (never 200) while it cannot commit, and recover
 * without a restart. PostgreSQL only: PGlite is in-process and cannot become unreachable.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { type Database, openDb } from '@telehook/db'
import { openTestDb, TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, ensureSingleEndpoint } from '@telehook/engine'
import { createWebhookApp } from '../src/app'
import { captureLogger, eventsOf, form, newId, post } from './helpers'

// bun's 5 s default is too short for database suites on a busy 2-core machine (and bunfig's
// [test] timeout is not applied by this Bun).
setDefaultTimeout(30_000)

const SECRET = 'down-secret-Hh7Jj8Kk9Ll'

function incoming(id: string): string {
  return form({
    event: 'incoming_message',
    id,
    content: 'hi',
    from_number: '+1650',
    secret: SECRET,
  })
}

/** A TCP proxy to PostgreSQL that can drop every connection and black-hole new ones. */
async function startProxy(target: { host: string; port: number }) {
  let up = true
  const open = new Set<Socket>()
  const server: Server = createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => {})
    // While down, accept and say nothing: a hung network, the case that needs the deadline.
    if (!up) return
    const upstream = connect(target.port, target.host)
    open.add(upstream)
    upstream.on('close', () => {
      open.delete(upstream)
      client.destroy()
    })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no proxy port')
  return {
    port: address.port,
    down() {
      up = false
      for (const socket of open) socket.destroy()
    },
    up() {
      up = true
      // Black-holed connections are dropped so that the driver retries on fresh ones.
      for (const socket of open) socket.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe.skipIf(!TEST_DRIVERS.includes('postgres'))('database unreachable (postgres)', () => {
  let owner: Awaited<ReturnType<typeof openTestDb>>
  let proxied: Database
  let proxy: Awaited<ReturnType<typeof startProxy>>
  const logger = captureLogger()

  beforeAll(async () => {
    owner = await openTestDb('postgres')
    await ensureSingleEndpoint(owner, SECRET)
    const target = new URL(TEST_DATABASE_URL)
    proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const url = new URL(owner.url ?? '')
    url.host = `127.0.0.1:${proxy.port}`
    proxied = await openDb({
      databaseUrl: url.toString(),
      migrate: false,
      maxConnections: 4,
      postgres: { connect_timeout: 4 },
    })
  })
  afterAll(async () => {
    await proxied?.close()
    await proxy?.close()
    await owner?.drop()
  })

  test('a closed port: 503 with Retry-After, /healthz 503, nothing claimed stored', async () => {
    const port = await closedPort()
    const url = new URL(TEST_DATABASE_URL)
    url.host = `127.0.0.1:${port}`
    const dead = await openDb({ databaseUrl: url.toString(), migrate: false, lazy: true })
    try {
      const engine = createEngine({ database: dead, logger })
      const app = createWebhookApp({
        engine,
        database: dead,
        singleProject: true,
        logger,
        deadlineMs: 3000,
      })
      const res = await app.handle(post('/webhook', incoming(newId('SM'))))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('10')
      const health = await app.handle(new Request('http://telehook.test/healthz'))
      expect(health.status).toBe(503)
    } finally {
      await dead.close().catch(() => {})
    }
  })

  test('cut, then restored: 503 within the deadline while down, 200 again without restart', async () => {
    const engine = createEngine({ database: proxied, logger })
    const app = createWebhookApp({
      engine,
      database: proxied,
      singleProject: true,
      logger,
      deadlineMs: 2500,
      healthTimeoutMs: 1000,
    })
    const before = newId('SM')
    expect((await app.handle(post('/webhook', incoming(before)))).status).toBe(200)

    proxy.down()
    // The pool first learns that its sockets died (a fast failure); the retry that follows opens
    // a connection into the black hole, where only the deadline can answer.
    const lost = newId('SM')
    const codes: string[] = []
    for (let attempt = 0; attempt < 3 && !codes.includes('deadline_exceeded'); attempt++) {
      const down = await app.handle(post('/webhook', incoming(lost)))
      expect(down.status).toBe(503)
      expect(down.headers.get('retry-after')).toBe('10')
      const line = logger.lines.findLast((l) => l.telerivet_id === lost)
      codes.push(String(line?.code))
    }
    expect(codes).toContain('deadline_exceeded')
    expect((await app.handle(new Request('http://telehook.test/healthz'))).status).toBe(503)
    expect(
      logger.lines.some(
        (l) => l.telerivet_id === lost && l.status === 503 && l.outcome === 'unavailable',
      ),
    ).toBe(true)

    proxy.up()
    // Telerivet retries the same delivery; the driver reconnects on its own.
    let status = 0
    for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
      status = (await app.handle(post('/webhook', incoming(lost)))).status
      if (status !== 200) await Bun.sleep(250)
    }
    expect(status).toBe(200)
    expect((await app.handle(new Request('http://telehook.test/healthz'))).status).toBe(200)
    const stored = await eventsOf(owner, lost)
    expect(stored).toHaveLength(1)
  })
})
