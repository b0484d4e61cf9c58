import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
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
  { dir = dataDir, adminToken = TOKEN }: { dir?: string; adminToken?: string | null } = {},
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
    },
    stopped,
  )
  const base = `http://127.0.0.1:${port}`
  await waitUntilHealthy(base, { timeoutMs: 15_000, context: () => lines.join('\n') })
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
        const printed = [...a.lines, ...b.lines]
          .map((l) => /^Generated an admin token \(.*admin_tokens.*\): (thk_\S+)$/.exec(l)?.[1])
          .filter((t): t is string => t !== undefined)
        // Started together, exactly one of them made it.
        expect(printed).toHaveLength(1)
        token = printed[0] ?? ''
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
      const c = await serve(['--no-worker'], { dir: dirA, adminToken: null })
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
    } finally {
      await db.end()
    }
  })
})
