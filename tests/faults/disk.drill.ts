/**
 * @module Disk full and read-only data folder (PGlite). The data folder lives on a file system
 * of its own, broken under load:
 * - full: a small tmpfs, filled by another file; then the file is removed.
 * - read-only: an ext4 image on a loop device, mounted `errors=remount-ro`, made read-only by an
 *   injected file-system error (`/sys/fs/ext4/<dev>/trigger_fs_error`, what a failing disk does);
 *   it is repaired (umount, e2fsck, mount) and the server started again. A folder that is
 *   read-only from the start must stop `telehook serve` with one clear line.
 * While broken, every delivery is answered 503 with Retry-After (never a 200 for what could not
 * be written) and the log line says why; afterwards every acknowledged delivery is stored, once.
 *
 * Needs root (mount, losetup). PostgreSQL's disk is the database server's business: PGlite only.
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Answer,
  type DrillDatabase,
  type DrillDriver,
  type DrillOptions,
  type DrillReport,
  deliver,
  freshDatabase,
  incomingBody,
  killAll,
  newId,
  Report,
  type Served,
  serve,
  statusCounts,
  storedIds,
  waitFor,
} from './harness'

/** The drivers this drill applies to. */
export const drivers: DrillDriver[] = ['pglite']

const SIZES = {
  ci: { concurrency: 4, warmMs: 2000, brokenMs: 5000, afterMs: 2000 },
  long: { concurrency: 16, warmMs: 10_000, brokenMs: 30_000, afterMs: 10_000 },
} as const

/** Runs a command; resolves to its exit code and what it printed. */
async function sh(cmd: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ])
  return { code, out: `${out}${err}`.trim() }
}

/** Why this machine cannot run the drill, or null when it can (root, able to mount a tmpfs). */
export async function cannotRun(): Promise<string | null> {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs and a loop device'
  const dir = await mkdtemp(join(tmpdir(), 'telehook-mount-check-'))
  try {
    const mounted = await sh(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])
    if (mounted.code !== 0) return `cannot mount a tmpfs: ${mounted.out}`
    await sh(['umount', dir])
    return null
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Fills the file system holding `dir` with one file until it is full; returns its path. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'filler')
  const file = await open(path, 'w')
  const chunk = new Uint8Array(1 << 20)
  try {
    for (let size = chunk.length; size >= 512; ) {
      try {
        await file.write(chunk.subarray(0, size))
      } catch {
        size = Math.floor(size / 2)
      }
    }
  } finally {
    await file.close()
  }
  return path
}

/** The deliveries of one phase of a drill, posted by lanes that retry until acknowledged. */
function load(target: () => string, concurrency: number) {
  const acked = new Set<string>()
  const everSent = new Set<string>()
  const retry: string[] = []
  const answers: (Answer & { phase: string })[] = []
  let phase = 'before'
  let stopping = false
  let paused = false
  let brokenAt = Number.POSITIVE_INFINITY
  let firstOkAfter: number | null = null
  let fixedAt = Number.POSITIVE_INFINITY
  const lane = async () => {
    while (!stopping || retry.length > 0) {
      if (paused) {
        await Bun.sleep(50)
        continue
      }
      const id = (phase === 'broken' ? null : retry.shift()) ?? (stopping ? null : newId())
      if (id === null) return
      everSent.add(id)
      const sentIn = phase
      const answer = await deliver(target(), incomingBody(id))
      answers.push({ ...answer, phase: sentIn })
      if (answer.status === 200) {
        acked.add(id)
        if (answer.at > fixedAt && firstOkAfter === null) firstOkAfter = answer.at
      } else {
        retry.push(id)
        await Bun.sleep(50)
      }
    }
  }
  const lanes = Array.from({ length: concurrency }, lane)
  return {
    acked,
    everSent,
    answers,
    pending: () => retry.length,
    broken() {
      phase = 'broken'
      brokenAt = performance.now()
    },
    pause(on: boolean) {
      paused = on
    },
    fixed() {
      phase = 'after'
      fixedAt = performance.now()
    },
    brokenAt: () => brokenAt,
    recoveryMs: () => (firstOkAfter === null ? null : Math.round(firstOkAfter - fixedAt)),
    async finish(timeoutMs: number): Promise<boolean> {
      stopping = true
      paused = false
      return Promise.race([
        Promise.all(lanes).then(() => true),
        Bun.sleep(timeoutMs).then(() => false),
      ])
    },
  }
}

const CAUSE = {
  full: /no space left|ENOSPC|disk full|could not extend|could not write/i,
  readOnly: /read-only|EROFS|could not write|could not open/i,
}

/**
 * Checks common to both breakages: statuses while broken, the log line, nothing lost. `servers`
 * are every process that served the drill (the read-only case starts a second one after the
 * repair): the 503 lines of all of them must name the cause.
 */
