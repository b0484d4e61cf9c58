import type { SQL } from 'drizzle-orm'
import type { Db } from './client'

/** Runs raw SQL and returns its rows, whichever driver answers (PGlite wraps them in `rows`). */
export async function queryRows<T = Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}
