/**
 * @module Database outage (PostgreSQL): under load, PostgreSQL is cut away through a TCP proxy —
 * first refusing (as a stopped server: every connection reset), then black-holed (a hung network:
 * connections accepted, never answered) — and brought back without touching Telehook. Every
 * delivery sent meanwhile must be answered 503 with Retry-After before Telerivet's 10 s; after,
 * the server recovers on its own and every acknowledged delivery is stored, once. Then every
 * connection of the database is killed server-side (as a PostgreSQL restart does) while the job
 * worker LISTENs: it must LISTEN again and run the next job.
 *
 * PGlite runs inside the server process and cannot become unreachable: PostgreSQL only.
 */
import { writeFile } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { TEST_DATABASE_URL } from '@telehook/db/testing'
import {
  type Answer,
  type DrillDriver,
  type DrillOptions,
  type DrillReport,
  deliver,
  freshDatabase,
  incomingBody,
  killAll,
  newId,
  quantile,
  Report,
  serve,
  statusCounts,
  storedIds,
  TELERIVET_TIMEOUT_MS,
  waitFor,
} from './harness'

/** The drivers this drill applies to. */
export const drivers: DrillDriver[] = ['postgres']

const SIZES = {
  ci: { concurrency: 16, warmMs: 3000, refuseMs: 10_000, blackholeMs: 10_000, afterMs: 3000 },
  long: { concurrency: 50, warmMs: 10_000, refuseMs: 30_000, blackholeMs: 30_000, afterMs: 10_000 },
} as const

/** A handler module: a sync reply, and an async handler so that every message makes a job. */
const HANDLERS = `import { defineHandlers, reply } from '@telehook/protocol'
export default defineHandlers({
  sync: { incoming_message: (m) => reply().message({ content: 'got ' + m.id }).build() },
  async: { incoming_message: async () => {} },
})
`

type ProxyMode = 'up' | 'refuse' | 'blackhole'

