/**
 * @module A PGlite data folder written from a tarball of an initialised one (PGlite's
 * `dumpDataDir`), instead of running initdb: initdb in WebAssembly takes seconds and most of a
 * gigabyte of memory, writing the ~40 MB of files takes a fraction of a second. PGlite's own
 * `loadDataDir` option does the same through its in-memory file system, which is several times
 * slower than writing the files here and letting PGlite open them as an existing folder.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, normalize, sep } from 'node:path'
import { gunzipSync } from 'node:zlib'

/** One file or folder of a ustar archive. */
interface TarEntry {
  path: string
  type: 'file' | 'dir'
  data: Uint8Array
}

function text(block: Uint8Array, start: number, length: number): string {
  const bytes = block.subarray(start, start + length)
  const end = bytes.indexOf(0)
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end))
}

/** The files and folders of an uncompressed ustar archive (other entry types are skipped). */
export function readTar(tar: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = []
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512)
    if (header.every((b) => b === 0)) break
    const name = text(header, 0, 100)
    const prefix = text(header, 345, 155)
    const size = Number.parseInt(text(header, 124, 12).trim() || '0', 8)
    const flag = String.fromCharCode(header[156] ?? 0)
    const path = prefix ? `${prefix}/${name}` : name
    const data = tar.subarray(at + 512, at + 512 + size)
    if (flag === '5') entries.push({ path, type: 'dir', data })
    else if (flag === '0' || flag === '\0') entries.push({ path, type: 'file', data })
    at += 512 + Math.ceil(size / 512) * 512
  }
  return entries
}

/** `path` inside `root`, refusing anything that would land outside it. */
function inside(root: string, path: string): string {
  const relative = normalize(path.replace(/^\/+/, ''))
  if (relative === '.' || relative.startsWith(`..${sep}`) || relative === '..') {
    throw new Error(`pgdata seed: bad path '${path}' in the archive`)
  }
  return join(root, relative)
}

/**
 * Writes the initialised data directory of the gzipped tarball `tarGz()` gives into `dataDir`
 * when it has no `PG_VERSION` (files 0600, folders 0700). `PG_VERSION` is written last: a seeding
 * cut short is redone on the next start rather than taken for a database. Returns whether it
 * wrote anything (not when `tarGz()` gives null: then PGlite runs initdb).
 * @example await seedDataDir('./.telehook', () => Bun.file('pgdata.tar.gz').bytes())
 */
export async function seedDataDir(
  dataDir: string,
  tarGz: () => Promise<Uint8Array | null>,
): Promise<boolean> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return false
  const tar = await tarGz()
  if (tar === null) return false
  const entries = readTar(new Uint8Array(gunzipSync(tar)))
  const version = entries.find((e) => e.path.replace(/^\/+/, '') === 'PG_VERSION')
  if (!version) throw new Error('pgdata seed: the archive has no PG_VERSION')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  for (const e of entries) {
    if (e.type === 'dir') await mkdir(inside(dataDir, e.path), { recursive: true, mode: 0o700 })
  }
  for (const e of entries) {
    if (e.type === 'file' && e !== version) {
      await writeFile(inside(dataDir, e.path), e.data, { mode: 0o600 })
    }
  }
  await writeFile(inside(dataDir, version.path), version.data, { mode: 0o600 })
  return true
}
