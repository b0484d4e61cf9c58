/**
 * @module One process per PGlite data folder. PGlite is PostgreSQL in this process's memory: two
 * processes opening the same folder run two independent servers over the same files, and corrupt
 * it. Nothing in PGlite refuses the second one, so the CLI holds a lock file while it is open.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The folder is open in another live process. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data folder ${dataDir} is in use by process ${pid} (PGlite allows one process per folder): stop it, or share a PostgreSQL through DATABASE_URL`,
    )
  }
}

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
 * left by a process that is gone (killed, crashed) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'telehook.lock')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
      return async () => {
        await rm(path, { force: true })
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
}
