/** @module Test helpers: one fresh, migrated database per test file on each driver. */
import postgres from 'postgres'
import type { Database } from './client'
import { openDb } from './client'

export type TestDriver = 'pglite' | 'postgres'

/** Drivers to run database suites on: `TELEHOOK_TEST_DRIVERS="pglite,postgres"` (default both). */
export const TEST_DRIVERS: TestDriver[] = (process.env.TELEHOOK_TEST_DRIVERS ?? 'pglite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is TestDriver => d === 'pglite' || d === 'postgres')

/** Admin connection for creating test databases. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test'

/**
 * Opens a fresh migrated database: PGlite in memory, or a new `telehook_test_<random>` database on
 * `TEST_DATABASE_URL`. `drop()` closes it and (PostgreSQL) drops the database; `url` is the
 * PostgreSQL database's URL (for a process the test spawns on it), null for PGlite.
 * @example
 * const database = await openTestDb('postgres')
 * afterAll(() => database.drop())
 */
export async function openTestDb(
  driver: TestDriver,
): Promise<Database & { drop(): Promise<void>; url: string | null }> {
  if (driver === 'pglite') {
    const database = await openDb({ memory: true })
    return { ...database, url: null, drop: () => database.close() }
  }
  const name = `telehook_test_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  let database: Database
  try {
    database = await openDb({ databaseUrl: url.toString(), maxConnections: 10 })
  } catch (error) {
    await dropDatabase(name)
    throw error
  }
  return {
    ...database,
    url: url.toString(),
    async drop() {
      await database.close()
      await dropDatabase(name)
    },
  }
}

async function dropDatabase(name: string): Promise<void> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
  } finally {
    await admin.end()
  }
}
