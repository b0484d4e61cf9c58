import { afterAll, expect, spyOn, test } from 'bun:test'
import * as fs from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readOrCreateKeyFile } from './key-file'

const dir = await mkdtemp(join(tmpdir(), 'telehook-keyfile-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

test('creates the key once with mode 0600, then reads it back', async () => {
  const dataDir = join(dir, 'nested', 'data')
  let calls = 0
  const first = await readOrCreateKeyFile(dataDir, 'webhook-secret', () => `s${++calls}`)
  expect(first).toEqual({ value: 's1', path: join(dataDir, 'webhook-secret'), created: true })
  expect((await stat(first.path)).mode & 0o777).toBe(0o600)
  const second = await readOrCreateKeyFile(dataDir, 'webhook-secret', () => `s${++calls}`)
  expect(second).toEqual({ ...first, created: false })
  expect(calls).toBe(1)
  // No temporary file is left behind.
  expect(await readdir(dataDir)).toEqual(['webhook-secret'])
})

test('concurrent first starts agree on one value, and exactly one of them created it', async () => {
  const dataDir = join(dir, 'race')
  let n = 0
  const results = await Promise.all(
    Array.from({ length: 8 }, () => readOrCreateKeyFile(dataDir, 'admin-token', () => `t${++n}`)),
  )
  const values = new Set(results.map((r) => r.value))
  expect(values.size).toBe(1)
  expect(results.filter((r) => r.created)).toHaveLength(1)
  expect((await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()).toBe([...values][0] ?? '')
  expect(await readdir(dataDir)).toEqual(['admin-token'])
})

test('concurrent processes agree on one value', async () => {
  const dataDir = join(dir, 'processes')
  const script = `
    const { readOrCreateKeyFile } = await import(${JSON.stringify(join(import.meta.dir, 'key-file.ts'))})
    const r = await readOrCreateKeyFile(process.argv.at(-1), 'master.key', () => crypto.randomUUID())
    console.log(r.value)`
  const procs = Array.from({ length: 4 }, () =>
    Bun.spawn(['bun', '-e', script, dataDir], { stdout: 'pipe', stderr: 'inherit' }),
  )
  const outs = await Promise.all(procs.map((p) => new Response(p.stdout).text()))
  expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0])
  const values = new Set(outs.map((o) => o.trim()))
  expect(values.size).toBe(1)
  expect((await readFile(join(dataDir, 'master.key'), 'utf8')).trim()).toBe([...values][0] ?? '')
})

test('an empty file is an error, not silently replaced', async () => {
  const dataDir = join(dir, 'empty')
  await readOrCreateKeyFile(dataDir, 'webhook-secret', () => 'x')
  await writeFile(join(dataDir, 'webhook-secret'), '\n')
  await expect(readOrCreateKeyFile(dataDir, 'webhook-secret', () => 'y')).rejects.toThrow(
    'is empty: delete it',
  )
})

test('a new key reaches the disk before it gets its name, and its name before it is used', async () => {
  const dataDir = join(dir, 'durable')
  const path = join(dataDir, 'master-key')
  const steps: string[] = []
  const data = spyOn(fs, 'fdatasyncSync').mockImplementation(() => {
    // The value is flushed while it still has only its temporary name.
    steps.push(fs.existsSync(path) ? 'data after link' : 'data before link')
  })
  const folder = spyOn(fs, 'fsyncSync').mockImplementation(() => {
    steps.push(fs.existsSync(path) ? 'folder after link' : 'folder before link')
  })
  try {
    const key = await readOrCreateKeyFile(dataDir, 'master-key', () => 'k1')
    expect(key.created).toBe(true)
  } finally {
    data.mockRestore()
    folder.mockRestore()
  }
  expect(steps).toEqual(['data before link', 'folder after link'])
})
