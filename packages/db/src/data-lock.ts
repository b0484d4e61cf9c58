/**
 * @module One opener per PGlite data folder. PGlite is PostgreSQL in this process's memory: two
 * processes (or two PGlite instances in one process) opening the same folder run two independent
 * servers over the same files, and corrupt it. Nothing in PGlite refuses the second one, so
 * `openDb` holds a lock file while the folder is open.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, readdirSync } from 'node:fs'
import { chmod, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
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

/** The data folder is open to other users and this process cannot close it (not its owner). */
export class DataDirPermissionError extends Error {
  override name = 'DataDirPermissionError'
  constructor(
    readonly dataDir: string,
    readonly mode: number,
  ) {
    super(
      `the data folder ${dataDir} is open to other users (mode ${mode.toString(8)}) and could not be made private: run \`chmod 700 ${dataDir}\` as its owner, or give this user a folder of its own (it holds the events, and the admin-token and secret files)`,
    )
  }
}

/**
 * Removes group and other permissions from everything under `dir` (symbolic links left alone).
 * PGlite's first start copies its initial files in as 0666 whatever the umask, so `openDb` runs
 * this once PGlite is ready; the folder itself being 0700 is what keeps other users out meanwhile.
 */
export async function makeFilesPrivate(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue
    const path = join(dir, entry.name)
    const { mode } = await lstat(path)
    if ((mode & 0o077) !== 0) await chmod(path, mode & 0o700).catch(() => {})
    if (entry.isDirectory()) await makeFilesPrivate(path)
  }
}

/**
 * Flushes every file and folder under `dir` to disk (fdatasync, fsync for folders). A data folder
 * may come from a seed or a copy that is still only in the operating system's cache; PostgreSQL
 * flushes its own writes, but not files it finds (it does so only after a crash). Without this, a
 * disk error in the first seconds (the disk drill's read-only file system) lost
 * `postgresql.conf` itself. About 0.6 s for a new 39 MB folder (1 087 files), 0.1 s once on disk.
 */
export function syncTree(dir: string): void {
  // Synchronous calls: twice as fast as the promise API here, and run once, before serving.
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) syncTree(path)
    else if (entry.isFile()) syncFd(openSync(path, 'r'), fdatasyncSync)
  }
  syncFd(openSync(dir, 'r'), fsyncSync)
}

/**
 * Flushes one file's data (`fdatasync`) or one folder's entries (`fsync`, `folder: true`) to disk.
 * @example syncPath(join(dir, 'master-key')); syncPath(dir, { folder: true })
 */
export function syncPath(path: string, { folder = false }: { folder?: boolean } = {}): void {
  syncFd(openSync(path, 'r'), folder ? fsyncSync : fdatasyncSync)
}

function syncFd(fd: number, sync: (fd: number) => void): void {
  try {
    sync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Makes a PGlite data folder private to this user before it is opened: the folder becomes 0700
 * (anything already in it loses its group and other permissions), and this process creates files
 * with umask 077 from now on, so every table file PGlite writes is 0600. Throws a
 * {@link DataDirPermissionError} when the folder is open to others and cannot be changed.
 */
export async function secureDataDir(
  dataDir: string,
  /** Replaced in tests only: a folder of another user cannot be made without root. */
  changeMode: (path: string, mode: number) => Promise<void> = chmod,
): Promise<void> {
  process.umask(0o077)
  const { mode } = await stat(dataDir)
  if ((mode & 0o077) === 0) return
  try {
    await changeMode(dataDir, 0o700)
  } catch {
    throw new DataDirPermissionError(dataDir, mode & 0o777)
  }
  // Files made while the folder was open (an older version, a shared volume) were readable.
  await makeFilesPrivate(dataDir)
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

export interface LockOptions {
  /**
   * Where the release's warning goes when the lock file stays behind (default: one line on
   * stderr, `telehook: ` and `message`). See {@link lockDataDir}.
   */
  warn?: (message: string, error: NodeJS.ErrnoException) => void
}

/** Release errors that leave nothing to undo: the lock cannot be removed, or is gone already. */
const LEFT_BEHIND = new Map<string | undefined, (path: string) => string>([
  [
    'EROFS',
    (path) =>
      `could not remove the lock file ${path}: its file system is read-only (EROFS); left behind, it is taken over by the next start once this process has exited`,
  ],
  [
    'ENOENT',
    (path) =>
      `the lock file ${path} was already gone when the data folder was closed: something else removed it while this process held the folder`,
  ],
])

/**
 * Takes `<dataDir>/telehook.lock` for this process and resolves to its release function. A lock
 * left by a process that is gone (killed, crashed, or a previous run under the same pid, as a
 * container's pid 1) is taken over. The folder is made private first (see {@link secureDataDir}).
 * The release frees the folder in this process whatever happens to the file; a file that cannot
 * be removed because the file system has turned read-only (EROFS), or that is gone already
 * (ENOENT), is a warning (`warn`), not a failure: such a lock is stale once this process exits
 * and the next start takes it over. Other errors reject.
 * @example const release = await lockDataDir('./.telehook'); try { … } finally { await release() }
 */
export async function lockDataDir(
  dataDir: string,
  { warn = (message) => console.error(`telehook: ${message}`) }: LockOptions = {},
): Promise<() => Promise<void>> {
  const key = resolve(dataDir)
  if (held.has(key)) throw new DataDirLockedError(dataDir, process.pid)
  held.add(key)
  const path = join(dataDir, 'telehook.lock')
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    await secureDataDir(dataDir)
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
        let released = false
        return async () => {
          if (released) return
          released = true
          try {
            await rm(path)
          } catch (error) {
            const left = LEFT_BEHIND.get((error as NodeJS.ErrnoException).code)
            if (!left) throw error
            warn(left(path), error as NodeJS.ErrnoException)
          } finally {
            // The database is closed: the folder is free in this process either way.
            held.delete(key)
          }
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
