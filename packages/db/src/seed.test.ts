import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { readTar, seedDataDir } from './seed'

const root = await mkdtemp(join(tmpdir(), 'telehook-seed-'))
afterAll(() => rm(root, { recursive: true, force: true }))

/** A ustar archive of `entries` (a path ending in / is a folder). */
function tar(entries: [string, string][]): Uint8Array {
  const blocks: Uint8Array[] = []
  for (const [path, content] of entries) {
    const header = new Uint8Array(512)
    const put = (at: number, text: string) => header.set(new TextEncoder().encode(text), at)
    const dir = path.endsWith('/')
    const data = new TextEncoder().encode(content)
    put(0, dir ? path.slice(0, -1) : path)
    put(100, dir ? '0000750\0' : '0000600\0')
    put(124, `${data.length.toString(8).padStart(11, '0')}\0`)
    put(156, dir ? '5' : '0')
    put(257, 'ustar\0')
    blocks.push(header)
    if (!dir) {
      const body = new Uint8Array(Math.ceil(data.length / 512) * 512)
      body.set(data)
      blocks.push(body)
    }
  }
  blocks.push(new Uint8Array(1024))
  return new Uint8Array(Buffer.concat(blocks))
}

test('readTar lists folders and files with their content', () => {
  const entries = readTar(
    tar([
      ['/base/', ''],
      ['/base/1', 'one'],
      ['/PG_VERSION', '17\n'],
    ]),
  )
  expect(entries.map((e) => [e.path, e.type, new TextDecoder().decode(e.data)])).toEqual([
    ['/base', 'dir', ''],
    ['/base/1', 'file', 'one'],
    ['/PG_VERSION', 'file', '17\n'],
  ])
})

test('seedDataDir writes an empty folder once, and never a path outside it', async () => {
  const dir = join(root, 'a')
  const archive = gzipSync(
    tar([
      ['/base/', ''],
      ['/base/1', 'one'],
      ['/PG_VERSION', '17\n'],
    ]),
  )
  let reads = 0
  const read = async () => {
    reads++
    return new Uint8Array(archive)
  }
  expect(await seedDataDir(dir, read)).toBe(true)
  expect(await readFile(join(dir, 'base', '1'), 'utf8')).toBe('one')
  expect(await readFile(join(dir, 'PG_VERSION'), 'utf8')).toBe('17\n')
  expect(await seedDataDir(dir, read)).toBe(false)
  expect(reads).toBe(1)
  const evil = gzipSync(
    tar([
      ['/../escaped', 'x'],
      ['/PG_VERSION', '17\n'],
    ]),
  )
  await expect(seedDataDir(join(root, 'b'), async () => new Uint8Array(evil))).rejects.toThrow(
    /bad path/,
  )
})
