/**
 * @module Crash under load: distinct deliveries at a steady concurrency while the server is
 * SIGKILLed at random moments and started again each time on the same data. The client keeps
 * every delivery until it gets a 200 (as Telerivet retries), and afterwards every acknowledged
 * delivery must be in `events`, once. On PGlite the folder must open again after each kill
 * without a manual step (a stale lock, a half-written page).
 */
import {
  type Answer,
  type DrillOptions,
  type DrillReport,
  deliver,
  freshDatabase,
  incomingBody,
  killAll,
  newId,
  quantile,
  Report,
  type Served,
  serve,
  statusCounts,
  storedIds,
} from './harness'

const SIZES = {
  ci: { kills: 5, concurrency: 8, minGapMs: 500, maxGapMs: 2500, drainMs: 60_000 },
  long: { kills: 20, concurrency: 32, minGapMs: 1000, maxGapMs: 8000, drainMs: 120_000 },
} as const

export async function run(opts: DrillOptions): Promise<DrillReport> {
  const size = SIZES[opts.size]
  const report = new Report('crash', opts.driver)
  const database = await freshDatabase(opts.driver)
  try {
    let server: Served = await serve(database)
    const port = server.port
    report.figure('first_start_ms', server.readyMs)

    const acked = new Set<string>()
    const everSent = new Set<string>()
    /** Deliveries not yet acknowledged: sent again, first, by the next free lane. */
    const retry: string[] = []
    const answers: Answer[] = []
    let up = true
    let stopping = false
    let firstOkAfter: number | null = null
    let firstOkAt: number | null = null

    const lane = async () => {
      while (!stopping || retry.length > 0) {
        const id = retry.shift() ?? (stopping ? null : newId())
        if (id === null) return
        everSent.add(id)
        const answer = await deliver(`http://127.0.0.1:${port}/webhook`, incomingBody(id))
        answers.push(answer)
        if (answer.status === 200) {
          acked.add(id)
          if (firstOkAfter !== null && firstOkAt === null && answer.at > firstOkAfter) {
            firstOkAt = answer.at
          }
        } else {
          retry.push(id)
          // Refused while the server is down: wait a little, as a retrying sender would.
          await Bun.sleep(up ? 5 : 50)
        }
      }
    }
    const lanes = Array.from({ length: size.concurrency }, lane)

    const restartMs: number[] = []
    const readyMs: number[] = []
    const ackedAtKill: number[] = []
    for (let k = 0; k < size.kills; k++) {
      await Bun.sleep(size.minGapMs + Math.random() * (size.maxGapMs - size.minGapMs))
      ackedAtKill.push(acked.size)
      up = false
      await server.kill()
      const killedAt = performance.now()
      firstOkAfter = killedAt
      firstOkAt = null
      try {
        server = await serve(database, { port })
      } catch (error) {
        report.problem(`restart ${k + 1} failed: ${(error as Error).message.slice(0, 300)}`)
        break
      }
      up = true
      readyMs.push(server.readyMs)
      // The first 200 after the kill, as the client saw it (the lanes keep sending).
      const deadline = performance.now() + 60_000
      while (firstOkAt === null && performance.now() < deadline) await Bun.sleep(10)
      if (firstOkAt === null) report.problem(`no 200 within 60 s of restart ${k + 1}`)
      else restartMs.push(Math.round((firstOkAt as number) - killedAt))
    }
    await Bun.sleep(300)
    stopping = true
    const drained = await Promise.race([
      Promise.all(lanes).then(() => true),
      Bun.sleep(size.drainMs).then(() => false),
    ])
    report.check(drained, `deliveries still unacknowledged after ${size.drainMs} ms`)
    const exit = await server.stop()
    report.check(exit === 0, `the last server exited with ${exit} on SIGTERM`)

    // Read back with the server stopped (PGlite admits one process per folder).
    const stored = await storedIds(database, everSent)
    const lost = [...acked].filter((id) => !stored.has(id))
    const rows = await database.query<{ telerivet_id: string; n: number }>(
      `select telerivet_id, count(*)::int as n from telehook.events
       where event = 'incoming_message' group by telerivet_id having count(*) > 1`,
    )
    const totals = await database.query<{ events: number; deliveries: number; bytes: number }>(
      `select count(*)::int as events, coalesce(sum(delivery_count), 0)::int as deliveries,
              coalesce(sum(length(payload::text)), 0)::bigint as bytes from telehook.events`,
    )
    const other = answers.filter((a) => a.status !== 200 && a.status !== 0 && a.status !== 503)

    report
      .figure('kills', restartMs.length)
      .figure('sent', answers.length)
      .figure('acknowledged', acked.size)
      .figure('lost', lost.length)
      .figure('doubled', rows.length)
      .figure('unacknowledged_at_end', retry.length)
      .figure('events', totals[0]?.events ?? 0)
      .figure('statuses', statusCounts(answers))
      .figure('restart_to_first_200_ms', restartMs.join('/'))
      .figure('restart_ready_ms_p50', quantile(readyMs, 0.5))
    report.check(
      restartMs.length === size.kills,
      `only ${restartMs.length} of ${size.kills} kills recovered`,
    )
    report.check(lost.length === 0, `acknowledged but not stored: ${lost.slice(0, 5).join(', ')}`)
    report.check(
      rows.length === 0,
      `stored more than once: ${rows
        .slice(0, 5)
        .map((r) => r.telerivet_id)
        .join(', ')}`,
    )
    report.check(
      (totals[0]?.events ?? 0) === everSent.size,
      `${totals[0]?.events} event rows for ${everSent.size} distinct deliveries (all were retried until acknowledged)`,
    )
    report.check(
      other.length === 0,
      `unexpected statuses: ${statusCounts(other)} (${other[0]?.body.slice(0, 120)})`,
    )
    report.check(
      ackedAtKill.every((n, i) => i === 0 || n > (ackedAtKill[i - 1] ?? 0)),
      'a kill came before any delivery was acknowledged since the previous one (no load at that moment)',
    )
    return report.done()
  } catch (error) {
    report.problem(`drill aborted: ${(error as Error).message.slice(0, 500)}`)
    return report.done()
  } finally {
    await killAll()
    await database.cleanup()
  }
}
