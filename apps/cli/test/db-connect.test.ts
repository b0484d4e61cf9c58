import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import { freePorts } from '@telehook/webhook/testing'
import postgres from 'postgres'
import { runCli } from '../src/cli.ts'

// Start-up against a database that cannot be used: one line naming DATABASE_URL (password
// hidden) and the cause, exit 1 — never a silent reconnect loop. A signal stops start-up at once.
const dataDir = await mkdtemp(join(tmpdir(), 'telehook-cli-connect-'))
afterAll(() => rm(dataDir, { recursive: true, force: true }))

/** An HTTP server: it answers PostgreSQL's first bytes with a 400 and closes, again and again. */
const http = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('hello') })
/** A server that accepts and never says a word. */
const silent = Bun.listen({
  hostname: '127.0.0.1',
  port: 0,
  socket: { data() {} },
})
/** A PostgreSQL look-alike that refuses the password, as a server with scram auth does. */
const refusing = Bun.listen({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    data(socket, data) {
      // SSLRequest: 8 bytes, code 80877103 → 'N' (no TLS); the startup message → auth failure.
      if (data.length === 8 && data.readUInt32BE(4) === 80877103) {
        socket.write('N')
        return
      }
      const fields = 'SFATAL\0C28P01\0Mpassword authentication failed for user "app"\0\0'
      const body = Buffer.from(fields)
      const head = Buffer.alloc(5)
      head.write('E', 0)
      head.writeUInt32BE(body.length + 4, 1)
      socket.write(Buffer.concat([head, body]))
      socket.end()
    },
  },
})
afterAll(() => {
  http.stop(true)
  silent.stop(true)
  refusing.stop(true)
})

async function cli(argv: string[], env: Record<string, string>, stop?: Promise<unknown>) {
  const lines: string[] = []
  const code = await runCli(
    argv,
    env,
    { out: (l) => lines.push(l), err: (l) => lines.push(l), log: () => {}, cwd: dataDir },
    stop,
  )
  return { code, lines }
}

const SERVE_ENV = {
  TELEHOOK_SECRET: 'a-secret-long-enough',
  TELEHOOK_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
  TELEHOOK_DATA_DIR: dataDir,
}

const [refusedPort, port, adminPort] = await freePorts(3)
const missingDb = new URL(TEST_DATABASE_URL)
missingDb.pathname = '/telehook_no_such_database'
missingDb.password = 'pw-of-missing'

