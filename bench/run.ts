/**
 * @module `bun run bench`: ingestion throughput of Telehook against baselines, on the same machine
 * and database, alternating, two rounds. Receivers: the bare Bun.serve ceiling, naive Bun +
 * postgres.js and Express + pg (bench/baselines), Telehook on PostgreSQL and on PGlite (the
 * webhook app's own entry, with the example bot). Load: wrk (Debian's package, installed with
 * apt-get when absent), 1 thread, 50 connections, distinct ~900-byte incoming_message bodies.
 *
 * Env: BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50), BENCH_ROUNDS (2),
 * BENCH_RECEIVERS (all: "ceiling,naive,express,telehook-pg,telehook-pglite"),
 * BENCH_DATABASE_URL (admin URL; default TEST_DATABASE_URL or postgres://root@127.0.0.1:5432/test).
 * Every PostgreSQL receiver gets a fresh database, dropped afterwards.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'

const root = join(import.meta.dir, '..')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://root@127.0.0.1:5432/test'
const SECRET = 'bench-secret-0123456789abcdef'

interface Receiver {
  name: string
  label: string
  database: 'postgres' | 'pglite' | 'none'
  command(env: Record<string, string>): string[]
}

const RECEIVERS: Receiver[] = [
  {
    name: 'ceiling',
    label: 'bare Bun.serve answering 200 (HTTP ceiling)',
    database: 'none',
    command: () => ['bun', join(root, 'bench/baselines/bare-bun.ts')],
  },
  {
    name: 'naive',
    label: 'naive Bun + postgres.js, one INSERT per request',
    database: 'postgres',
    command: () => ['bun', join(root, 'bench/baselines/naive-bun.ts')],
  },
  {
    name: 'express',
    label: 'Express + body-parser + pg (Node), one INSERT per request',
    database: 'postgres',
    command: () => ['node', join(root, 'bench/baselines/express-pg.mjs')],
  },
  {
    name: 'telehook-pg',
    label: 'Telehook, PostgreSQL (all of its work)',
    database: 'postgres',
    command: () => ['bun', join(root, 'apps/webhook/src/main.ts')],
  },
  {
    name: 'telehook-pglite',
    label: 'Telehook, PGlite (all of its work)',
    database: 'pglite',
    command: () => ['bun', join(root, 'apps/webhook/src/main.ts')],
  },
]

const wanted = (process.env.BENCH_RECEIVERS ?? RECEIVERS.map((r) => r.name).join(','))
  .split(',')
  .map((s) => s.trim())
const receivers = RECEIVERS.filter((r) => wanted.includes(r.name))

interface Sample {
  receiver: string
  round: number
  rps: number
  p50: number
  p99: number
  p999: number
  errors: number
  requests: number
  rssMb: number
  /** Resident set one second after the receiver answered its first request, before any load. */
  startRssMb: number
  /** CPU time of the receiver's process per request during the measured run, ms. */
  cpuMs: number
  /** CPU time of PostgreSQL's processes per request during the measured run, ms (null: none). */
  pgCpuMs: number | null
  /** Share of the machine's CPU time left idle during the measured run, %. */
  idlePct: number
  wrkCpuMs: number
}

function ensureWrk(): void {
  if (Bun.which('wrk')) return
  console.error('bench: wrk not found; installing it with apt-get (Debian package "wrk")')
  const sudo = process.getuid?.() === 0 ? [] : ['sudo']
  for (const args of [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', 'wrk'],
  ]) {
    const r = Bun.spawnSync([...sudo, ...args], { stdout: 'inherit', stderr: 'inherit' })
    if (r.exitCode !== 0) throw new Error(`bench: ${args.join(' ')} failed`)
  }
}

async function freeDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `telehook_bench_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists ${name} with (force)`)
      await a.end()
    },
  }
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port as number
  s.stop(true)
  return port
}

/** A line of a process's status (VmHWM: peak resident set, VmRSS: resident set now), in MB. */
function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux unless `getconf` says). */
const TICKS_PER_S = (() => {
  const out = Bun.spawnSync(['getconf', 'CLK_TCK'], { stdout: 'pipe' }).stdout.toString()
  return Number(out.trim()) || 100
})()

/** User + system CPU time of processes (from /proc/<pid>/stat), ms; a gone process counts 0. */
function cpuMsOf(pids: readonly number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(f[11]) + Number(f[12])
    } catch {}
  }
  return (ticks * 1000) / TICKS_PER_S
}

