import { type PGlite, types } from '@electric-sql/pglite'

const same = (value: string) => value

/**
 * The parsers Drizzle's PGlite session passes with every query (it maps these types itself).
 * PGlite merges per-query parsers into a copy of its whole parser table for every result, which
 * was a fifth of all CPU samples when ingesting; set once on the instance, the copy is never made.
 */
export const DRIZZLE_PGLITE_PARSERS: Record<number, (value: string) => unknown> = {
  [types.TIMESTAMP]: same,
  [types.TIMESTAMPTZ]: same,
  [types.INTERVAL]: same,
  [types.DATE]: same,
  1231: same, // numeric[]
  1115: same, // timestamp[]
  1185: same, // timestamptz[]
  1187: same, // interval[]
  1182: same, // date[]
}

type QueryOptions = { parsers?: unknown } & Record<string, unknown>

const strip = (options: QueryOptions | undefined) => {
  if (!options?.parsers) return options
  const { parsers: _, ...rest } = options
  return rest
}

/** The instance a client made by {@link withInstanceParsers} stands for at this moment. */
export const CURRENT_INSTANCE = Symbol('telehook.pglite.current')

/** The PGlite instance behind `client` now (itself when it is one). */
export function currentInstance(client: PGlite): PGlite {
  return (client as unknown as { [CURRENT_INSTANCE]?: PGlite })[CURRENT_INSTANCE] ?? client
}

/** A transaction whose per-query `parsers` are dropped (the instance has them). */
function stripping<T extends object>(tx: T): T {
  return new Proxy(tx, {
    get(t, key) {
      if (key === 'query') {
        return (q: string, params?: unknown[], options?: QueryOptions) =>
          (t as unknown as PGlite).query(q, params, strip(options))
      }
      const value = Reflect.get(t, key, t)
      return typeof value === 'function' ? value.bind(t) : value
    },
  })
}

/**
 * The client to give Drizzle: the instance `current()` returns at each call (created with
 * {@link DRIZZLE_PGLITE_PARSERS}; a new one after a restart), with the same parsers dropped from
 * each query.
 */
export function withInstanceParsers(current: () => PGlite): PGlite {
  return new Proxy({} as PGlite, {
    get(_, key) {
      const pg = current()
      if (key === CURRENT_INSTANCE) return pg
      if (key === 'query') {
        return (q: string, params?: unknown[], options?: QueryOptions) =>
          pg.query(q, params, strip(options))
      }
      if (key === 'transaction') {
        return (fn: (tx: unknown) => unknown) =>
          pg.transaction((tx) => fn(stripping(tx)) as Promise<unknown>)
      }
      const value = Reflect.get(pg, key, pg)
      return typeof value === 'function' ? value.bind(pg) : value
    },
  })
}
