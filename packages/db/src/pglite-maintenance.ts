/**
 * @module Autovacuum for PGlite. PGlite is PostgreSQL in single-user mode: there is no autovacuum
 * launcher, so nothing ever runs ANALYZE or VACUUM. Without ANALYZE a statement prepared on empty
 * tables keeps that plan for ever: the ingest path's stored check, prepared at the first
 * delivery, went on scanning every event of the endpoint through the wrong index (60 ms for 40
 * look-ups at 3 000 events, 0.7 ms after one ANALYZE, which also made the cached plan be made
 * again). Without VACUUM the rows that updates and deletes leave behind (jobs, messages,
 * contacts) are never reclaimed. This runs what autovacuum would, with its thresholds.
 */

/** What the maintenance needs of the database: rows of a query, and a statement run alone. */
export interface MaintenanceTarget {
  rows<T>(sql: string): Promise<T[]>
  /** Runs a statement outside any transaction (VACUUM cannot run inside one). */
  exec(sql: string): Promise<void>
}

export interface AutovacuumOptions {
  /** How often the statistics are looked at (default 1000 ms; autovacuum's naptime is 60 s). */
  intervalMs?: number
  /** Called with the statements run, after each round that ran some. */
  onRun?: (statements: string[]) => void
  /** Called when a round fails (a full disk, a database going down); the next round tries again. */
  onError?: (error: unknown) => void
}

/**
 * The tables past autovacuum's thresholds, with the statement each needs. The thresholds are
 * PostgreSQL's own settings (`autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor` ×
 * rows, and the same for vacuum after updates/deletes and after inserts), so they are tuned the
 * same way. A table done in the last 10 s waits, unless it has more than doubled since: at 1 000
 * deliveries/s the ingest tables passed the thresholds every second, and ANALYZE took 10–15 % of
 * PostgreSQL's time in the first minute; doubling still gets a new table its first statistics
 * (and plans) within seconds. `pg_stat_user_tables` is flushed at most once a second.
 */
export const DUE_SQL = `with s as (
  select
    quote_ident(t.schemaname) || '.' || quote_ident(t.relname) as name,
    greatest(c.reltuples, 0) as n,
    t.n_mod_since_analyze, t.n_dead_tup, t.n_ins_since_vacuum,
    coalesce(now() - greatest(t.last_analyze, t.last_autoanalyze) < interval '10 s', false)
      as analyzed_lately,
    coalesce(now() - greatest(t.last_vacuum, t.last_autovacuum) < interval '10 s', false)
      as vacuumed_lately
  from pg_stat_user_tables t join pg_class c on c.oid = t.relid
  where c.relkind = 'r'
), due as (
  select name,
    (n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8 * n
      or n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
        + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * n)
      and (not vacuumed_lately or n_dead_tup > n or n_ins_since_vacuum > n) as vacuum,
    n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
        + current_setting('autovacuum_analyze_scale_factor')::float8 * n
      and (not analyzed_lately or n_mod_since_analyze > n) as "analyze"
  from s
)
select name, vacuum, "analyze" from due where vacuum or "analyze" order by name`

/** The statements one round of maintenance runs, from the rows of {@link DUE_SQL}. */
export function maintenanceStatements(
  due: readonly { name: string; vacuum: boolean; analyze: boolean }[],
): string[] {
  return due.map((t) =>
    t.vacuum ? `vacuum${t.analyze ? ' (analyze)' : ''} ${t.name}` : `analyze ${t.name}`,
  )
}

/** Runs one round: looks at the statistics and runs what is due. Returns the statements run. */
export async function maintainOnce(target: MaintenanceTarget): Promise<string[]> {
  const due = await target.rows<{ name: string; vacuum: boolean; analyze: boolean }>(DUE_SQL)
  const statements = maintenanceStatements(due)
  for (const statement of statements) await target.exec(statement)
  return statements
}

/**
 * Runs {@link maintainOnce} every `intervalMs` until `stop()`; a round never overlaps the next.
 * The timer does not keep the process alive. `stop()` resolves once a round in progress is done.
 * @example const autovacuum = startAutovacuum(target); … await autovacuum.stop()
 */
export function startAutovacuum(
  target: MaintenanceTarget,
  opts: AutovacuumOptions = {},
): { stop(): Promise<void> } {
  const intervalMs = opts.intervalMs ?? 1000
  let running: Promise<void> | null = null
  let stopped = false
  const timer = setInterval(() => {
    if (running || stopped) return
    running = maintainOnce(target)
      .then(
        (statements) => {
          if (statements.length > 0) opts.onRun?.(statements)
        },
        (error: unknown) => opts.onError?.(error),
      )
      .finally(() => {
        running = null
      })
  }, intervalMs)
  timer.unref?.()
  return {
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
