/** @module `telehook token list`: the stored admin tokens as a table, never their values. */
import type { AdminTokenInfo } from '@telehook/admin'

/** The tokens as an aligned table with a header line. */
export function tokenTable(rows: AdminTokenInfo[]): string[] {
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
