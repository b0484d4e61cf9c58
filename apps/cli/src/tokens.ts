/** @module `telehook token list` and `revoke`: the stored admin tokens, never their values. */
import { adminTokens, type Database } from '@telehook/db'

/** A stored admin token as listed (its hash stays in the database). */
export interface TokenRow {
  id: string
  name: string
  created_at: string
  last_used_at: string | null
}

/** The stored admin tokens, oldest first. */
export async function listTokens(database: Database): Promise<TokenRow[]> {
  const rows = await database.db
    .select({
      id: adminTokens.id,
      name: adminTokens.name,
      createdAt: adminTokens.createdAt,
      lastUsedAt: adminTokens.lastUsedAt,
    })
    .from(adminTokens)
    .orderBy(adminTokens.createdAt, adminTokens.id)
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    created_at: r.createdAt.toISOString(),
    last_used_at: r.lastUsedAt ? r.lastUsedAt.toISOString() : null,
  }))
}

/** The tokens as an aligned table with a header line. */
export function tokenTable(rows: TokenRow[]): string[] {
  const table = [
    ['ID', 'NAME', 'CREATED', 'LAST USED'],
    ...rows.map((r) => [r.id, r.name, r.created_at, r.last_used_at ?? 'never']),
  ]
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => (row[i] ?? '').length)))
  return table.map((row) =>
    row
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  )
}
