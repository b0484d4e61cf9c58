import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'
import postgres from 'postgres'
import { runCli } from '../src/cli.ts'

// In-process `telehook serve` on PostgreSQL (cheap to start). The PGlite path, the data folder and
// restarts are covered by tests/binary.test.ts, on the compiled executable.
const enabled = TEST_DRIVERS.includes('postgres')
const name = `telehook_test_cli_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
const adminSql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
const url = new URL(TEST_DATABASE_URL)
url.pathname = `/${name}`
const dataDir = await mkdtemp(join(tmpdir(), 'telehook-cli-serve-'))

beforeAll(async () => {
  if (enabled) await adminSql.unsafe(`create database ${name}`)
})
afterAll(async () => {
  if (enabled) await adminSql.unsafe(`drop database if exists ${name} with (force)`)
  await adminSql.end()
  await rm(dataDir, { recursive: true, force: true })
})

const SECRET = 'shared-secret-of-both-instances'
const TOKEN = 'an-admin-token-long-enough-for-the-check'

/** Starts `telehook serve` in this process; `stop()` resolves with its exit status. */
async function serve(
  extra: string[] = [],
  {
    dir = dataDir,
    adminToken = TOKEN,
    terminal = false,
  }: { dir?: string; adminToken?: string | null; terminal?: boolean } = {},
) {
  const [port, adminPort] = await freePorts()
  const lines: string[] = []
  const logs: string[] = []
  let stop!: () => void
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  const exit = runCli(
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--data-dir',
      dir,
      ...extra,
    ],
    {
      DATABASE_URL: url.toString(),
      TELEHOOK_SECRET: SECRET,
      ...(adminToken === null ? {} : { TELEHOOK_ADMIN_TOKEN: adminToken }),
      TELEHOOK_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
    },
    {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      log: (l) => logs.push(l),
      cwd: dir,
      terminal,
    },
    stopped,
  )
  const base = `http://127.0.0.1:${port}`
  // The webhook answers before the admin API is set up and the banner is written: wait for both.
  await waitUntilHealthy(base, {
    timeoutMs: 15_000,
    until: () => lines.some((l) => l.includes('Telehook webhook listening')),
    context: () => lines.join('\n'),
  })
  return {
    base,
    admin: `http://127.0.0.1:${adminPort}`,
    lines,
    logs,
    stop: () => {
      stop()
      return exit
    },
  }
}

function delivery(id: string): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      event: 'incoming_message',
      id,
      message_type: 'sms',
      content: 'hello',
      from_number: '+16505550123',
      to_number: '+16505550001',
      secret: SECRET,
    }).toString(),
  }
}

