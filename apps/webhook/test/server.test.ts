/**
 * The runtime pieces: bootWebhook (database, engine, endpoint, worker, server) and its orderly
 * stop, the single-project secret, handler modules, and main.ts as a process.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from '@telehook/db'
import { openTestDb, TEST_DRIVERS, type TestDriver } from '@telehook/db/testing'
import {
  cutShortLine,
  neverEndingHandlers,
  signalTwice,
  stalledDelivery,
  stopDuringJob,
} from '@telehook/engine/testing'
import { defineHandlers, reply } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import { loadWebhookConfig } from '../src/config'
import { displayOrigin, resolveSingleSecret, sampleCurl, startBanner } from '../src/secret'
import { bootWebhook, loadHandlers } from '../src/server'
import { captureLogger, eventsOf, FORM, form, newId, rows } from './helpers'

// bun's 5 s default is too short for database suites on a busy 2-core machine (and bunfig's
// [test] timeout is not applied by this Bun).
setDefaultTimeout(30_000)

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telehook-webhook-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('resolveSingleSecret', () => {
  test('env first; else generated once into the data folder (0600) and reused', async () => {
    const dataDir = join(dir, 'secret-test')
    const fromEnv = await resolveSingleSecret(
      loadWebhookConfig({ TELEHOOK_SECRET: 'from-the-env-0123456', TELEHOOK_DATA_DIR: dataDir }),
    )
    expect(fromEnv).toMatchObject({ secret: 'from-the-env-0123456', source: 'env' })

    const config = loadWebhookConfig({ TELEHOOK_DATA_DIR: dataDir })
    const first = await resolveSingleSecret(config)
    expect(first.source).toBe('generated')
    expect(first.secret.length).toBeGreaterThanOrEqual(32)
    expect(((await stat(first.file)).mode & 0o777).toString(8)).toBe('600')
    const second = await resolveSingleSecret(config)
    expect(second).toEqual({ ...first, source: 'file' })
    // Never a per-machine secret for a shared database, even if the loader was bypassed.
    await expect(
      resolveSingleSecret({ ...config, databaseUrl: 'postgres://127.0.0.1/x' }),
    ).rejects.toThrow('TELEHOOK_SECRET')
  })

  test('the sample curl carries the secret in clear only when it was just generated', () => {
    const base = { secret: 'S3cr3t-generated-value', file: '/data/webhook-secret' }
    expect(sampleCurl('http://127.0.0.1:8000', { ...base, source: 'generated' })).toContain(
      "--data-urlencode 'secret=S3cr3t-generated-value'",
    )
    const fromEnv = sampleCurl('http://127.0.0.1:8000', { ...base, source: 'env' })
    expect(fromEnv).toContain('"secret=$TELEHOOK_SECRET"')
    expect(fromEnv).not.toContain(base.secret)
    const fromFile = sampleCurl('http://127.0.0.1:8000', { ...base, source: 'file' })
    expect(fromFile).toContain("$(cat '/data/webhook-secret')")
    expect(fromFile).toStartWith("curl -i -X POST 'http://127.0.0.1:8000/webhook'")
    // One line, so that a prefixed log (turbo's "pkg:dev: ") still yields a runnable command.
    expect(fromFile).not.toContain('\n')
  })
})

describe('start-up banner', () => {
  test('a wildcard host is shown as 127.0.0.1, IPv6 in brackets', () => {
    expect(displayOrigin('0.0.0.0', 8000)).toBe('http://127.0.0.1:8000')
    expect(displayOrigin('::', 8000)).toBe('http://127.0.0.1:8000')
    expect(displayOrigin('::1', 9000)).toBe('http://[::1]:9000')
    expect(displayOrigin('10.0.0.2', 80)).toBe('http://10.0.0.2:80')
  })

  test('the secret is in it only when it was just generated; the curl ends it', () => {
    const base = { secret: 'S3cr3t-generated-value', file: '/data/webhook-secret' }
    const generated = startBanner('http://127.0.0.1:8000', 'PGlite in /data', {
      ...base,
      source: 'generated',
    })
    expect(generated[0]).toBe(
      'Telehook webhook listening on http://127.0.0.1:8000 (PGlite in /data)',
    )
    expect(generated.join('\n')).toContain('kept in /data/webhook-secret): S3cr3t-generated-value')
    expect(generated.at(-1)).toStartWith('curl ')
    const kept = startBanner('http://127.0.0.1:8000', 'PostgreSQL', { ...base, source: 'env' })
    expect(kept.join('\n')).not.toContain(base.secret)
  })
})

describe('loadHandlers', () => {
  test('takes the default export of a module file, refuses anything else', async () => {
    const good = join(dir, 'good-handlers.ts')
    await writeFile(
      good,
      "export default { sync: { incoming_message: () => ({ messages: [{ content: 'mine' }] }) } }\n",
    )
    const handlers = await loadHandlers(good)
    expect(typeof handlers.sync?.incoming_message).toBe('function')
    const bad = join(dir, 'bad-handlers.ts')
    await writeFile(bad, 'export const x = 1\n')
    await expect(loadHandlers(bad)).rejects.toThrow('must export default defineHandlers')
  })
})

describe.skipIf(!TEST_DRIVERS.includes('postgres'))('bootWebhook on PostgreSQL', () => {
  test('serves the single-project endpoint, then drains a request in flight on stop', async () => {
    const owner = await openTestDb('postgres')
    try {
      const url = new URL(owner.url ?? '')
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      let started: () => void = () => {}
      const handlerStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      const handlers = defineHandlers({
        sync: {
          async incoming_message(message) {
            if (message.content === 'wait') {
              started()
              await gate
            }
            return reply()
              .message({ content: `got ${message.content}` })
              .build()
          },
        },
      })
      const config = loadWebhookConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: url.toString(),
        TELEHOOK_DATA_DIR: join(dir, 'boot'),
        TELEHOOK_SECRET: 'boot-secret-123456',
      })
      const service = await bootWebhook(config, { logger: captureLogger(), handlers })
      const endpoint = new URL('/webhook', service.server.url)
      const send = (id: string, content: string) =>
        fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: form({ event: 'incoming_message', id, content, secret: 'boot-secret-123456' }),
        })
      const quick = await send(newId('SM'), 'hi')
      expect(quick.status).toBe(200)
      expect(await quick.json()).toEqual({ messages: [{ content: 'got hi' }] })

      const slowId = newId('SM')
      const inFlight = send(slowId, 'wait')
      await handlerStarted
      const stopping = service.stop()
      release()
      const slow = await inFlight
      expect(slow.status).toBe(200)
      expect(await slow.json()).toEqual({ messages: [{ content: 'got wait' }] })
      await stopping
      expect(await eventsOf(owner, slowId)).toHaveLength(1)
      await expect(send(newId('SM'), 'late')).rejects.toThrow()
    } finally {
      await owner.drop()
    }
  })
})

describe('main.ts as a process', () => {
  test('a bad variable: one line naming it, exit code 2', async () => {
    const proc = Bun.spawn(['bun', 'run', 'src/main.ts'], {
      cwd: join(import.meta.dir, '..'),
      env: {
        ...process.env,
        PORT: 'eighty',
        TELEHOOK_DEADLINE_MS: '99999',
        TELEHOOK_STOP_TIMEOUT_MS: '10s',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const code = await proc.exited
    const err = await new Response(proc.stderr).text()
    expect(code).toBe(2)
    const lines = err.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toStartWith('telehook-webhook: PORT must be ')
    expect(lines[1]).toStartWith('telehook-webhook: TELEHOOK_DEADLINE_MS must be ')
    expect(lines[2]).toStartWith(
      'telehook-webhook: TELEHOOK_STOP_TIMEOUT_MS must be a whole number of milliseconds from 3000',
    )
  })

  const MAIN_SECRET = 'main-process-secret-42'
  test.skipIf(!TEST_DRIVERS.includes('postgres'))(
    'starts, prints a curl that gets a 200, stops cleanly on SIGTERM',
    async () => {
      const owner = await openTestDb('postgres')
      try {
        const url = new URL(owner.url ?? '')
        const dataDir = join(dir, 'main')
        const proc = Bun.spawn(['bun', 'run', 'src/main.ts'], {
          cwd: join(import.meta.dir, '..'),
          env: {
            ...process.env,
            PORT: '0',
            HOST: '127.0.0.1',
            DATABASE_URL: url.toString(),
            TELEHOOK_DATA_DIR: dataDir,
            TELEHOOK_SECRET: MAIN_SECRET,
          },
          stdout: 'pipe',
          stderr: 'pipe',
        })
        const banner = await readUntil(proc.stderr, /\n\n$/)
        // A configured secret is never printed; the curl reads it from the environment.
        expect(banner).not.toContain(MAIN_SECRET)
        expect(banner).not.toContain('Generated webhook secret')
        const curl = banner.slice(banner.indexOf('curl '))
        const run = Bun.spawn(['bash', '-c', curl.replace('curl -i', 'curl -s -i')], {
          env: { PATH: process.env.PATH, TELEHOOK_SECRET: MAIN_SECRET },
          stdout: 'pipe',
        })
        const out = await new Response(run.stdout).text()
        expect(await run.exited).toBe(0)
        expect(out).toMatch(/^HTTP\/1\.1 200/)
        expect(out).toContain("Hi! What's your name?")
        proc.kill('SIGTERM')
        expect(await proc.exited).toBe(0)
        expect(await eventsOf(owner, 'SMtelehooksample0001')).toHaveLength(1)
      } finally {
        await owner.drop()
      }
    },
  )
})

describe('main.ts stopping', () => {
  const STOP_SECRET = 'main-stopping-secret-42'
  let n = 0
  /** main.ts on a fresh database of `driver`; `jobs()` reads the jobs once it has exited. */
  async function startMain(driver: TestDriver, extra: Record<string, string> = {}) {
    const dataDir = join(dir, `stop-${driver}-${++n}`)
    const owner = driver === 'postgres' ? await openTestDb('postgres') : null
    const databaseUrl = owner?.url ?? ''
    const proc = Bun.spawn(['bun', 'run', 'src/main.ts'], {
      cwd: join(import.meta.dir, '..'),
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        TELEHOOK_DATA_DIR: dataDir,
        TELEHOOK_SECRET: STOP_SECRET,
        ...extra,
      },
      stdout: 'ignore',
      stderr: 'pipe',
    })
    const banner = await readUntil(proc.stderr, /\n\n$/)
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1])
    if (!port) throw new Error(`main.ts did not start: ${banner}`)
    return {
      proc,
      port,
      /** What it printed after the banner, once it has exited. */
      rest: () => readUntil(proc.stderr, /(?!)/),
      async jobs() {
        const database = owner ?? (await openDb({ dataDir }))
        try {
          return await rows<{ status: string; attempts: number }>(
            database,
            sql`select status, attempts from telehook.jobs`,
          )
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

  for (const driver of TEST_DRIVERS) {
    test(`${driver}: a job that never ends is given back, the stop within TELEHOOK_STOP_TIMEOUT_MS`, async () => {
      const { module, started } = await neverEndingHandlers(dir, `never-ending-${driver}`)
      const main = await startMain(driver, {
        TELEHOOK_HANDLERS: module,
        TELEHOOK_STOP_TIMEOUT_MS: '3000',
      })
      try {
        const stop = await stopDuringJob(main.proc, {
          port: main.port,
          secret: STOP_SECRET,
          id: newId('SM'),
          started,
        })
        expect(stop).toMatchObject({ status: 200, exitCode: 0 })
        const took = stop.tookMs
        // Its grace (750 ms of 3000), then the requeue; the old grace alone was 10 s.
        expect(took).toBeGreaterThanOrEqual(700)
        expect(took).toBeLessThan(3000)
        expect(await main.rest()).toContain('telehook-webhook: SIGTERM, draining (at most 3 s;')
        expect(await main.jobs()).toEqual([{ status: 'queued', attempts: 0 }])
      } finally {
        await main.end()
      }
    })

    test(`${driver}: a second SIGTERM during the stop exits at once with 143, after one line`, async () => {
      const main = await startMain(driver)
      try {
        // A delivery whose body stops arriving holds the drain (until its 8 s deadline).
        const socket = await stalledDelivery(main.port)
        await Bun.sleep(100)
        const two = await signalTwice(main.proc)
        expect(two).toMatchObject({ runningAtSecond: true, exitCode: 143 })
        expect(two.exitAfterMs).toBeLessThan(1000)
        const lines = (await main.rest()).trim().split('\n')
        expect(lines.at(-1)).toStartWith(cutShortLine('telehook-webhook'))
        socket.destroy()
      } finally {
        await main.end()
      }
    })
  }
})

async function readUntil(stream: ReadableStream<Uint8Array>, end: RegExp): Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!end.test(text)) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  reader.releaseLock()
  return text
}
