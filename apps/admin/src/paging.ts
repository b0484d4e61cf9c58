/** @module Cursor paging and time filters shared by the list routes. */
import { Type } from '@sinclair/typebox'
import { ApiError } from './errors'

/** An opaque cursor over (time, id); the timestamp is PostgreSQL's text, exact to the µs. */
export function encodeCursor(at: string, id: string): string {
  return btoa(JSON.stringify([at, id]))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
}

/** PostgreSQL's text of a timestamptz, as `encodeCursor` stores it. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}(?::\d{2})?)?$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** How a cursor's parts are checked: its id (default: a UUID) and whether its time may be empty. */
export interface CursorRules {
  id?: (id: string) => boolean
  emptyTime?: boolean
}

/** The (time, id) pair of a cursor this API returned; anything else is a 400 `invalid_cursor`. */
export function decodeCursor(cursor: string, rules: CursorRules = {}): [string, string] {
  const idOk = rules.id ?? ((id: string) => UUID.test(id))
  try {
    const json = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'))
    const v = JSON.parse(json) as unknown
    // Checked here, so a forged cursor is a 400 and never reaches the database's casts.
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      ((rules.emptyTime === true && v[0] === '') ||
        (CURSOR_TIME.test(v[0]) &&
          !Number.isNaN(Date.parse(v[0].replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'))))) &&
      idOk(v[1])
    ) {
      return [v[0], v[1]]
    }
  } catch {}
  throw new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned')
}

/** A query time: ISO 8601 or UNIX seconds; anything else is a 400 naming the parameter. */
export function parseTime(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const d = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value)
  if (Number.isNaN(d.getTime())) {
    throw new ApiError(400, 'invalid_param', `${name} must be an ISO time or UNIX seconds`, {
      param: name,
    })
  }
  return d
}

/** Page size of every list route: an integer from 1 to 500; anything else is a 400 saying so. */
export const LIMIT_MAX = 500
export const LIMIT_DEFAULT = 50

/** The `limit` query parameter: digits only, 1 to 500 (no clamping, no `1e2`, no `0x10`). */
export const LimitParam = Type.String({
  pattern: '^(?:[1-9][0-9]?|[1-4][0-9]{2}|500)$',
  error: `limit must be an integer from 1 to ${LIMIT_MAX}`,
  description: `Page size, an integer from 1 to ${LIMIT_MAX} (default ${LIMIT_DEFAULT})`,
})

/** The page size of a validated `limit` ({@link LimitParam}), or the default. */
export function pageSize(limit: string | undefined): number {
  return limit === undefined ? LIMIT_DEFAULT : Number(limit)
}

/** A JSON Schema pattern that refuses NUL, which PostgreSQL text cannot hold. */
export const NO_NUL = '^[^\\u0000]*$'

/**
 * An identifier in a path or query (a Telerivet or Telehook id): 1 to 200 characters, no NUL.
 * @example
 * params: Type.Object({ id: IdParam })
 */
export const IdParam = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: NO_NUL,
  error: 'must be an id of 1 to 200 characters (no NUL)',
})
