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
  const [at, key] = decodeCursor(cursor)
  try {
    const v = JSON.parse(key) as unknown
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string')) {
      if (at === '' || !Number.isNaN(Date.parse(at))) {
        return { at, projectId: v[0] as string, id: v[1] as string }
      }
    }
  } catch {}
  throw new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned')
}

/** Page size from the `limit` parameter: 1–500, default 50. */
export const pageSize = (limit: string | undefined) =>
  Math.min(Math.max(Number(limit ?? 50) || 50, 1), 500)
