/**
 * @module `bun run --cwd apps/cli pgdata`: makes `assets/pgdata.tar.gz`, the initialised PGlite
 * data directory that a new data folder starts from (instead of running initdb at the user's
 * first start), and `assets/pgdata.json`, the PGlite version that made it. Run it again after
 * upgrading PGlite (`bun run compile` and a test check that the two agree). Migrations are not
 * in it: they are applied at start, as on any folder.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { pgliteAssets } from '../src/pglite-embedded.ts'

export const ASSETS = join(import.meta.dir, '..', 'assets')

/** The installed PGlite's version. */
export async function pgliteVersion(): Promise<string> {
  const pkg = Bun.resolveSync('@electric-sql/pglite/package.json', import.meta.dir)
  return ((await Bun.file(pkg).json()) as { version: string }).version
}

/** What `assets/pgdata.json` says made the tarball, or null when there is none. */
export async function seedVersion(): Promise<string | null> {
  const file = Bun.file(join(ASSETS, 'pgdata.json'))
  if (!(await file.exists())) return null
  return ((await file.json()) as { pglite: string }).pglite
}

/** Runs initdb in memory and writes the tarball and its version file. */
export async function makePgdata(): Promise<{ path: string; bytes: number }> {
  const db = new PGlite({ ...(await pgliteAssets()) })
  await db.waitReady
  const blob = await db.dumpDataDir('gzip')
  await db.close()
  await mkdir(ASSETS, { recursive: true })
  const path = join(ASSETS, 'pgdata.tar.gz')
  await Bun.write(path, blob)
  await Bun.write(
    join(ASSETS, 'pgdata.json'),
    `${JSON.stringify({ pglite: await pgliteVersion() }, null, 2)}\n`,
  )
  return { path, bytes: blob.size }
}

if (import.meta.main) {
  const started = performance.now()
  const { path, bytes } = await makePgdata()
  console.log(
    `wrote ${path} (${(bytes / 1024 / 1024).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
}