async function judge(
  report: Report,
  tag: string,
  database: DrillDatabase,
  servers: Served[],
  traffic: ReturnType<typeof load>,
  cause: RegExp,
): Promise<void> {
  const broken = traffic.answers.filter((a) => a.phase === 'broken')
  const refused = broken.filter((a) => a.status === 503)
  const other = broken.filter((a) => a.status !== 200 && a.status !== 503)
  const unavailable = servers.flatMap((s) => s.logLines()).filter((l) => l.status === 503)
  const firstLine = String(unavailable[0]?.error ?? unavailable[0]?.msg ?? '')
  const clear = unavailable.length > 0 && unavailable.every((l) => cause.test(String(l.error)))
  const stored = await storedIds(database, traffic.everSent)
  const lost = [...traffic.acked].filter((id) => !stored.has(id))
  const doubled = await database.query<{ telerivet_id: string }>(
    `select telerivet_id from telehook.events group by telerivet_id having count(*) > 1`,
  )
  report
    .figure(`${tag}_acknowledged`, traffic.acked.size)
    .figure(`${tag}_lost`, lost.length)
    .figure(`${tag}_while_broken`, statusCounts(broken))
    .figure(`${tag}_log`, JSON.stringify(firstLine.replace(/\s+/g, ' ').slice(0, 70)))
    // PGlite's own reports (it stopped, it is back) are JSON lines of the service's log too.
    .figure(
      `${tag}_pglite_reports`,
      servers
        .flatMap((s) => s.logLines())
        .filter((l) => /^PGlite (stopped|restart failed|is back)/.test(String(l.msg)))
        .map((l) => `${l.level}:${String(l.msg).split(/[:;(]/)[0]}`)
        .join(', ') || 'none',
    )
  report.check(refused.length > 0, `${tag}: no 503 while broken`)
  report.check(
    refused.every((a) => a.retryAfter !== null),
    `${tag}: a 503 without Retry-After`,
  )
  report.check(other.length === 0, `${tag}: answers other than 200/503: ${statusCounts(other)}`)
  report.check(
    clear,
    `${tag}: the 503 log lines do not name the cause (${cause.source}); first: ${firstLine.slice(0, 160)}`,
  )
  report.check(
    lost.length === 0,
    `${tag}: acknowledged but not stored: ${lost.slice(0, 5).join(', ')}`,
  )
  report.check(doubled.length === 0, `${tag}: ${doubled.length} deliveries stored twice`)
  report.check(
    stored.size === traffic.everSent.size,
    `${tag}: ${stored.size} stored of ${traffic.everSent.size} retried until acknowledged`,
  )
}

