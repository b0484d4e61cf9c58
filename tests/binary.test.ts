/**
 * The compiled `telehook` executable, run the way a user would: copied alone into an empty folder
 * (no node_modules, no Bun on its PATH), serving on the embedded database and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from '@telehook/db'
import { TEST_DATABASE_URL, TEST_DRIVERS } from '@telehook/db/testing'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'
import { sql } from 'drizzle-orm'

const root = join(import.meta.dir, '..')
const scratch = await mkdtemp(join(tmpdir(), 'telehook-binary-'))
/** The executable under test: TELEHOOK_BINARY when given (a build to check), else built here once. */
let binary = process.env.TELEHOOK_BINARY ?? ''
// Generous: a fresh PGlite data folder runs initdb, which takes seconds on a busy 2-core machine.
const START_TIMEOUT_MS = 90_000

beforeAll(async () => {
  if (binary) return
  binary = join(scratch, 'build', 'telehook')
  const build = Bun.spawn(
    [process.execPath, 'run', 'apps/cli/scripts/compile.ts', '--outfile', binary],
    { cwd: root, stdout: 'pipe', stderr: 'pipe' },
  )
  if ((await build.exited) !== 0) {
    throw new Error(`compile failed: ${await new Response(build.stderr).text()}`)
  }
}, 300_000)

/** Every server started, so that a failed assertion never leaves one running after the suite. */
const spawned = new Set<ReturnType<typeof Bun.spawn>>()

afterAll(async () => {
  for (const proc of spawned) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await proc.exited
  }
  await rm(scratch, { recursive: true, force: true })
})

/** An empty folder holding only a copy of the binary. */
async function freshFolder(name: string): Promise<string> {
  const dir = join(scratch, name)
  await mkdir(dir, { recursive: true })
  await copyFile(binary, join(dir, 'telehook'))
  await Bun.spawn(['chmod', '755', join(dir, 'telehook')]).exited
  return dir
}

/** A bare environment: nothing from this repository's tooling leaks into the binary's run. */
function bareEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  // PATH holds only the binary's folder: no Bun, no node, no psql to lean on.
  return { PATH: dir, HOME: dir, ...extra }
}

interface Running {
  proc: ReturnType<typeof Bun.spawn>
  webhook: string
  admin: string
  stderr: () => string
  stop(): Promise<number>
}

async function serve(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const [port, adminPort] = await freePorts()
  const proc = Bun.spawn(
    ['./telehook', 'serve', '--port', String(port), '--admin-port', String(adminPort), ...args],
    { cwd: dir, env: bareEnv(dir, env), stdout: 'ignore', stderr: 'pipe' },
  )
  spawned.add(proc)
  let err = ''
  const reader = (async () => {
    const decoder = new TextDecoder()
    const stream = (proc.stderr as ReadableStream<Uint8Array>).getReader()
    for (;;) {
      const { done, value } = await stream.read()
      if (done) break
      err += decoder.decode(value, { stream: true })
    }
  })()
  const webhook = `http://127.0.0.1:${port}`
  const admin = `http://127.0.0.1:${adminPort}`
  // The banner is written once everything listens: wait for it too, tests read it.
  await waitUntilHealthy(webhook, {
    timeoutMs: START_TIMEOUT_MS,
    intervalMs: 50,
    until: () => err.includes('Try it'),
    exitCode: () => proc.exitCode,
    context: () => err,
  })
  const running: Running = {
    proc,
    webhook,
    admin,
    stderr: () => err,
    async stop() {
      proc.kill('SIGTERM')
      const code = await proc.exited
      await reader
      return code
    },
  }
  return running
}

function incomingMessage(id: string, secret: string, content = 'Hello'): string {
  return new URLSearchParams({
    event: 'incoming_message',
    id,
    message_type: 'sms',
    direction: 'incoming',
    status: 'received',
    content,
    from_number: '+16505550123',
    to_number: '+16505550001',
    time_created: '1700000000',
    contact_id: 'CTbinarytest000001',
    phone_id: 'PNbinarytest000001',
    project_id: 'PJbinarytest000001',
    secret,
  }).toString()
}

