/**
 * `telehook serve` as a process, stopped by signals: within `--stop-timeout-ms`, and cut short by
 * a later signal (the rules themselves, stopOnSignals and stopBudget, are tested in the engine).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jobs, openDb } from '@telehook/db'
import { openTestDb, TEST_DRIVERS, type TestDriver } from '@telehook/db/testing'
import {
  cutShortLine,
  neverEndingHandlers,
  signalTwice,
  stalledDelivery,
  stopDuringJob,
} from '@telehook/engine/testing'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'

// Each test starts a server (PGlite: a fresh data folder) and waits past the 2 s of one request.
setDefaultTimeout(30_000)

const dir = await mkdtemp(join(tmpdir(), 'telehook-cli-signals-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

const SECRET = 'signals-test-secret-0123'
let n = 0

/** `telehook serve` on a fresh database of `driver`; `jobs()` reads the jobs once it has exited. */
async function serve(driver: TestDriver, argv: string[] = []) {
  const [port, adminPort] = await freePorts(2)
  const dataDir = join(dir, `${driver}-${++n}`)
  const owner = driver === 'postgres' ? await openTestDb('postgres') : null
  const databaseUrl = owner?.url ?? ''
  const proc = Bun.spawn(['bun', join(import.meta.dir, '../src/main.ts'), 'serve', ...argv], {
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      TELEHOOK_DATA_DIR: dataDir,
      TELEHOOK_SECRET: SECRET,
      TELEHOOK_ADMIN_TOKEN: 'signals-test-admin-token',
      TELEHOOK_MASTER_KEY: Buffer.alloc(32, 5).toString('base64'),
    },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  let output = ''
  const read = (async () => {
    const decoder = new TextDecoder()
    const reader = proc.stderr.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      output += decoder.decode(value, { stream: true })
    }
  })()
  await waitUntilHealthy(`http://127.0.0.1:${port}`, {
    timeoutMs: 60_000,
    until: () => output.includes('Admin API listening'),
    exitCode: () => proc.exitCode,
    context: () => output,
  })
  return {
    proc,
    port: port ?? 0,
    /** What it printed on stderr, in full once it has exited. */
    output: async () => {
      if (proc.exitCode !== null) await read
      return output
    },
    async jobs() {
      const database = owner ?? (await openDb({ dataDir }))
      try {
        return await database.db.select({ status: jobs.status, attempts: jobs.attempts }).from(jobs)
      } finally {
        if (!owner) await database.close()
      }
    },
    async end() {
      if (proc.exitCode === null) proc.kill('SIGKILL')
      await proc.exited
      await owner?.drop()
    },
  }
}

describe('telehook serve stopped by signals', () => {
  for (const driver of TEST_DRIVERS) {
    test(`${driver}: --stop-timeout-ms bounds the stop; a job that never ends is given back`, async () => {
      const { module, started } = await neverEndingHandlers(dir, `never-ending-${driver}`)
      const server = await serve(driver, ['--stop-timeout-ms', '3000', '--handlers', module])
      try {
        const stop = await stopDuringJob(server.proc, {
          port: server.port,
          secret: SECRET,
          id: 'SMsignals1',
          started,
        })
        expect(stop).toMatchObject({ status: 200, exitCode: 0 })
        const took = stop.tookMs
        // Its grace (750 ms of 3000), then the requeue; the old grace alone was 10 s.
        expect(took).toBeGreaterThanOrEqual(700)
        expect(took).toBeLessThan(3000)
        const output = await server.output()
        expect(output).toContain(
          'telehook: SIGTERM, stopping (draining requests in flight and jobs, at most 3 s; a later signal exits at once)',
        )
        expect(output.trim().split('\n').at(-1)).toBe('telehook: stopped')
        expect(await server.jobs()).toEqual([{ status: 'queued', attempts: 0 }])
      } finally {
        await server.end()
      }
    })

    test(`${driver}: a second SIGTERM during the stop exits at once with 143, after one line`, async () => {
      const server = await serve(driver)
      try {
        // A delivery whose body stops arriving holds the drain (until its 8 s deadline).
        const socket = await stalledDelivery(server.port)
        await Bun.sleep(100)
        const two = await signalTwice(server.proc)
        expect(two).toMatchObject({ runningAtSecond: true, exitCode: 143 })
        expect(two.exitAfterMs).toBeLessThan(1000)
        const lines = (await server.output()).trim().split('\n')
        expect(lines.at(-1)).toStartWith(cutShortLine('telehook'))
        socket.destroy()
      } finally {
        await server.end()
      }
    })
  }
})
