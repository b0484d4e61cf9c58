import { expect, test } from 'bun:test'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { endpoints, openDb } from '@telehook/db'
import { pgdataSeed, pgliteAssets } from '../src/pglite-embedded.ts'

const assetsForSeed = await pgliteAssets()

test('PGlite opens and migrates with the assets given explicitly', async () => {
  const assets = await pgliteAssets()
  expect(assets.pgliteWasmModule).toBeInstanceOf(WebAssembly.Module)
  expect(assets.initdbWasmModule).toBeInstanceOf(WebAssembly.Module)
  expect(assets.fsBundle.size).toBeGreaterThan(1_000_000)
  expect(await pgliteAssets()).toBe(assets) // compiled once per process
  const database = await openDb({ memory: true, pglite: { ...assets } })
  try {
    await database.ping()
    const { rows } = await (
      database.db as unknown as { execute(q: string): Promise<{ rows: { n: number }[] }> }
    ).execute(
      "select count(*)::int as n from information_schema.tables where table_schema = 'telehook'",
    )
    expect(rows[0]?.n).toBeGreaterThan(5)
  } finally {
    await database.close()
  }
})

test('a new data folder starts from the embedded data directory, not initdb, and works', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'telehook-seed-'))
  try {
    let seedRead = 0
    const open = () =>
      openDb({
        dataDir: dir,
        pglite: { ...assetsForSeed },
        pgliteSeed: () => {
          seedRead++
          return pgdataSeed()
        },
      })
    const database = await open()
    try {
      await database.db.insert(endpoints).values({ id: 'ep_seed', kind: 'single', secretHash: 'h' })
    } finally {
      await database.close()
    }
    expect(seedRead).toBe(1)
    expect((await stat(join(dir, 'PG_VERSION'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'base'))).mode & 0o777).toBe(0o700)
    // A restart opens the folder as it is: the seed is not read again, the row is there.
    const again = await open()
    try {
      const rows = await again.db.select().from(endpoints)
      expect(rows.map((r) => r.id)).toEqual(['ep_seed'])
    } finally {
      await again.close()
    }
    expect(seedRead).toBe(1)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}, 60_000)
