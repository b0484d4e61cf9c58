/**
 * A PGlite data folder is private to its user: made 0700 at start, whatever it was, and every
 * file PGlite writes is created with umask 077.
 */
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test'
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from './client'
import { DataDirPermissionError, secureDataDir } from './data-lock'

setDefaultTimeout(60_000)

const root = await mkdtemp(join(tmpdir(), 'telehook-mode-'))
afterAll(() => rm(root, { recursive: true, force: true }))

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

/** Every file and folder under `dir` with a group or other permission bit. */
async function loose(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name)
    if (entry.isSymbolicLink()) continue
    if (((await stat(path)).mode & 0o077) !== 0)
      found.push(`${path} ${(await modeOf(path)).toString(8)}`)
  }
  return found
}

test('a folder that already existed as 0755 with 0666 files is private after open, and the files PGlite writes are 0600', async () => {
  const dataDir = join(root, 'existing')
  await mkdir(dataDir)
  await chmod(dataDir, 0o755)
  await mkdir(join(dataDir, 'old'))
  await chmod(join(dataDir, 'old'), 0o777)
  await writeFile(join(dataDir, 'old', 'table-file'), 'x')
  await chmod(join(dataDir, 'old', 'table-file'), 0o666)
  const previous = process.umask(0o022)
  try {
    const database = await openDb({ dataDir })
    try {
      await database.ping()
      expect(await modeOf(dataDir)).toBe(0o700)
      expect(await modeOf(join(dataDir, 'old', 'table-file'))).toBe(0o600)
      expect(await loose(dataDir)).toEqual([])
    } finally {
      await database.close()
    }
  } finally {
    process.umask(previous)
  }
})

test('a folder open to others that this user cannot change: one clear error', async () => {
  const dataDir = join(root, 'not-ours')
  await mkdir(dataDir)
  await chmod(dataDir, 0o755)
  const refused = async () => {
    throw Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' })
  }
  const error = await secureDataDir(dataDir, refused).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(DataDirPermissionError)
  expect((error as Error).message).toContain('mode 755')
  expect((error as Error).message).toContain(`chmod 700 ${dataDir}`)
})

test('secureDataDir leaves a private folder as it is', async () => {
  const dataDir = join(root, 'private')
  await mkdir(dataDir, { mode: 0o700 })
  await secureDataDir(dataDir)
  expect(await modeOf(dataDir)).toBe(0o700)
})
