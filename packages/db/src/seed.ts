/**
 * @module A PGlite data folder written from a tarball of an initialised one (PGlite's
 * `dumpDataDir`), instead of running initdb: initdb in WebAssembly takes seconds and most of a
 * gigabyte of memory, writing the ~40 MB of files takes a fraction of a second. PGlite's own
 * `loadDataDir` option does the same through its in-memory file system, which is several times
 * slower than writing the files here and letting PGlite open them as an existing folder.
 */
import { existsSync } from 'node:fs'
import { mkdir, open, writeFile } from 'node:fs/promises'
import { dirname, join, normalize, sep } from 'node:path'
import { createGunzip } from 'node:zlib'

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

/** One entry of a ustar archive as it streams by: its header, then its data in pieces. */
interface TarHeader {
  path: string
  type: 'file' | 'dir' | 'other'
  size: number
}

function header(block: Uint8Array): TarHeader | null {
  if (block.every((b) => b === 0)) return null
  const name = text(block, 0, 100)
  const prefix = text(block, 345, 155)
  const size = Number.parseInt(text(block, 124, 12).trim() || '0', 8)
  const flag = String.fromCharCode(block[156] ?? 0)
  const type = flag === '5' ? 'dir' : flag === '0' || flag === '\0' ? 'file' : 'other'
  return { path: prefix ? `${prefix}/${name}` : name, type, size }
}

/**
 * Reads a ustar archive from `chunks` and calls `onEntry` for each entry with an async iterable
 * of its data, which it must consume before the next entry is read. Only one chunk of the
 * archive is held at a time (the seed is 40 MB unpacked: held whole, it was 40 MB more RSS at a
 * first start).
 */
async function streamTar(
  chunks: AsyncIterable<Uint8Array>,
  onEntry: (entry: TarHeader, data: AsyncIterable<Uint8Array>) => Promise<void>,
): Promise<void> {
  const it = chunks[Symbol.asyncIterator]()
  let buffer = new Uint8Array(0)
  const more = async (): Promise<boolean> => {
    const next = await it.next()
    if (next.done) return false
    const joined = new Uint8Array(buffer.length + next.value.length)
    joined.set(buffer)
    joined.set(next.value, buffer.length)
    buffer = joined
    return true
  }
  /** The next `n` bytes of the archive, as pieces no larger than the chunks read. */
  async function* take(n: number): AsyncIterable<Uint8Array> {
    let left = n
    while (left > 0) {
      if (buffer.length === 0 && !(await more())) throw new Error('pgdata seed: truncated archive')
      const piece = buffer.subarray(0, Math.min(left, buffer.length))
      buffer = buffer.subarray(piece.length)
      left -= piece.length
      yield piece
    }
  }
  for (;;) {
    while (buffer.length < 512) if (!(await more())) return
    const entry = header(buffer.subarray(0, 512))
    buffer = buffer.subarray(512)
    if (!entry) return
    await onEntry(entry, take(entry.size))
    // The entry's data is padded to a whole block.
    for await (const _ of take((512 - (entry.size % 512)) % 512)) {
    }
  }
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
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  let version: Uint8Array | null = null
  let versionPath = ''
  const gunzip = createGunzip()
  gunzip.end(tar)
  await streamTar(gunzip, async (entry, data) => {
    const path = inside(dataDir, entry.path)
    if (entry.path.replace(/^\/+/, '') === 'PG_VERSION') {
      // Written last: a seeding cut short is redone rather than taken for a database.
      const parts: Uint8Array[] = []
      for await (const piece of data) parts.push(piece.slice())
      version = new Uint8Array(Buffer.concat(parts))
      versionPath = path
      return
    }
    if (entry.type === 'dir') await mkdir(path, { recursive: true, mode: 0o700 })
    if (entry.type !== 'file') {
      for await (const _ of data) {
      }
      return
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    const file = await open(path, 'w', 0o600)
    try {
      for await (const piece of data) await file.write(piece)
    } finally {
      await file.close()
    }
  })
  if (version === null) throw new Error('pgdata seed: the archive has no PG_VERSION')
  await writeFile(versionPath, version, { mode: 0o600 })
  return true
}
