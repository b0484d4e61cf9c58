/**
 * @module One opener per PGlite data folder. PGlite is PostgreSQL in this process's memory: two
 * processes (or two PGlite instances in one process) opening the same folder run two independent
 * servers over the same files, and corrupt it. Nothing in PGlite refuses the second one, so
 * `openDb` holds a lock file while the folder is open.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import process from 'node:process'

/** The folder is open in another live process, or already open in this one. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `the data folder ${dataDir} is already open in this process (PGlite allows one opener per folder): close it first`
        : `the data folder ${dataDir} is in use by process ${pid} (PGlite allows one process per folder): stop it, or share a PostgreSQL through DATABASE_URL (if ${pid} is not Telehook, as after a reboot, delete ${join(dataDir, 'telehook.lock')})`,
    )
  }
}

/** Folders this process holds: our own pid in a lock file is ours only if it is listed here. */
const held = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `<dataDir>/telehook.lock` for this process and resolves to its release function. A lock
 * left by a process that is gone (killed, crashed, or a previous run under the same pid, as a
 * container's pid 1) is taken over.
 * @example const release = await lockDataDir('./.telehook'); try { … } finally { await release() }
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const key = resolve(dataDir)
  if (held.has(key)) throw new DataDirLockedError(dataDir, process.pid)
  held.add(key)
  const path = join(dataDir, 'telehook.lock')
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
        let released = false
        return async () => {
          if (released) return
          released = true
          await rm(path, { force: true })
          held.delete(key)
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new DataDirLockedError(dataDir, holder)
      }
      // Stale (or unreadable mid-write by a racer): remove and try again.
      await rm(path, { force: true })
    }
    throw new Error(`could not lock the data folder ${dataDir}`)
  } catch (error) {
    held.delete(key)
    throw error
  }
}
