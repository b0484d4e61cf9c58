/** @module Test helpers: form bodies, a capturing logger, SQL reads. */
import { type Database, queryRows } from '@telehook/db'
import type { Logger } from '@telehook/engine'
import { type SQL, sql } from 'drizzle-orm'

export const FORM = 'application/x-www-form-urlencoded'

/** Encodes flat pairs; nested keys are written out in bracket form by the caller. */
export function form(pairs: Record<string, string | number>): string {
  return new URLSearchParams(
    Object.entries(pairs).map(([k, v]) => [k, String(v)] as [string, string]),
  ).toString()
}

/** A POST as Telerivet sends it. */
export function post(
  path: string,
  body: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  headers: Record<string, string> = { 'content-type': FORM },
): Request {
  return new Request(`http://telehook.test${path}`, { method: 'POST', headers, body })
}

/** A logger that keeps every line, as the JSON text the real one would write. */
export function captureLogger(): Logger & { lines: Record<string, unknown>[]; text(): string } {
  const lines: Record<string, unknown>[] = []
  const keep = (level: string) => (obj: Record<string, unknown>) => {
    lines.push({ level, ...obj })
  }
  return {
    lines,
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    text: () => lines.map((l) => JSON.stringify(l)).join('\n'),
  }
}

export function rows<T = Record<string, unknown>>(database: Database, query: SQL): Promise<T[]> {
  return queryRows<T>(database.db, query)
}

/** The events stored for one Telerivet id. */
export function eventsOf(database: Database, telerivetId: string) {
  return rows<{
    endpoint_id: string
    event: string
    valid: boolean
    delivery_count: number
    reply: unknown
    errors: unknown
    payload: Record<string, unknown>
  }>(
    database,
    sql`select endpoint_id, event, valid, delivery_count, reply, errors, payload
        from telehook.events where telerivet_id = ${telerivetId} order by received_at`,
  )
}

export async function countEvents(database: Database): Promise<number> {
  const [row] = await rows<{ n: number }>(
    database,
    sql`select count(*)::int as n from telehook.events`,
  )
  return row?.n ?? 0
}

let seq = 0
/** A fresh Telerivet-style id. */
export function newId(prefix: string): string {
  seq += 1
  return `${prefix}${Date.now().toString(36)}${seq.toString(36)}${Math.random().toString(36).slice(2, 8)}`.slice(
    0,
    34,
  )
}