async function post(running: Running, body: string): Promise<Response> {
  return fetch(`${running.webhook}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
}

async function adminGet(running: Running, token: string, path: string): Promise<Response> {
  return fetch(`${running.admin}${path}`, { headers: { authorization: `Bearer ${token}` } })
}

/** The stored events whose Telerivet id is `id`, read through the admin API. */
async function eventsOf(running: Running, token: string, id: string) {
  const res = await adminGet(running, token, '/v1/events?event=incoming_message&limit=100')
  expect(res.status).toBe(200)
  const body = (await res.json()) as { data: { telerivet_id: string | null; id: string }[] }
  return body.data.filter((e) => e.telerivet_id === id)
}

async function run(dir: string, args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(['./telehook', ...args], {
    cwd: dir,
    env: bareEnv(dir, env),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ])
  return { code, stdout, stderr }
}

describe('telehook binary', () => {
  test('--version, --help, and one-line usage errors with exit 2', async () => {
    const dir = await freshFolder('cli')
    const version = await run(dir, ['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^telehook \d+\.\d+\.\d+\n$/)
    const help = await run(dir, ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('telehook serve')
    expect(help.stdout).toContain('Examples:')
    for (const [args, env, needle] of [
      [['serve', '--port', 'abc'], {}, '--port (PORT)'],
      [['serve'], { TELEHOOK_DEADLINE_MS: 'soon' }, 'TELEHOOK_DEADLINE_MS'],
      [['deploy'], {}, "unknown command 'deploy'"],
      [['serve', '--frobnicate'], {}, "'--frobnicate'"],
    ] as const) {
      const r = await run(dir, [...args], { ...env })
      expect(r.code).toBe(2)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(needle)
    }
    // Nothing was created by commands that failed to start.
    expect(await Bun.file(join(dir, '.telehook', 'PG_VERSION')).exists()).toBe(false)
  })

  test(
    'serves alone in an empty folder on PGlite, and keeps events across a restart',
    async () => {
      const dir = await freshFolder('pglite')
      let running = await serve(dir)
      const secret = (await readFile(join(dir, '.telehook', 'webhook-secret'), 'utf8')).trim()
      const token = (await readFile(join(dir, '.telehook', 'admin-token'), 'utf8')).trim()
      // stderr is not a terminal (as under journald or docker): the file is named, not the value.
      expect(running.stderr()).toContain(
        `Generated a webhook secret, kept in ${join(dir, '.telehook', 'webhook-secret')} (not printed into logs)`,
      )
      expect(running.stderr()).not.toContain(secret)
      expect(running.stderr()).not.toContain(token)
      // The printed curl, run as a user would paste it, gets a 200 and the bot's first question.
      const curl = running
        .stderr()
        .split('\n')
        .find((l) => l.startsWith('curl '))
      expect(curl).toBeDefined()
      const pasted = Bun.spawnSync(['bash', '-c', `${curl?.replace('curl -i', 'curl -s -i')}`])
      expect(pasted.stdout.toString()).toMatch(/^HTTP\/1\.1 200/)
      expect(pasted.stdout.toString()).toContain("What's your name?")

      const first = await post(running, incomingMessage('SMbinary00000000001', secret))
      expect(first.status).toBe(200)
      const reply = await first.text()
      expect(JSON.parse(reply).messages[0].content).toBe("Hi! What's your name?")
      const wrong = await post(running, incomingMessage('SMbinary00000000002', 'not-the-secret'))
      expect(wrong.status).toBe(403)

      const stored = await eventsOf(running, token, 'SMbinary00000000001')
      expect(stored).toHaveLength(1)
      expect(await eventsOf(running, token, 'SMbinary00000000002')).toHaveLength(0)
      // PGlite is one process per folder: a second opener is refused, not let in to corrupt it.
      const second = await run(dir, ['token', 'create'])
      expect(second.code).toBe(1)
      expect(second.stderr).toContain(`in use by process ${running.proc.pid}`)
      expect(await running.stop()).toBe(0)

      // Stopped, the folder is free again: an admin token made now works after the restart.
      const created = await run(dir, ['token', 'create', '--name', 'after-restart'])
      expect(created.code).toBe(0)
      const madeToken = created.stdout.trim()
      running = await serve(dir)
      expect(running.stderr()).not.toContain(secret)
      expect((await eventsOf(running, madeToken, 'SMbinary00000000001'))[0]?.id).toBe(stored[0]?.id)
      // A redelivery after the restart is still recognised, and answered with the stored bytes.
      const again = await post(running, incomingMessage('SMbinary00000000001', secret))
      expect(await again.text()).toBe(reply)
      expect(await running.stop()).toBe(0)
    },
    4 * START_TIMEOUT_MS,
  )

  test(
    '--handlers loads a TypeScript module from next to the binary: sync reply and async job',
    async () => {
      const dir = await freshFolder('handlers')
      await writeFile(
        join(dir, 'echo.ts'),
        `import { defineHandlers, reply } from '@telehook/protocol'
export default defineHandlers({
  sync: {
    incoming_message: (m) => reply().message({ content: \`Echo: \${m.content}\` }).build(),
  },
  async: {
    // Runs later, from the durable queue, in the same process (the worker).
    incoming_message: async (m) => {
      await Bun.write(\`async-\${m.id}.txt\`, m.content ?? '')
    },
  },
})
`,
      )
      const running = await serve(dir, ['--handlers', './echo.ts'], {
        TELEHOOK_SECRET: 'echo-secret-0123456',
      })
      const res = await post(
        running,
        incomingMessage('SMbinary00000000003', 'echo-secret-0123456', 'ping'),
      )
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ messages: [{ content: 'Echo: ping' }] })
      // Poll the content, not the existence: the file exists a moment before it is written.
      const asyncFile = join(dir, 'async-SMbinary00000000003.txt')
      let written = ''
      for (let i = 0; i < 600 && written === ''; i++) {
        written = await readFile(asyncFile, 'utf8').catch(() => '')
        if (written === '') await Bun.sleep(50)
      }
      expect(written).toBe('ping')
      // The simulator inside the same binary plays Telerivet against it.
      const sim = await run(dir, [
        'sim',
        'send',
        '--url',
        `${running.webhook}/webhook`,
        '--secret',
        'echo-secret-0123456',
        'from the simulator',
      ])
      expect(sim.code).toBe(0)
      expect(sim.stdout).toContain('Echo: from the simulator')
      expect(await running.stop()).toBe(0)

      const broken = await run(dir, ['serve', '--handlers', './missing.ts'])
      expect(broken.code).toBe(2)
      expect(broken.stderr).toContain('missing.ts')
    },
    2 * START_TIMEOUT_MS,
  )

  test.skipIf(!TEST_DRIVERS.includes('postgres'))(
    'serves on PostgreSQL through DATABASE_URL; migrate and token create work there',
    async () => {
      const name = `telehook_test_bin_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
      const adminDb = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false })
      await adminDb.db.execute(sql.raw(`create database ${name}`))
      const url = new URL(TEST_DATABASE_URL)
      url.pathname = `/${name}`
      const env = { DATABASE_URL: url.toString() }
      try {
        const dir = await freshFolder('postgres')
        const migrated = await run(dir, ['migrate'], env)
        expect(migrated.code).toBe(0)
        const created = await run(dir, ['token', 'create', '--name', 'binary-test'], env)
        expect(created.code).toBe(0)
        const token = created.stdout.trim()
        expect(token.length).toBeGreaterThan(16)

        const running = await serve(dir, ['--secret', 'pg-secret-value-0123'], {
          ...env,
          TELEHOOK_ADMIN_TOKEN: 'an-admin-token-that-is-long-enough',
          TELEHOOK_MASTER_KEY: Buffer.alloc(32, 5).toString('base64'),
        })
        const res = await post(
          running,
          incomingMessage('SMbinary00000000004', 'pg-secret-value-0123'),
        )
        expect(res.status).toBe(200)
        // The token made by `token create` works beside the configured one.
        expect(await eventsOf(running, token, 'SMbinary00000000004')).toHaveLength(1)
        expect(await running.stop()).toBe(0)
        // No PGlite data folder was made: the events live in PostgreSQL.
        expect(await Bun.file(join(dir, '.telehook', 'PG_VERSION')).exists()).toBe(false)
      } finally {
        await adminDb.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
        await adminDb.close()
      }
    },
    2 * START_TIMEOUT_MS,
  )
})