/** A TCP proxy to PostgreSQL that can refuse, black-hole, or pass connections. */
async function startProxy(target: { host: string; port: number }) {
  let mode: ProxyMode = 'up'
  const open = new Set<Socket>()
  const server: Server = createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => {})
    if (mode === 'refuse') {
      client.destroy()
      return
    }
    if (mode === 'blackhole') return
    const upstream = connect(target.port, target.host)
    open.add(upstream)
    upstream.on('close', () => {
      open.delete(upstream)
      client.destroy()
    })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no proxy port')
  return {
    port: address.port,
    /** Switches mode; every open connection is dropped (sessions die with the database). */
    set(next: ProxyMode) {
      mode = next
      for (const socket of open) socket.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

interface Sent extends Answer {
  phase: 'before' | 'down' | 'after'
}

export async function run(opts: DrillOptions): Promise<DrillReport> {
  const size = SIZES[opts.size]
  const report = new Report('outage', opts.driver)
  if (opts.driver !== 'postgres') {
    report.problem('applies to PostgreSQL only (PGlite runs inside the server process)')
    return report.done()
  }
  const database = await freshDatabase('postgres')
  const target = new URL(TEST_DATABASE_URL)
  const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) })
  try {
    const handlers = join(database.scratch, 'handlers.ts')
    await writeFile(handlers, HANDLERS)
    const proxied = new URL(database.databaseUrl as string)
    proxied.host = `127.0.0.1:${proxy.port}`
    const server = await serve(database, { databaseUrl: proxied.toString(), handlers })

    const acked = new Set<string>()
    const everSent = new Set<string>()
    const retry: string[] = []
    const answers: Sent[] = []
    let phase: Sent['phase'] = 'before'
    let stopping = false
    let upAt = Number.POSITIVE_INFINITY
    let firstOkAfterUp: number | null = null

    const lane = async () => {
      while (!stopping || retry.length > 0) {
        // While down, new deliveries keep coming (Telerivet's retries wait; new messages do not).
        const id = (phase === 'down' ? null : retry.shift()) ?? (stopping ? null : newId())
        if (id === null) return
        everSent.add(id)
        const sentIn = phase
        const answer = await deliver(server.hook, incomingBody(id))
        answers.push({ ...answer, phase: sentIn })
        if (answer.status === 200) {
          acked.add(id)
          if (answer.at > upAt && firstOkAfterUp === null) firstOkAfterUp = answer.at
        } else {
          retry.push(id)
          await Bun.sleep(20)
        }
      }
    }
    const lanes = Array.from({ length: size.concurrency }, lane)

    await Bun.sleep(size.warmMs)
    phase = 'down'
    proxy.set('refuse')
    await Bun.sleep(size.refuseMs / 2)
    const healthDown = await fetch(`${server.url}/healthz`).then((r) => r.status)
    await Bun.sleep(size.refuseMs / 2)
    proxy.set('blackhole')
    await Bun.sleep(size.blackholeMs)
    proxy.set('up')
    upAt = performance.now()
    phase = 'after'
    const recovered = await waitFor(() => firstOkAfterUp !== null, 60_000, 20)
    await Bun.sleep(size.afterMs)
    stopping = true
    const drained = await Promise.race([
      Promise.all(lanes).then(() => true),
      Bun.sleep(60_000).then(() => false),
    ])

    const down = answers.filter((a) => a.phase === 'down')
    const downOther = down.filter((a) => a.status !== 503 && a.status !== 200)
    const noRetryAfter = down.filter((a) => a.status === 503 && a.retryAfter === null)
    const slowest = Math.max(0, ...down.map((a) => a.ms))
    const stored = await storedIds(database, everSent)
    const lost = [...acked].filter((id) => !stored.has(id))
    const doubled = await database.query<{ telerivet_id: string }>(
      `select telerivet_id from telehook.events group by telerivet_id having count(*) > 1`,
    )
    // Jobs: every stored message has its job; each is done, or waits for a retry or a lease.
    const jobsDone = await waitFor(async () => {
      const [row] = await database.query<{ pending: number }>(
        `select count(*) filter (where status <> 'done')::int as pending from telehook.jobs`,
      )
      return row?.pending === 0
    }, 30_000)
    const jobStates = await database.query<{ status: string; n: number; wait_s: number }>(
      `select status, count(*)::int as n,
              coalesce(max(extract(epoch from coalesce(locked_until, run_at) - now())), 0)::int as wait_s
       from telehook.jobs group by status order by status`,
    )
    const [jobs] = await database.query<{ jobs: number; events: number }>(
      `select (select count(*) from telehook.jobs)::int as jobs,
              (select count(*) from telehook.events)::int as events`,
    )
    const stateOf = (status: string) => jobStates.find((j) => j.status === status)
    report
      .figure('sent', answers.length)
      .figure('acknowledged', acked.size)
      .figure('lost', lost.length)
      .figure('doubled', doubled.length)
      .figure('outage_s', Math.round((size.refuseMs + size.blackholeMs) / 1000))
      .figure('during_outage', statusCounts(down))
      .figure('outage_503', down.filter((a) => a.status === 503).length)
      .figure(
        'outage_p50_ms',
        Math.round(
          quantile(
            down.map((a) => a.ms),
            0.5,
          ),
        ),
      )
      .figure('outage_max_ms', Math.round(slowest))
      .figure('healthz_down', healthDown)
      .figure(
        'recovery_to_first_200_ms',
        firstOkAfterUp === null ? 'none' : Math.round((firstOkAfterUp as number) - upAt),
      )
      .figure(
        'jobs',
        jobStates
          .map((j) => `${j.status}:${j.n}${j.status === 'done' ? '' : `(due in ${j.wait_s} s)`}`)
          .join(' '),
      )
    report.check(down.length > 0, 'no delivery was sent during the outage')
    report.check(
      downOther.length === 0,
      `during the outage, answers other than 503: ${statusCounts(downOther)} ${downOther[0]?.error ?? ''}`,
    )
    report.check(noRetryAfter.length === 0, `${noRetryAfter.length} 503s without Retry-After`)
    report.check(
      slowest < TELERIVET_TIMEOUT_MS,
      `a delivery during the outage took ${Math.round(slowest)} ms (Telerivet gives up at 10 s)`,
    )
    report.check(healthDown === 503, `/healthz answered ${healthDown} during the outage`)
    report.check(recovered, 'no 200 within 60 s of the database coming back')
    report.check(server.proc.exitCode === null, 'the server exited during the outage')
    report.check(drained, 'deliveries still unacknowledged 60 s after recovery')
    report.check(lost.length === 0, `acknowledged but not stored: ${lost.slice(0, 5).join(', ')}`)
    report.check(doubled.length === 0, `stored more than once: ${doubled.length}`)
    report.check(
      stored.size === everSent.size,
      `${stored.size} stored of ${everSent.size} deliveries retried until acknowledged`,
    )
    report.check(jobs?.jobs === jobs?.events, `${jobs?.jobs} jobs for ${jobs?.events} events`)
    report.check(stateOf('dead') === undefined, `${stateOf('dead')?.n} jobs dead after the outage`)
    // A job claimed when the cut came can neither finish nor be released: it waits out its lease
    // (5 min) and is claimed again then. Queued jobs must be due soon (backoff), not stuck.
    report.check(
      jobsDone || (stateOf('queued')?.wait_s ?? 0) < 120,
      `queued jobs due only in ${stateOf('queued')?.wait_s} s`,
    )

    // A PostgreSQL restart, as the worker sees it: every session of the database is killed.
    const listeners = () =>
      database.query<{ pid: number }>(
        `select pid from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`,
      )
    const before = new Set((await listeners()).map((r) => r.pid))
    report.check(before.size > 0, 'no session LISTENs before the restart')
    const [killed] = await database.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid()`,
    )
    const killedAt = performance.now()
    const relistened = await waitFor(
      async () => (await listeners()).some((r) => !before.has(r.pid)),
      30_000,
      50,
    )
    const id = newId()
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await deliver(server.hook, incomingBody(id))).status
      if (status !== 200) await Bun.sleep(100)
    }
    const jobRan = await waitFor(async () => {
      const rows = await database.query<{ status: string }>(
        `select j.status from telehook.jobs j join telehook.events e on e.id = j.event_id
         where e.telerivet_id = '${id}'`,
      )
      return rows[0]?.status === 'done'
    }, 30_000)
    report
      .figure('restart_sessions_killed', killed?.n ?? 0)
      .figure('relisten', relistened ? 'yes' : 'no')
      .figure('job_after_restart', jobRan ? 'done' : 'not run')
      .figure('restart_to_job_done_ms', Math.round(performance.now() - killedAt))
    report.check(relistened, 'the worker did not LISTEN again within 30 s of the restart')
    report.check(status === 200, `after the restart a delivery got ${status}`)
    report.check(jobRan, 'the job of a delivery after the restart did not run within 30 s')
    report.check((await server.stop()) === 0, 'the server did not exit cleanly on SIGTERM')
    return report.done()
  } catch (error) {
    report.problem(`drill aborted: ${(error as Error).message.slice(0, 500)}`)
    return report.done()
  } finally {
    await killAll()
    await proxy.close()
    await database.cleanup()
  }
}
