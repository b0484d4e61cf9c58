/** @module Secrets generated on first start and kept in the data folder, readable by the owner only. */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** A secret read from, or just written to, `<dataDir>/<name>`. */
export interface KeyFileValue {
  value: string
  path: string
  created: boolean
}

/**
 * Returns the secret stored in `<dataDir>/<name>`, creating it with `generate()` (mode 0600) when
 * absent, so a restart keeps the same webhook secret and admin token without configuration.
 */
export async function readOrCreateKeyFile(
  dataDir: string,
  name: string,
  generate: () => string,
): Promise<KeyFileValue> {
  const path = join(dataDir, name)
  try {
    const value = (await readFile(path, 'utf8')).trim()
    if (value !== '') return { value, path, created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const value = generate()
  // 'wx' fails if another instance created it meanwhile: then read theirs.
  try {
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' })
    await chmod(path, 0o600)
    return { value, path, created: true }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return { value: (await readFile(path, 'utf8')).trim(), path, created: false }
  }
}
