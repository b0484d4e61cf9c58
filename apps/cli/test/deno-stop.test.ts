import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import {
  cutShortLine,
  neverEndingHandlers,
  signalTwice,
  untilExists,
} from '@telehook/engine/testing'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'
import postgres from 'postgres'

// The README's Deno command: SIGINT to the process it started (not to a process group, as a
// process manager or `kill` sends it) must stop deno itself, which drains and exits 0.
const enabled = TEST_DRIVERS.includes('postgres')
const root = resolve(import.meta.dir, '../../..')
const name = `telehook_test_deno_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
const adminSql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
const url = new URL(TEST_DATABASE_URL)
url.pathname = `/${name}`

beforeAll(async () => {
  if (enabled) await adminSql.unsafe(`create database ${name}`)
})
afterAll(async () => {
  if (enabled) await adminSql.unsafe(`drop database if exists ${name} with (force)`)
  await adminSql.end()
})

const command = [
  'bun',
  'apps/cli/deno/run-deno.ts',
  'run',
  '--no-check',
  '--allow-net',
  '--allow-env',
  '--allow-read',
  '--allow-write',
  '--allow-sys',
  'apps/cli/deno/serve.ts',
]

/** The documented Deno command on `port`, over this file's database; stderr is piped. */
const denoServe = (port: number | undefined, extra: Record<string, string> = {}) =>
  Bun.spawn(command, {
    cwd: root,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url.toString(),
      TELEHOOK_SECRET: 'a-secret-for-deno',
      ...extra,
    },
  })

test.skipIf(!enabled)(
  'SIGINT to the documented Deno command stops deno: exit 0, port closed',
  async () => {
    const [port] = await freePorts(1)
    const proc = denoServe(port)
    const base = `http://127.0.0.1:${port}`
    try {
      await waitUntilHealthy(base, { timeoutMs: 90_000, exitCode: () => proc.exitCode })
      proc.kill('SIGINT')
      expect(await proc.exited).toBe(0)
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    }
    // Nothing is left serving: deno itself stopped, not only the wrapper.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  },
  120_000,
)

test.skipIf(!enabled)(
  'a second SIGTERM during the stop exits at once with 143, after one line, as telehook serve',
  async () => {
    const [port] = await freePorts(1)
    // A job that never ends holds the stop for its grace (4.5 s of the default 8 s).
    const dir = await mkdtemp(join(tmpdir(), 'telehook-deno-stop-'))
    const { module, started } = await neverEndingHandlers(dir)
    const proc = denoServe(port, { TELEHOOK_HANDLERS: module })
    try {
      await waitUntilHealthy(`http://127.0.0.1:${port}`, {
        timeoutMs: 90_000,
        exitCode: () => proc.exitCode,
      })
      const r = await fetch(`http://127.0.0.1:${port}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          event: 'incoming_message',
          id: 'SMdenostop1',
          secret: 'a-secret-for-deno',
        }),
      })
      expect(r.status).toBe(200)
      await untilExists(started)
      const two = await signalTwice(proc)
      expect(two).toMatchObject({ runningAtSecond: true, exitCode: 143 })
      expect(two.exitAfterMs).toBeLessThan(1000)
      const lines = (await new Response(proc.stderr).text()).trim().split('\n')
      expect(lines.at(-2)).toStartWith('telehook: SIGTERM, stopping (draining requests in flight')
      expect(lines.at(-1)).toStartWith(cutShortLine('telehook'))
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
  },
  120_000,
)
