import { expect, test } from 'bun:test'
import { openDb } from '@telehook/db'
import { pgliteAssets } from '../src/pglite-embedded.ts'

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
