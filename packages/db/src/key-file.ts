/**
 * @module Secrets generated on first start and kept in the data folder (next to its lock), readable
 * by the owner only: the webhook secret, the admin token and the master key of a PGlite install.
 */
import { randomUUID } from 'node:crypto'
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { syncPath } from './data-lock'

/** A secret read from, or just written to, `<dataDir>/<name>`. */
export interface KeyFileValue {
  value: string
  path: string
  created: boolean
}

/** The trimmed content, or null when the file does not exist. */
async function readKey(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/**
 * Returns the secret stored in `<dataDir>/<name>`, creating it with `generate()` (mode 0600) when
 * absent, so a restart keeps the same secret without configuration. The new file is written under
 * a temporary name and then hard-linked into place: the link fails if the name exists, so
 * concurrent first starts (threads or processes) all end up with the one value that won, and no
 * reader ever sees a half-written file.
 * @example const { value, created } = await readOrCreateKeyFile('.telehook', 'admin-token', makeToken)
 */
export async function readOrCreateKeyFile(
  dataDir: string,
  name: string,
  generate: () => string,
): Promise<KeyFileValue> {
  const path = join(dataDir, name)
  const existing = await readKey(path)
  if (existing !== null) return { value: nonEmpty(existing, path), path, created: false }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const value = generate()
  const tmp = join(dataDir, `.${name}.${randomUUID()}.tmp`)
  try {
    await writeFile(tmp, `${value}\n`, { mode: 0o600, flag: 'wx' })
    // The mode given to writeFile is filtered by the umask.
    await chmod(tmp, 0o600)
    // On disk before it gets its name, and the name on disk before the value is used: a crash or
    // a disk turned read-only soon after the first start left an empty key file behind (seen in
    // the disk drill), and every later start refused it (and a master key lost loses what it
    // encrypted).
    syncPath(tmp)
    try {
      await link(tmp, path)
      syncPath(dataDir, { folder: true })
      return { value, path, created: true }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  } finally {
    await rm(tmp, { force: true })
  }
  // Another creator won the race: its file was complete before it got its name.
  const theirs = await readKey(path)
  if (theirs === null) throw new Error(`${path} disappeared while it was being created`)
  return { value: nonEmpty(theirs, path), path, created: false }
}

function nonEmpty(value: string, path: string): string {
  // Not regenerated: a secret replaced behind the operator's back would break whatever uses it.
  if (value === '') throw new Error(`${path} is empty: delete it to generate a new one`)
  return value
}