/** The PostgreSQL server's processes on this machine (postmaster and backends). */
function postgresPids(): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        pids.push(Number(entry))
    } catch {}
  }
  return pids
}

/** The machine's CPU times (all cores): total and idle (idle + iowait), in ticks. */
function machineTicks(): { total: number; idle: number } {
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string)
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number)
  return { total: cpu.reduce((a, b) => a + b, 0), idle: (cpu[3] ?? 0) + (cpu[4] ?? 0) }
}

async function waitReady(port: number, proc: Bun.Subprocess): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`receiver exited with ${proc.exitCode}`)
    try {
      await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', body: '' })
      return
    } catch {
      await Bun.sleep(100)
    }
  }
  throw new Error('receiver did not start within 60 s')
}

async function wrk(
  port: number,
  seconds: number,
  prefix: string,
): Promise<{ stats: Record<string, number>; cpuMs: number }> {
  const proc = Bun.spawn(
    [
      'wrk',
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      join(import.meta.dir, 'wrk.lua'),
      `http://127.0.0.1:${port}/webhook`,
      '--',
      prefix,
      SECRET,
      '/webhook',
    ],
    { stdout: 'pipe', stderr: 'inherit' },
  )
  const out = await new Response(proc.stdout).text()
  await proc.exited
  const line = out.split('\n').find((l) => l.startsWith('BENCH '))
  if (!line) throw new Error(`wrk gave no summary:\n${out}`)
  const usage = proc.resourceUsage()
  const cpuMs = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1000 : Number.NaN
  return { stats: JSON.parse(line.slice(6)) as Record<string, number>, cpuMs }
}

async function measure(receiver: Receiver, round: number): Promise<Sample> {
  const port = await freePort()
  const db = receiver.database === 'postgres' ? await freeDatabase() : null
  const dataDir =
    receiver.database === 'pglite' ? mkdtempSync(join(tmpdir(), 'telehook-bench-')) : null
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: '127.0.0.1',
    SECRET,
    TELEHOOK_SECRET: SECRET,
    NODE_ENV: 'production',
  }
  delete env.DATABASE_URL
  if (db) env.DATABASE_URL = db.url
  if (dataDir) env.TELEHOOK_DATA_DIR = dataDir
  // The receiver's output goes to a file (a pipe nobody reads would stall it when full).
  const logPath = join(tmpdir(), `telehook-bench-${receiver.name}-${round}.log`)
  const proc = Bun.spawn(receiver.command(env), {
    env,
    cwd: root,
    stdout: 'ignore',
    stderr: Bun.file(logPath),
  })
  try {
    await waitReady(port, proc)
    await Bun.sleep(1000)
    const startRssMb = statusMb(proc.pid, 'VmRSS')
    const prefix = `${receiver.name.replaceAll('-', '')}r${round}`
    if (WARMUP > 0) await wrk(port, WARMUP, `${prefix}w`)
    const pgPids = receiver.database === 'postgres' ? postgresPids() : []
    const before = { own: cpuMsOf([proc.pid]), pg: cpuMsOf(pgPids), machine: machineTicks() }
    const { stats, cpuMs } = await wrk(port, SECONDS, prefix)
    // A backend that started during the run counts whole: all of its time is the run's.
    const joined = receiver.database === 'postgres' ? postgresPids() : []
    const newPids = joined.filter((pid) => !pgPids.includes(pid))
    const after = {
      own: cpuMsOf([proc.pid]),
      pg: cpuMsOf(pgPids) + cpuMsOf(newPids),
      machine: machineTicks(),
    }
    const requests = Math.max(1, stats.requests as number)
    const seconds = (stats.duration_us as number) / 1e6
    const errors =
      (stats.connect as number) +
      (stats.read as number) +
      (stats.write as number) +
      (stats.status as number) +
      (stats.timeout as number)
    return {
      receiver: receiver.name,
      round,
      rps: (stats.requests as number) / seconds,
      p50: (stats.p50 as number) / 1000,
      p99: (stats.p99 as number) / 1000,
      p999: (stats.p999 as number) / 1000,
      errors,
      requests: stats.requests as number,
      rssMb: statusMb(proc.pid, 'VmHWM'),
      startRssMb,
      cpuMs: (after.own - before.own) / requests,
      pgCpuMs: receiver.database === 'postgres' ? (after.pg - before.pg) / requests : null,
      idlePct:
        (100 * (after.machine.idle - before.machine.idle)) /
        Math.max(1, after.machine.total - before.machine.total),
      wrkCpuMs: cpuMs,
    }
  } finally {
    proc.kill('SIGTERM')
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await proc.exited
    clearTimeout(killer)
    await db?.drop().catch(() => {})
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  }
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–')

