import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openDb } from './client'
import { pgliteVersion, seedVersion } from './pgdata'
import { queryRows } from './rows'

const root = await mkdtemp(join(tmpdir(), 'telehook-pgdata-'))
afterAll(() => rm(root, { recursive: true, force: true }))

test('the shipped data directory was made by the PGlite in use (else: bun run --cwd packages/db pgdata)', async () => {
  expect(await seedVersion()).toBe(pgliteVersion())
})

/** PostgreSQL's system identifier: initdb draws a new one, a copy of one data directory keeps it. */
async function systemId(open: () => ReturnType<typeof openDb>): Promise<string> {
  const database = await open()
  try {
    const [row] = await queryRows<{ id: string }>(
      database.db,
      sql`select system_identifier::text as id from pg_control_system()`,
    )
    return row?.id ?? ''
  } finally {
    await database.close()
  }
}

test('new databases start from the shipped data directory, not from initdb', async () => {
  const folders = [join(root, 'a'), join(root, 'b')]
  const ids = [
    ...(await Promise.all(folders.map((dataDir) => systemId(() => openDb({ dataDir }))))),
    await systemId(() => openDb({ memory: true })),
  ]
  expect(ids[0]).toMatch(/^\d+$/)
  expect(new Set(ids).size).toBe(1)
  // With no seed, initdb runs and draws its own.
  const fresh = await systemId(() => openDb({ memory: true, pgliteSeed: async () => null }))
  expect(fresh).not.toBe(ids[0])
}, 120_000)
