/**
 * @module The initialised PGlite data directory shipped with this package: `assets/pgdata.tar.gz`
 * (PGlite's `dumpDataDir` of a fresh initdb, made by `bun run --cwd packages/db pgdata` with the
 * PGlite in use; `assets/pgdata.json` names that version). A new PGlite database starts from it
 * instead of running initdb, which in WebAssembly takes seconds and runs a second PGlite instance
 * inside the process: a peak near 1 GB of RSS, about 680 MB of it still held afterwards.
 * Migrations are not in it: they are applied at start, as on any folder.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { PGlite } from '@electric-sql/pglite'

/** Where the tarball lives (inside a compiled binary it is embedded by the CLI instead). */
export const PGDATA_SEED = new URL('../assets/pgdata.tar.gz', import.meta.url)
const PGDATA_VERSION = new URL('../assets/pgdata.json', import.meta.url)

/** The shipped tarball, or null when it is not there (then PGlite runs initdb). */
export async function bundledSeed(): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(PGDATA_SEED))
  } catch {
    return null
  }
}

/** The installed PGlite's version. */
export function pgliteVersion(): string {
  const require = createRequire(import.meta.url)
  return (require('@electric-sql/pglite/package.json') as { version: string }).version
}

/** The PGlite version that made the shipped tarball, or null when there is none. */
export async function seedVersion(): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(PGDATA_VERSION, 'utf8')) as { pglite: string }).pglite
  } catch {
    return null
  }
}

/** Runs initdb in memory with the installed PGlite and writes the tarball and its version file. */
export async function makePgdata(): Promise<{ path: string; bytes: number }> {
  const db = new PGlite()
  await db.waitReady
  const blob = await db.dumpDataDir('gzip')
  await db.close()
  await writeFile(PGDATA_SEED, new Uint8Array(await blob.arrayBuffer()))
  await writeFile(PGDATA_VERSION, `${JSON.stringify({ pglite: pgliteVersion() }, null, 2)}\n`)
  return { path: PGDATA_SEED.pathname, bytes: blob.size }
}
