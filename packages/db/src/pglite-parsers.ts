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

/** Query and transaction methods whose per-query `parsers` are dropped (the instance has them). */
function stripping<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, key) {
      if (key === 'query') {
        return (q: string, params?: unknown[], options?: QueryOptions) =>
          (t as unknown as PGlite).query(q, params, strip(options))
      }
      if (key === 'transaction') {
        return (fn: (tx: unknown) => unknown) =>
          (t as unknown as PGlite).transaction((tx) => fn(stripping(tx)) as Promise<unknown>)
      }
      const value = Reflect.get(t, key, t)
      return typeof value === 'function' ? value.bind(t) : value
    },
  })
}

/**
 * The client to give Drizzle: an instance created with {@link DRIZZLE_PGLITE_PARSERS}, seen
 * through a proxy that drops the same parsers from each query.
 */
export function withInstanceParsers(client: PGlite): PGlite {
  return stripping(client)
}