const cases: { name: string; url: string; cause: RegExp; postgres?: boolean }[] = [
  {
    name: 'an HTTP server on that port',
    url: `postgres://app:hunter2@127.0.0.1:${http.port}/telehook`,
    cause: /is not PostgreSQL \(it answered "HTTP\/1\.1 400/,
  },
  {
    name: 'an unknown host',
    url: 'postgres://app:hunter2@no-such-host.invalid:5432/telehook',
    cause: /unknown host 'no-such-host\.invalid'/,
  },
  {
    name: 'a refused port',
    url: `postgres://app:hunter2@127.0.0.1:${refusedPort}/telehook`,
    cause: /connection refused by 127\.0\.0\.1:\d+/,
  },
  {
    name: 'a wrong password',
    url: `postgres://app:hunter2@127.0.0.1:${refusing.port}/telehook`,
    cause: /authentication failed for user 'app'/,
  },
  {
    name: 'a missing database',
    url: missingDb.toString(),
    cause: /database 'telehook_no_such_database' does not exist/,
    postgres: true,
  },
]

describe('start-up on a database that cannot be used', () => {
  for (const c of cases) {
    test.skipIf(c.postgres === true && !TEST_DRIVERS.includes('postgres'))(
      `${c.name}: migrate and serve print one line naming DATABASE_URL, exit 1`,
      async () => {
        for (const argv of [
          ['migrate'],
          ['serve', '-p', `${port}`, '--admin-port', `${adminPort}`],
        ]) {
          const r = await cli(argv, { ...SERVE_ENV, DATABASE_URL: c.url })
          expect({ code: r.code, lines: r.lines.length }).toEqual({ code: 1, lines: 1 })
          const line = r.lines[0] ?? ''
          expect(line).toStartWith('telehook: DATABASE_URL: cannot connect to postgres://')
          expect(line).toMatch(c.cause)
          expect(line).not.toContain('hunter2')
          expect(line).not.toContain('pw-of-missing')
        }
      },
    )
  }

  test('the flag is named when the flag set the URL', async () => {
    const r = await cli(['migrate', '--database-url', `postgres://127.0.0.1:${refusedPort}/x`], {})
    expect(r.code).toBe(1)
    expect(r.lines[0]).toStartWith('telehook: --database-url: cannot connect to')
  })

  test('the connect timeout bounds a server that never answers', async () => {
    const url = `postgres://app@127.0.0.1:${silent.port}/telehook`
    const r = await cli(['migrate', '--db-connect-timeout', '1'], { DATABASE_URL: url })
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(/^telehook: DATABASE_URL: .*no answer from/)])
  })

  test('a signal during start-up stops it at once (128 + the signal number)', async () => {
    const url = `postgres://app@127.0.0.1:${silent.port}/telehook`
    for (const [argv, signal, status] of [
      [['migrate'], 'SIGINT', 130],
      [['serve'], 'SIGTERM', 143],
    ] as const) {
      // The default bound (10 s) would end in a timeout line; the signal must win long before.
      const r = await cli(
        [...argv],
        { ...SERVE_ENV, DATABASE_URL: url },
        Bun.sleep(300).then(() => signal),
      )
      expect(r.code).toBe(status)
      expect(r.lines).toEqual([`telehook: start-up stopped by ${signal}`])
    }
  })

  test('--wait-for-db retries with one line per attempt, then gives up', async () => {
    const url = `postgres://app:hunter2@127.0.0.1:${refusedPort}/x`
    const r = await cli(['migrate', '--wait-for-db', '1'], { DATABASE_URL: url })
    expect(r.code).toBe(1)
    const waits = r.lines.filter((l) => l.startsWith('telehook: waiting for PostgreSQL'))
    expect(waits.length).toBeGreaterThanOrEqual(1)
    waits.forEach((line, i) => {
      expect(line).toContain(`attempt ${i + 1} failed`)
      expect(line).toContain('connection refused')
      expect(line).not.toContain('hunter2')
    })
    expect(r.lines.at(-1)).toMatch(/^telehook: DATABASE_URL: cannot connect to .*refused/)
  })
})

describe.skipIf(!TEST_DRIVERS.includes('postgres'))('--wait-for-db', () => {
  test('connects once PostgreSQL comes up while it waits', async () => {
    // PostgreSQL "comes up" on a port that refused at first: a TCP relay to the test server.
    const [port] = await freePorts(1)
    const target = new URL(TEST_DATABASE_URL)
    // A database of its own: migrating the shared one would mix this run's schema with others'.
    const name = `telehook_waitdb_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database ${name}`)
    const url = new URL(TEST_DATABASE_URL)
    url.port = String(port)
    url.pathname = `/${name}`
    const lines: string[] = []
    let relay: { stop(closeActive?: boolean): void } | undefined
    const done = runCli(
      ['migrate', '--wait-for-db', '60'],
      { DATABASE_URL: url.toString() },
      {
        out: (l) => lines.push(l),
        err: (l) => {
          lines.push(l)
          relay ??= startRelay(port ?? 0, target.hostname, Number(target.port || 5432))
        },
        cwd: dataDir,
      },
    )
    try {
      expect(await done).toBe(0)
      expect(lines[0]).toContain('attempt 1 failed')
      expect(lines.at(-1)).toBe('telehook: migrations applied (postgres)')
    } finally {
      relay?.stop(true)
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    }
  })
})

type Pipe = { peer?: import('bun').Socket<Pipe>; pending: Uint8Array[] }

/** Forwards every connection on `port` to `host:targetPort`. */
function startRelay(port: number, host: string, targetPort: number) {
  return Bun.listen<Pipe>({
    hostname: '127.0.0.1',
    port,
    socket: {
      open(client) {
        client.data = { pending: [] }
        void Bun.connect<Pipe>({
          hostname: host,
          port: targetPort,
          socket: {
            open(server) {
              server.data = { peer: client, pending: [] }
              client.data.peer = server
              for (const chunk of client.data.pending) server.write(chunk)
            },
            data(server, chunk) {
              server.data.peer?.write(chunk)
            },
            close(server) {
              server.data.peer?.end()
            },
          },
        })
      },
      data(client, chunk) {
        if (client.data.peer) client.data.peer.write(chunk)
        else client.data.pending.push(new Uint8Array(chunk))
      },
      close(client) {
        client.data.peer?.end()
      },
    },
  })
}
