import type { PGlite, Transaction } from '@electric-sql/pglite'
import type { Sql } from 'postgres'
import type { Db } from './client'

/** Runs one statement, as text with `$n` parameters, and returns its rows. */
export type NativeQuery = <T = Record<string, unknown>>(
  text: string,
  params: readonly unknown[],
) => Promise<T[]>

/**
 * The driver underneath a {@link Db}, for hot paths that cannot afford a query builder: statements
 * are fixed strings, prepared once per connection and reused (postgres.js `prepare: true`;
 * PGlite has one connection and no statement cache, so there the cost is per statement).
 */
export interface NativeClient {
  driver: 'pglite' | 'postgres'
  query: NativeQuery
  /** Runs `fn` in one transaction; statements issued together are pipelined (postgres.js). */
  transaction<T>(fn: (query: NativeQuery) => Promise<T>): Promise<T>
}

const clients = new WeakMap<object, NativeClient>()

/**
 * The native client of a Drizzle database opened by `openDb` (either driver).
 * @example const rows = await nativeClient(database.db).query('select $1::int as n', [1])
 */
export function nativeClient(db: Db): NativeClient {
  const cached = clients.get(db)
  if (cached) return cached
  const client = (db as unknown as { $client?: unknown }).$client
  let native: NativeClient
  if (typeof client === 'function' && 'begin' in client && 'unsafe' in client) {
    const sql = client as Sql
    const on =
      (q: Sql): NativeQuery =>
      <T>(text: string, params: readonly unknown[]) =>
        q.unsafe(text, params as never[], { prepare: true }) as unknown as Promise<T[]>
    native = {
      driver: 'postgres',
      query: on(sql),
      transaction: <T>(fn: (query: NativeQuery) => Promise<T>) =>
        sql.begin((tx) => fn(on(tx as unknown as Sql))) as Promise<T>,
    }
  } else if (client && typeof (client as PGlite).transaction === 'function') {
    const pg = client as PGlite
    const on =
      (q: PGlite | Transaction): NativeQuery =>
      async <T>(text: string, params: readonly unknown[]) =>
        (await q.query<T>(text, params as unknown[])).rows
    native = {
      driver: 'pglite',
      query: on(pg),
      transaction: <T>(fn: (query: NativeQuery) => Promise<T>) =>
        pg.transaction((tx) => fn(on(tx))),
    }
  } else {
    throw new Error('nativeClient: not a database opened by openDb')
  }
  clients.set(db, native)
  return native
}