describe.skipIf(!enabled)('telehook serve in-process, PostgreSQL', () => {
  test('two instances on one database: each answers, one row per event, counted twice', async () => {
    const a = await serve()
    const b = await serve(['--no-admin', '--no-worker'])
    try {
      const first = await fetch(`${a.base}/webhook`, delivery('SMcliserve000000001'))
      const second = await fetch(`${b.base}/webhook`, delivery('SMcliserve000000001'))
      expect(first.status).toBe(200)
      expect(second.status).toBe(200)
      expect(await second.text()).toBe(await first.text())

      const res = await fetch(`${a.admin}/v1/events?event=incoming_message`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      const { data } = (await res.json()) as {
        data: { telerivet_id: string; delivery_count: number }[]
      }
      expect(data.map((e) => [e.telerivet_id, e.delivery_count])).toEqual([
        ['SMcliserve000000001', 2],
      ])
      // The webhook's metrics are on the admin port, behind the token; not on the public port.
      const metrics = await fetch(`${a.admin}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(metrics.status).toBe(200)
      expect(await metrics.text()).toContain('telehook_webhook_deliveries_total')
      expect((await fetch(`${a.admin}/metrics`)).status).toBe(401)
      expect((await fetch(`${a.base}/metrics`)).status).toBe(404)
      // --no-admin: the second instance has no admin port.
      expect(b.lines.join('\n')).not.toContain('Admin API on')
      // The configured secret and token are never printed.
      expect([...a.lines, ...b.lines].join('\n')).not.toContain(SECRET)
      expect(a.lines.join('\n')).not.toContain(TOKEN)
      // One JSON log line per delivery, on the instance that took it.
      expect(a.logs.map((l) => JSON.parse(l).telerivet_id)).toContain('SMcliserve000000001')
      expect(b.logs.map((l) => JSON.parse(l).outcome)).toContain('duplicate')
      expect([...a.logs, ...b.logs].join('\n')).not.toContain(SECRET)
    } finally {
      expect(await a.stop()).toBe(0)
      expect(await b.stop()).toBe(0)
    }
  })

  test("--handlers none stores without replying; 'stopping' closes the database", async () => {
    const s = await serve(['--handlers', 'none', '--no-admin'])
    try {
      const res = await fetch(`${s.base}/webhook`, delivery('SMcliserve000000002'))
      expect(res.status).toBe(200)
      expect(await res.text()).not.toContain('messages')
    } finally {
      expect(await s.stop()).toBe(0)
    }
    expect(s.lines).toContain('telehook: stopped')
    await expect(fetch(`${s.base}/healthz`)).rejects.toThrow()
  })

  test('--retention-days deletes old stored events beside the worker', async () => {
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} })
    try {
      const quiet = { out: () => {}, err: () => {}, cwd: dataDir }
      expect(await runCli(['migrate'], { DATABASE_URL: url.toString() }, quiet)).toBe(0)
      await db`insert into telehook.events (endpoint_id, event, dedupe_key, payload, valid, received_at)
               values ('default', 'incoming_message', 'retention-old', '{}'::jsonb, true,
                       now() - interval '40 days')`
      const s = await serve(['--retention-days', '30', '--no-admin'])
      try {
        expect(s.lines.join('\n')).toContain('Retention: stored events older than 30 days')
        for (let i = 0; i < 600; i++) {
          const [row] = await db`select count(*)::int as n from telehook.events
                                 where dedupe_key = 'retention-old'`
          if (row?.n === 0) break
          await Bun.sleep(25)
        }
        const [row] = await db`select count(*)::int as n from telehook.events
                               where dedupe_key = 'retention-old'`
        expect(row?.n).toBe(0)
      } finally {
        expect(await s.stop()).toBe(0)
      }
    } finally {
      await db.end()
    }
  })

  test('without TELEHOOK_ADMIN_TOKEN, one token is made for the database, hashed, and every instance accepts it', async () => {
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} })
    // Two machines: each its own data folder.
    const dirs = [await mkdtemp(join(dataDir, 'a-')), await mkdtemp(join(dataDir, 'b-'))]
    try {
      await db.unsafe('delete from telehook.admin_tokens')
      const [dirA = '', dirB = ''] = dirs
      const [a, b] = await Promise.all([
        serve(['--no-worker'], { dir: dirA, adminToken: null }),
        serve(['--no-worker'], { dir: dirB, adminToken: null }),
      ])
      let token = ''
      try {
        // Not a terminal (logs): the value goes to a file, not into the output.
        const said = [...a.lines, ...b.lines]
          .join('\n')
          .split('\n')
          .filter((l) => l.startsWith('Generated an admin token'))
        // Started together, exactly one of them made it.
        expect(said).toHaveLength(1)
        const file = /its value is in (\S+): read it/.exec(said[0] ?? '')?.[1] ?? ''
        expect(dirs.map((d) => join(d, 'first-admin-token'))).toContain(file)
        token = (await Bun.file(file).text()).trim()
        expect(token).toStartWith('thk_')
        expect([...a.lines, ...b.lines].join('\n')).not.toContain(token)
        expect((await stat(file)).mode & 0o777).toBe(0o600)
        for (const s of [a, b]) {
          const ok = await fetch(`${s.admin}/v1/events`, {
            headers: { authorization: `Bearer ${token}` },
          })
          expect(ok.status).toBe(200)
          const bad = await fetch(`${s.admin}/v1/events`, {
            headers: { authorization: `Bearer ${token}x` },
          })
          expect(bad.status).toBe(401)
        }
        const rows = await db<{ id: string; token_hash: string }[]>`
          select id, token_hash from telehook.admin_tokens`
        const hash = new Bun.CryptoHasher('sha256').update(token).digest('hex')
        expect(rows.map((r) => ({ ...r }))).toEqual([{ id: 'tok_first', token_hash: hash }])
        // Nothing per machine: no admin-token file in either data folder.
        for (const dir of dirs)
          expect(await Bun.file(join(dir, 'admin-token')).exists()).toBe(false)
      } finally {
        expect(await a.stop()).toBe(0)
        expect(await b.stop()).toBe(0)
      }
      // A restart makes no second token, and says where the tokens are.
      const c = await serve(['--no-worker'], { dir: dirA, adminToken: null, terminal: true })
      try {
        expect(c.lines.join('\n')).not.toContain('Generated an admin token')
        expect(c.lines.join('\n')).toContain('Admin tokens: the ones in admin_tokens')
        const ok = await fetch(`${c.admin}/v1/events`, {
          headers: { authorization: `Bearer ${token}` },
        })
        expect(ok.status).toBe(200)
      } finally {
        expect(await c.stop()).toBe(0)
      }
      expect((await db`select count(*)::int as n from telehook.admin_tokens`)[0]?.n).toBe(1)
      // On a terminal the first token is shown once, and no file is written.
      await db.unsafe('delete from telehook.admin_tokens')
      const dirC = await mkdtemp(join(dataDir, 'c-'))
      const d = await serve(['--no-worker'], { dir: dirC, adminToken: null, terminal: true })
      try {
        const shown = d.lines
          .join('\n')
          .split('\n')
          .map((l) => /^Generated an admin token \(shown once; .*\): (thk_\S+)$/.exec(l)?.[1])
          .find(Boolean)
        expect(shown).toStartWith('thk_')
        expect(await Bun.file(join(dirC, 'first-admin-token')).exists()).toBe(false)
      } finally {
        expect(await d.stop()).toBe(0)
      }
    } finally {
      await db.end()
    }
  })
})

describe.skipIf(!enabled)('the banner of telehook serve on PostgreSQL', () => {
  test('stderr only, the bound addresses, and a curl that works from another shell', async () => {
    const [port, adminPort] = await freePorts()
    const out: string[] = []
    const err: string[] = []
    let stop!: () => void
    const stopped = new Promise<void>((resolve) => {
      stop = resolve
    })
    const exit = runCli(
      ['serve', '--host', '0.0.0.0', '--port', `${port}`, '--admin-port', `${adminPort}`],
      {
        DATABASE_URL: url.toString(),
        TELEHOOK_SECRET: SECRET,
        TELEHOOK_ADMIN_TOKEN: TOKEN,
        TELEHOOK_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
        TELEHOOK_DATA_DIR: dataDir,
      },
      { out: (l) => out.push(l), err: (l) => err.push(l), log: () => {}, cwd: dataDir },
      stopped,
    )
    try {
      await waitUntilHealthy(`http://127.0.0.1:${port}`, { context: () => err.join('\n') })
      const lines = err.join('\n').split('\n')
      expect(out).toEqual([])
      expect(lines[0]).toBe(
        `Telehook webhook listening on http://0.0.0.0:${port} (every interface), PostgreSQL`,
      )
      expect(lines).toContain(
        `Admin API listening on http://127.0.0.1:${adminPort} (Authorization: Bearer <token>)`,
      )
      expect(lines).toContain(
        'Try it (in a shell where TELEHOOK_SECRET holds the same secret: export TELEHOOK_SECRET=…):',
      )
      expect(err.join('\n')).not.toContain(SECRET)
      // Pasted into another shell, with the secret exported as the line says: 200.
      const curl = lines.find((l) => l.startsWith('curl ')) ?? ''
      // (Async: the server runs in this process, a synchronous spawn would block it.)
      const pasted = Bun.spawn(['bash', '-c', curl.replace('curl -i', 'curl -s -i')], {
        env: { PATH: process.env.PATH ?? '', TELEHOOK_SECRET: SECRET },
        stdout: 'pipe',
      })
      expect(await new Response(pasted.stdout).text()).toMatch(/^HTTP\/1\.1 200/)
    } finally {
      stop()
      expect(await exit).toBe(0)
    }
  })
})
