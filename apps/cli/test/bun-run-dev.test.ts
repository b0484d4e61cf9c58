import { afterAll, expect, test } from 'bun:test'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'

// Ctrl-C in a terminal sends SIGINT to the whole foreground process group; under `bun run dev`
// the server then also gets it relayed by turbo and by `bun run`. One press must drain and exit 0.
const root = resolve(import.meta.dir, '../../..')
const dataDir = await mkdtemp(join(tmpdir(), 'telehook-bun-run-dev-'))
afterAll(() => rm(dataDir, { recursive: true, force: true }))

test('Ctrl-C on `bun run dev` drains, frees the data folder and exits 0', async () => {
  const [port, adminPort] = await freePorts(2)
  let output = ''
  // detached: a process group of its own, led by `bun run dev`, as a shell makes for a job.
  const child = spawn('bun', ['run', 'dev'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: '127.0.0.1',
      TELEHOOK_DATA_DIR: dataDir,
      DATABASE_URL: '',
    },
  })
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  const pid = child.pid ?? 0
  try {
    await waitUntilHealthy(`http://127.0.0.1:${port}`, {
      timeoutMs: 90_000,
      exitCode: () => child.exitCode,
      context: () => output,
    })
    expect(existsSync(join(dataDir, 'telehook.lock'))).toBe(true)
    process.kill(-pid, 'SIGINT')
    expect(await exited).toBe(0)
  } finally {
    if (child.exitCode === null) process.kill(-pid, 'SIGKILL')
  }
  expect(output).toContain('telehook: SIGINT, stopping')
  // Printed after the server drained, the worker stopped and the database closed.
  expect(output).toContain('telehook: stopped')
  expect(existsSync(join(dataDir, 'telehook.lock'))).toBe(false)
}, 120_000)

test('a relative TELEHOOK_HANDLERS is resolved from where `bun run dev` was run, and named', async () => {
  const name = `./no-such-handlers-${crypto.randomUUID().slice(0, 8)}.ts`
  const proc = Bun.spawn(['bun', 'run', 'dev'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, TELEHOOK_HANDLERS: name, TELEHOOK_DATA_DIR: dataDir, DATABASE_URL: '' },
  })
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  const line = `${stdout}\n${stderr}`.split('\n').find((l) => l.startsWith('telehook: '))
  expect(line).toBe(
    `telehook: TELEHOOK_HANDLERS: no such file '${join(root, name)}' (${name} resolved from ${root})`,
  )
}, 60_000)
