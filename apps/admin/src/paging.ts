/** @module Cursor paging and time filters shared by the list routes. */
import { ApiError } from './errors'

/** An opaque cursor over (time, id); the timestamp is PostgreSQL's text, exact to the µs. */
export function encodeCursor(at: string, id: string): string {
  return btoa(JSON.stringify([at, id]))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
}

/** The (time, id) pair of a cursor this API returned; anything else is a 400 `invalid_cursor`. */
export function decodeCursor(cursor: string): [string, string] {
  try {
    const json = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'))
    const v = JSON.parse(json) as unknown
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string')) {
      return v as [string, string]
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