/** The median CPU per request of a receiver's rounds: its own, plus PostgreSQL's when it uses it. */
function cpuCell(ss: readonly Sample[]): string {
  const own = median(ss.map((s) => s.cpuMs))
  const pg = ss.every((s) => s.pgCpuMs !== null) ? median(ss.map((s) => s.pgCpuMs as number)) : null
  return pg === null ? fmt(own, 3) : `${fmt(own, 3)} + ${fmt(pg, 3)} = ${fmt(own + pg, 3)}`
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function main(): Promise<void> {
  ensureWrk()
  const started = new Date()
  const samples: Sample[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate the order: a receiver is not always measured first (or last) on a warming machine.
    const order = round % 2 === 1 ? receivers : [...receivers].reverse()
    for (const r of order) {
      const s = await measure(r, round)
      samples.push(s)
      console.error(
        `round ${round} ${r.name}: ${fmt(s.rps, 0)} req/s, p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, errors ${s.errors}`,
      )
    }
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const per = new Map<string, Sample[]>()
  for (const s of samples) per.set(s.receiver, [...(per.get(s.receiver) ?? []), s])
  const rpsOf = (name: string) => median((per.get(name) ?? []).map((s) => s.rps))
  const lines = [
    `Ingestion benchmark, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC: wrk 1 thread, ${CONNECTIONS} connections, ${SECONDS} s per receiver after ${WARMUP} s of warm-up, ${ROUNDS} alternating rounds; load average at the end ${load}.`,
    'req/s is the median of the rounds (each round in brackets); latencies are the worst round; ratios are of the medians.',
    '',
    '| receiver | req/s (rounds) | p50 ms | p99 ms | p99.9 ms | errors | RSS after start-up MB | peak RSS MB | CPU ms/request: receiver + PostgreSQL | machine idle % | ÷ naive | ÷ Express | ÷ ceiling |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of receivers) {
    const ss = per.get(r.name) ?? []
    const rps = rpsOf(r.name)
    const ratio = (base: string) =>
      per.has(base) && r.name !== base ? `${fmt(rps / rpsOf(base), 2)}×` : ''
    lines.push(
      `| ${r.label} | ${fmt(rps, 0)} (${ss.map((s) => fmt(s.rps, 0)).join(', ')}) | ${fmt(Math.max(...ss.map((s) => s.p50)))} | ${fmt(Math.max(...ss.map((s) => s.p99)))} | ${fmt(Math.max(...ss.map((s) => s.p999)))} | ${ss.reduce((n, s) => n + s.errors, 0)} | ${fmt(Math.max(...ss.map((s) => s.startRssMb)), 0)} | ${fmt(Math.max(...ss.map((s) => s.rssMb)), 0)} | ${cpuCell(ss)} | ${fmt(median(ss.map((s) => s.idlePct)), 0)} | ${ratio('naive')} | ${ratio('express')} | ${ratio('ceiling')} |`,
    )
  }
  lines.push(
    '',
    "CPU per request is read from /proc over the measured run (median of the rounds): the receiver's process, plus every PostgreSQL process for the receivers that use the server (PGlite runs inside the receiver). Machine idle is the share of all cores' time left idle (idle + iowait) meanwhile; the load generator and the kernel use part of the rest.",
  )
  // The generator's own cost: wrk's CPU per request at the ceiling, where it works hardest.
  const gen = per.get('ceiling') ?? samples
  const cpuPerReq = median(gen.map((s) => s.wrkCpuMs / Math.max(1, s.requests)))
  lines.push(
    '',
    `wrk used ${fmt(cpuPerReq * 1000, 1)} µs of CPU per request${per.has('ceiling') ? ' at the ceiling' : ''}: at the fastest Telehook rate that is ${fmt((cpuPerReq * Math.max(rpsOf('telehook-pg') || 0, rpsOf('telehook-pglite') || 0)) / 10, 1)} % of one core, so the generator is not what limits the receivers.`,
  )
  console.log(lines.join('\n'))
}

await main()
