import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readOrCreateKeyFile } from '../src/key-file'

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
})

test('concurrent first starts agree on one value', async () => {
  let n = 0
  const results = await Promise.all(
    Array.from({ length: 5 }, () => readOrCreateKeyFile(dir, 'admin-token', () => `t${++n}`)),
  )
  expect(new Set(results.map((r) => r.value)).size).toBe(1)
})
