import { afterAll, expect, spyOn, test } from 'bun:test'
import * as fsPromises from 'node:fs/promises'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataDirLockedError, lockDataDir } from './data-lock'

const dir = await mkdtemp(join(tmpdir(), 'telehook-lock-'))
afterAll(() => rm(dir, { recursive: true, force: true }))
const lockFile = join(dir, 'telehook.lock')

test('a live process holding the folder refuses another; release frees it', async () => {
  // A real other process: `sleep` holds a pid that is alive and not ours.
  const other = Bun.spawn(['sleep', '30'])
  try {
    await writeFile(lockFile, `${other.pid}\n`)
    const error = await lockDataDir(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DataDirLockedError)
    expect((error as Error).message).toContain(`process ${other.pid}`)
    expect((error as Error).message).toContain('DATABASE_URL')
    // A pid reused by an unrelated process after a reboot: the message says what to delete.
    expect((error as Error).message).toContain(`delete ${lockFile}`)
  } finally {
    other.kill()
    await other.exited
  }
  // The holder is gone now: its lock is stale and taken over.
  const release = await lockDataDir(dir)
  expect((await readFile(lockFile, 'utf8')).trim()).toBe(String(process.pid))
  await release()
  expect(await Bun.file(lockFile).exists()).toBe(false)
})

test('a lock left by this same pid (a container restarted as pid 1) is stale', async () => {
  await writeFile(lockFile, `${process.pid}\n`)
  const release = await lockDataDir(dir)
  await release()
})

test('a second lock in this same process is refused until the first is released', async () => {
  const release = await lockDataDir(dir)
  const error = await lockDataDir(dir).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(DataDirLockedError)
  expect((error as Error).message).toContain('already open in this process')
  // Releasing twice is harmless and does not free a folder someone else took meanwhile.
  await release()
  const again = await lockDataDir(dir)
  await release()
  expect(await Bun.file(lockFile).exists()).toBe(true)
  await again()
  expect(await Bun.file(lockFile).exists()).toBe(false)
})

/**
 * Makes `rm` fail with `code` as it does on a file system that has turned read-only (`EROFS`),
 * without mounting anything; `restore()` gives the real one back.
 */
function failingRm(code: string) {
  return spyOn(fsPromises, 'rm').mockImplementation(async (path) => {
    throw Object.assign(new Error(`${code}: simulated, unlink '${String(path)}'`), { code })
  })
}

test('a lock file a read-only disk keeps is a warning, not a failure; the folder is free again', async () => {
  const warnings: string[] = []
  const release = await lockDataDir(dir, {
    warn: (message, error) => warnings.push(`${error.code} ${message}`),
  })
  const readOnly = failingRm('EROFS')
  try {
    await release()
  } finally {
    readOnly.mockRestore()
  }
  expect(warnings).toHaveLength(1)
  expect(warnings[0]).toStartWith(`EROFS could not remove the lock file ${lockFile}`)
  expect(warnings[0]).toContain('read-only')
  // Left behind with this pid: this process (or the next start, once it has exited) takes it over.
  expect((await readFile(lockFile, 'utf8')).trim()).toBe(String(process.pid))
  const again = await lockDataDir(dir)
  await again()
  expect(await Bun.file(lockFile).exists()).toBe(false)
})

test('by default the warning is one line on stderr; a lock file already gone is one too', async () => {
  const stderr = spyOn(console, 'error').mockImplementation(() => {})
  try {
    const release = await lockDataDir(dir)
    const readOnly = failingRm('EROFS')
    await release().finally(() => readOnly.mockRestore())
    const gone = await lockDataDir(dir)
    await rm(lockFile)
    await gone()
    expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/^telehook: could not remove the lock file .*read-only \(EROFS\)/),
      expect.stringMatching(/^telehook: the lock file .* was already gone/),
    ])
  } finally {
    stderr.mockRestore()
  }
})

test('any other error removing the lock file still fails the release', async () => {
  const warnings: string[] = []
  const release = await lockDataDir(dir, { warn: (message) => warnings.push(message) })
  const broken = failingRm('EIO')
  await expect(release().finally(() => broken.mockRestore())).rejects.toThrow('EIO')
  expect(warnings).toEqual([])
  // The database is closed all the same: the folder is not held in this process any more.
  const again = await lockDataDir(dir)
  await again()
})
