import type { PGlite } from '@electric-sql/pglite'
import type { Sql } from 'postgres'
import type { Db } from './client'
import { currentInstance } from './pglite-parsers'

/**
 * Runs one statement, as text with `$n` parameters, and returns its rows. By default the statement
 * is prepared once per connection and its plan cached; `prepare: false` plans it anew on every run
 * with the tables as they are then (PostgreSQL caches a generic plan after five runs, and one made
 * while a table was empty can keep a sequential scan of it until the next ANALYZE).
 */
export type NativeQuery = <T = Record<string, unknown>>(
  text: string,
  params: readonly unknown[],
  options?: QueryOptions,
) => Promise<T[]>

export interface QueryOptions {
  /** Prepare and cache the statement's plan (default true). */
  prepare?: boolean
}

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
 * Resolves on a later turn of the event loop, once the I/O already waiting has been handled.
 * PGlite runs a statement synchronously, inside the promise chain of whoever called it: without
 * this, a request's whole ingest (stored check, batch, commit) ran before the server even read
 * the next request, so group commit never grouped (1.3 deliveries per batch under 50
 * connections, 220 req/s; with the turn, 15–25 per batch and 4× the rate; packages/db/README.md).
 */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

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
      <T>(text: string, params: readonly unknown[], options?: QueryOptions) =>
        q.unsafe(text, params as never[], {
          prepare: options?.prepare ?? true,
        }) as unknown as Promise<T[]>
    native = {
      driver: 'postgres',
      query: on(sql),
      transaction: <T>(fn: (query: NativeQuery) => Promise<T>) =>
        sql.begin((tx) => fn(on(tx as unknown as Sql))) as Promise<T>,
    }
  } else if (client && typeof (client as PGlite).transaction === 'function') {
    const shared = client as PGlite
    native = {
      driver: 'pglite',
      // Outside a transaction: wait for any transaction (as PGlite's own query does) and sync.
      query: async <T>(text: string, params: readonly unknown[], options?: QueryOptions) => {
        await turn()
        // The instance of now: after a restart (see pglite.ts) a new one, with no statements yet.
        const pg = currentInstance(shared)
        return pglite(pg)._runExclusiveTransaction(() =>
          run<T>(pg, text, params, true, options?.prepare ?? true),
        )
      },
      transaction: async <T>(fn: (query: NativeQuery) => Promise<T>) => {
        await turn()
        const pg = currentInstance(shared)
        return pg.transaction(() =>
          fn(<R>(text: string, params: readonly unknown[], options?: QueryOptions) =>
            run<R>(pg, text, params, false, options?.prepare ?? true),
          ),
        )
      },
    }
  } else {
    throw new Error('nativeClient: not a database opened by openDb')
  }
  clients.set(db, native)
  return native
}

/** PGlite's own serialisation locks (public methods, absent from its type declarations). */
interface PgliteLocks {
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>
  parsers: Record<number, (value: string, typeId: number) => unknown>
}
const pglite = (pg: PGlite) => pg as unknown as PgliteLocks

const utf8 = new TextEncoder()

/** One frontend message of the PostgreSQL protocol: type byte, length, body. */
function message(type: string, parts: (Uint8Array | number[])[]): Uint8Array {
  const size = parts.reduce((n, p) => n + p.length, 0)
  const out = new Uint8Array(5 + size)
  const view = new DataView(out.buffer)
  out[0] = type.charCodeAt(0)
  view.setInt32(1, 4 + size)
  let at = 5
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
const cstring = (s: string) => {
  const b = utf8.encode(s)
  const out = new Uint8Array(b.length + 1)
  out.set(b)
  return out
}
const int16 = (n: number) => [(n >> 8) & 0xff, n & 0xff]
const int32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

function bind(statement: string, params: readonly unknown[]): Uint8Array {
  const parts: (Uint8Array | number[])[] = [cstring(''), cstring(statement), int16(0)]
  parts.push(int16(params.length))
  for (const p of params) {
    if (p === null || p === undefined) {
      parts.push(int32(-1))
      continue
    }
    const bytes = utf8.encode(typeof p === 'string' ? p : String(p))
    parts.push(int32(bytes.length), bytes)
  }
  parts.push(int16(0))
  return message('B', parts)
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const DESCRIBE_PORTAL = message('D', [[0x50], cstring('')])
const EXECUTE = message('E', [cstring(''), int32(0)])
const SYNC = message('S', [])

interface BackendMessage {
  name: string
  fields?: ({ name: string; dataTypeID: number } | string | null)[]
}

/** The statements named on each PGlite instance: text → name. */
const statements = new WeakMap<PGlite, Map<string, string>>()

/**
 * Runs a named prepared statement on PGlite, which has no statement cache of its own: its `query`
 * parses and plans every statement anew, which for the ingest statement cost about 15 ms a batch.
 * A statement text is parsed once per instance (Parse, named), then each run is Bind, Describe,
 * Execute, Sync in one protocol call. Parameters are sent as text.
 */
function run<T>(
  pg: PGlite,
  text: string,
  params: readonly unknown[],
  sync: boolean,
  prepare = true,
): Promise<T[]> {
  let names = statements.get(pg)
  if (!names) {
    names = new Map()
    statements.set(pg, names)
  }
  const named = names
  return pglite(pg)._runExclusiveQuery(async () => {
    let name = prepare ? named.get(text) : ''
    // Not prepared: the unnamed statement, parsed and planned in the same call as its run.
    const parse = prepare ? [] : [message('P', [cstring(''), cstring(text), int16(0)])]
    if (name === undefined) {
      // Parsed alone first: a later Bind that fails must not leave a name we think is unused.
      const next = `telehook_${named.size + 1}`
      await pg.execProtocol(
        concat([message('P', [cstring(next), cstring(text), int16(0)]), SYNC]),
        { syncToFs: false },
      )
      named.set(text, next)
      name = next
    }
    const buffer = concat([...parse, bind(name, params), DESCRIBE_PORTAL, EXECUTE, SYNC])
    const { messages } = (await pg.execProtocol(buffer, { syncToFs: sync })) as unknown as {
      messages: BackendMessage[]
    }
    const parsers = pglite(pg).parsers
    let columns: { name: string; dataTypeID: number }[] = []
    const rows: T[] = []
    for (const m of messages) {
      if (m.name === 'rowDescription') {
        columns = m.fields as { name: string; dataTypeID: number }[]
      } else if (m.name === 'dataRow') {
        const row: Record<string, unknown> = {}
        ;(m.fields as (string | null)[]).forEach((v, i) => {
          const c = columns[i] as { name: string; dataTypeID: number }
          const parse = parsers[c.dataTypeID]
          row[c.name] = v === null ? null : parse ? parse(v, c.dataTypeID) : v
        })
        rows.push(row as T)
      }
    }
    return rows
  })
}