/** The disk fills up under load, then space returns; the same process must recover. */
async function diskFull(report: Report, size: (typeof SIZES)[keyof typeof SIZES]): Promise<void> {
  const mnt = await mkdtemp(join(tmpdir(), 'telehook-drill-full-'))
  const mounted = await sh(['mount', '-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mnt])
  if (!report.check(mounted.code === 0, `full: cannot mount a tmpfs: ${mounted.out}`)) return
  const database = await freshDatabase('pglite', { scratch: mnt })
  try {
    const server = await serve(database)
    const traffic = load(() => server.hook, size.concurrency)
    await Bun.sleep(size.warmMs)
    traffic.broken()
    const filler = await fill(mnt)
    const refusedSoon = await waitFor(
      () => traffic.answers.some((a) => a.phase === 'broken' && a.status === 503),
      30_000,
    )
    report.check(refusedSoon, 'full: no 503 within 30 s of the disk filling up')
    await Bun.sleep(size.brokenMs)
    const health = await fetch(`${server.url}/healthz`).then((r) => r.status)
    await rm(filler)
    traffic.fixed()
    const recovered = await waitFor(() => traffic.recoveryMs() !== null, 60_000)
    report.check(recovered, 'full: no 200 within 60 s of space returning (without a restart)')
    await Bun.sleep(size.afterMs)
    const drained = await traffic.finish(60_000)
    report.check(drained, 'full: deliveries still unacknowledged 60 s after space returned')
    const exit = await server.stop()
    report
      .figure('full_healthz', health)
      .figure('full_recovery_ms', traffic.recoveryMs() ?? 'none')
      .figure('full_exit', exit ?? 'signal')
    report.check(exit === 0, `full: the server exited with ${exit} on SIGTERM after recovering`)
    await judge(report, 'full', database, [server], traffic, CAUSE.full)
  } finally {
    await killAll()
    await database.cleanup()
    await sh(['umount', mnt])
    await rm(mnt, { recursive: true, force: true })
  }
}

/**
 * The file system turns read-only under load (an injected ext4 error). It is repaired with the
 * server stopped, as an operator would, and the server started again on the same folder.
 */
async function readOnly(report: Report, size: (typeof SIZES)[keyof typeof SIZES]): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'telehook-drill-ro-'))
  const image = join(scratch, 'disk.img')
  const mnt = join(scratch, 'mnt')
  await sh(['mkdir', '-p', mnt])
  await sh(['truncate', '-s', '160M', image])
  const made = await sh(['mkfs.ext4', '-q', '-F', image])
  const mount = () => sh(['mount', '-o', 'loop,errors=remount-ro', image, mnt])
  const mounted = made.code === 0 ? await mount() : made
  if (
    !report.check(mounted.code === 0, `read-only: cannot mount an ext4 loop device: ${mounted.out}`)
  ) {
    await rm(scratch, { recursive: true, force: true })
    return
  }
  const database = await freshDatabase('pglite', { scratch: mnt })
  try {
    const first = await serve(database)
    let server = first
    const port = server.port
    const traffic = load(() => `http://127.0.0.1:${port}/webhook`, size.concurrency)
    await Bun.sleep(size.warmMs)
    const mounts = await Bun.file('/proc/mounts').text()
    const device = mounts
      .split('\n')
      .find((l) => l.split(' ')[1] === mnt)
      ?.split(' ')[0]
      ?.replace('/dev/', '')
    traffic.broken()
    const injected = await sh(['sh', '-c', `echo drill > /sys/fs/ext4/${device}/trigger_fs_error`])
    if (
      !report.check(injected.code === 0, `read-only: cannot inject an ext4 error: ${injected.out}`)
    ) {
      return
    }
    const refusedSoon = await waitFor(
      () => traffic.answers.some((a) => a.phase === 'broken' && a.status === 503),
      15_000,
    )
    report.check(refusedSoon, 'read-only: no 503 within 15 s of the file system turning read-only')
    await Bun.sleep(size.brokenMs)
    // Repair, as an operator does: stop the server, check the file system, mount it again.
    traffic.pause(true)
    const stopped = await Promise.race([server.stop(), Bun.sleep(15_000).then(() => 'hung')])
    if (stopped === 'hung') await server.kill()
    report.check(stopped !== 'hung', 'read-only: SIGTERM did not stop the server within 15 s')
    report.figure('ro_exit_on_sigterm', stopped ?? 'signal')
    // Its stop succeeded: the lock file the read-only disk keeps is a warning line, not a failure.
    report.check(
      stopped === 'hung' || stopped === 0,
      `read-only: the server exited with ${stopped} on SIGTERM (expected 0): ${first
        .output()
        .split('\n')
        .filter((l) => l.includes('telehook:'))
        .slice(-2)
        .join(' | ')
        .slice(0, 300)}`,
    )
    report.figure(
      'ro_lock_left',
      first.output().includes('could not remove the lock file') ? 'warned' : 'no',
    )
    await sh(['umount', mnt])
    const fsck = await sh(['e2fsck', '-fy', image])
    report.figure('ro_fsck_exit', fsck.code)
    const remounted = await mount()
    if (!report.check(remounted.code === 0, `read-only: remount failed: ${remounted.out}`)) return
    const restartAt = performance.now()
    server = await serve(database, { port })
    report.figure('ro_restart_ready_ms', Math.round(performance.now() - restartAt))
    traffic.fixed()
    traffic.pause(false)
    const recovered = await waitFor(() => traffic.recoveryMs() !== null, 60_000)
    report.check(recovered, 'read-only: no 200 within 60 s of the restart on the repaired disk')
    await Bun.sleep(size.afterMs)
    const drained = await traffic.finish(60_000)
    report.check(drained, 'read-only: deliveries still unacknowledged 60 s after the repair')
    const exit = await server.stop()
    report.check(
      exit === 0,
      `read-only: the server exited with ${exit} on SIGTERM after the repair`,
    )
    await judge(report, 'ro', database, [first, server], traffic, CAUSE.readOnly)

    // Read-only from the start: one clear line, a failed exit, nothing served.
    await sh(['mount', '-o', 'remount,ro', mnt])
    const start = await serve(database, { timeoutMs: 60_000 }).then(
      async (s) => {
        await s.kill()
        return 'started on a read-only folder'
      },
      (error: Error) => error.message,
    )
    report.figure('ro_at_start', JSON.stringify(start.replace(/\s+/g, ' ').slice(0, 90)))
    report.check(
      /exited with [1-9].*(read-only|EROFS)/i.test(start),
      `read-only at start: ${start.slice(0, 200)}`,
    )
  } finally {
    await killAll()
    await database.cleanup()
    await sh(['umount', mnt])
    await rm(scratch, { recursive: true, force: true })
  }
}

export async function run(opts: DrillOptions): Promise<DrillReport> {
  const report = new Report('disk', opts.driver)
  if (opts.driver !== 'pglite') {
    report.problem("applies to PGlite only (PostgreSQL's disk belongs to the database server)")
    return report.done()
  }
  const reason = await cannotRun()
  if (reason) {
    report.problem(`cannot run here: ${reason}`)
    return report.done()
  }
  const size = SIZES[opts.size]
  try {
    await diskFull(report, size)
    await readOnly(report, size)
  } catch (error) {
    report.problem(`drill aborted: ${(error as Error).message.slice(0, 500)}`)
  } finally {
    await killAll()
  }
  return report.done()
}
