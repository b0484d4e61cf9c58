/** @module Helpers of the list routes over the mirror, whose rows are keyed by (project, id). */
import { ApiError } from './errors'
import { decodeCursor, encodeCursor } from './paging'

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** A cursor over (time, project, id): the time as PostgreSQL's text, exact to the µs. */
export function encodeKeyedCursor(at: string, projectId: string, id: string): string {
  return encodeCursor(at, JSON.stringify([projectId, id]))
}

export function decodeKeyedCursor(cursor: string): { at: string; projectId: string; id: string } {
  const [at, key] = decodeCursor(cursor, { id: (k) => k.length <= 500, emptyTime: true })
  try {
    const v = JSON.parse(key) as unknown
    // No NUL: PostgreSQL text cannot hold it, and a forged cursor must be a 400, not a 500.
    const text = (x: unknown) => typeof x === 'string' && !x.includes('\u0000')
    if (Array.isArray(v) && v.length === 2 && v.every(text)) {
      return { at, projectId: v[0] as string, id: v[1] as string }
    }
  } catch {}
  throw new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned')
}

export { pageSize } from './paging'

/**
 * The one mirror row an id names: 404 when none, 409 when the id is in several projects (Telerivet
 * ids are unique per project only) and no `project_id` narrowed it.
 */
export function onlyRow<T>(rows: T[], what: 'message' | 'contact'): T {
  const [row] = rows
  if (row === undefined) throw new ApiError(404, 'not_found', `No such ${what}`)
  if (rows.length > 1) {
    throw new ApiError(
      409,
      'ambiguous_id',
      `This ${what} id is in several projects: pass project_id`,
      {
        param: 'project_id',
      },
    )
  }
  return row
}
