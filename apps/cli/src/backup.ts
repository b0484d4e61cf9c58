/**
 * @module `telehook backup`: a PGlite data folder written to one gzipped tarball, with PGlite's
 * own `dumpDataDir`, while no server has the folder open (the lock says so).
 */
import { existsSync } from 'node:fs'
import { chmod, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { lockDataDir } from '@telehook/db'
import { pgliteAssets } from './pglite-embedded.ts'

/** What a backup wrote. */
export interface BackupResult {
  path: string
  bytes: number
}

/**
 * Writes the database in `dataDir` to `out` (mode 0600: it holds the stored data, and the key
 * files kept in the folder). The folder is locked meanwhile, so a running server refuses it and a
 * server started during the backup waits for nothing: it is refused too.
 * @example await backupDataDir('./.telehook', 'telehook-2026-11-30.tar.gz')
 */
export async function backupDataDir(dataDir: string, out: string): Promise<BackupResult> {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new Error(`no PGlite database in ${dataDir} (see --data-dir)`)
  }
  const release = await lockDataDir(dataDir)
  try {
    const client = new PGlite(dataDir, { ...(await pgliteAssets()) })
    let blob: Blob
    try {
      await client.waitReady
      // A checkpoint first: the tarball then needs no WAL replay to be consistent.
      await client.query('checkpoint')
      blob = await client.dumpDataDir('gzip')
    } finally {
      await client.close()
    }
    // Written beside the target and renamed: a cut-short backup never looks complete.
    const partial = `${out}.partial`
    await writeFile(partial, new Uint8Array(await blob.arrayBuffer()), { mode: 0o600 })
    await chmod(partial, 0o600)
    await rename(partial, out).catch(async (error: unknown) => {
      await rm(partial, { force: true })
      throw error
    })
    return { path: out, bytes: blob.size }
  } finally {
    await release()
  }
}
