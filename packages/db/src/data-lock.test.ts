import { afterAll, expect, test } from 'bun:test'
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
