/**
 * @module Valid-delivery latency while strangers flood the public port. The webhook server runs as
 * its own process (`src/main.ts`, PGlite in a temporary folder, or PostgreSQL when DATABASE_URL is
 * set); valid deliveries are sent 4 at a time from 127.0.0.2, first alone, then during each flood,
 * and their p50/p99 are reported with the ratio to the run alone (same run, same machine):
 *
 * - `unknown ids`: 16 connections posting made-up endpoint ids of the right shape, each request
 *   from another of 4 000 loopback addresses (an attacker with many addresses: the per-client
 *   limit hardly applies, the endpoint cache's misses and the one-lookup-per-id rule do).
 * - `bad ids`: the same with ids that are not of the endpoint shape (`%00`, 100 characters).
 * - `256 KiB, wrong secret, many addresses`: 8 connections posting 256 KiB bodies with a wrong
 *   secret (the secret is found by a scan of the raw body; the body is never parsed).
 * - `256 KiB, wrong secret, one address`: the same from one address (the per-client limit answers
 *   429 before reading the body).
 *
 * The flood client runs on the same machine, so on a small one it takes CPU from the server: the
 * `server CPU per refusal` column (the server's CPU time during the same flood without valid
 * deliveries, divided by the refusals) is the figure that does not depend on that.
 *
 * Env: FLOOD_SECONDS (per phase, default 5), DATABASE_URL (PostgreSQL instead of PGlite).
 * Run: `bun run bench/flood.bench.ts` from apps/webhook.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { encodeForm } from '@telehook/protocol'

const SECONDS = Number(process.env.FLOOD_SECONDS ?? 5)
const SECRET = 'bench-flood-secret-Rt5Yu7Io9'
const FORM = 'application/x-www-form-urlencoded'

let seq = 0
function delivery(secret = SECRET, pad = 0): string {
  seq += 1
  return encodeForm({
    event: 'incoming_message',
    id: `SMflood${Date.now().toString(36)}${seq.toString(36).padStart(6, '0')}`,
    message_type: 'sms',
    content: 'Hello',
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: Math.floor(Date.now() / 1000),
    contact_id: `CTflood${seq % 500}`,
    phone_id: 'PNflood0000000001',
    project_id: 'PJflood0000000001',
    secret,
    ...(pad > 0 ? { pad: 'a'.repeat(pad) } : {}),
  })
}

/** One request on a fresh connection; resolves to [status, ms]. */
function post(port: number, path: string, body: string, localAddress: string) {
  const started = performance.now()
  return new Promise<[number, number]>((done) => {
    let received = ''
    let settled = false
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: telehook.test\r\nContent-Type: ${FORM}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      )
      socket.write(body)
    })
    const finish = (status: number) => {
      if (settled) return
      settled = true
      socket.destroy()
      done([status, performance.now() - started])
    }
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received)
      if (m) finish(Number(m[1]))
    })
    socket.on('error', () => finish(0))
    socket.on('close', () => finish(0))
  })
}

function pct(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return (
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10
  )
}

/** Valid deliveries, 4 at a time, until `stop()` says so; their latencies. */
async function validLoad(port: number, until: () => boolean) {
  const latencies: number[] = []
  let failures = 0
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!until()) {
        const [status, ms] = await post(port, '/webhook', delivery(), '127.0.0.2')
        if (status === 200) latencies.push(ms)
        else failures += 1
      }
    }),
  )
  return { latencies, failures }
}

type Attack = {
  connections: number
  next: (i: number) => { path: string; body: string; from: string }
}

/** CPU time (user + system) the server process has used so far, in ms. */
async function serverCpuMs(pid: number): Promise<number> {
  const fields = (await Bun.file(`/proc/${pid}/stat`).text()).split(') ')[1]?.split(' ') ?? []
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the command name).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

async function phase(port: number, attack: Attack | null, withValid = true) {
  const cpuBefore = await serverCpuMs(child.pid)
  const end = performance.now() + (withValid ? SECONDS : SECONDS / 2) * 1000
  const until = () => performance.now() >= end
  let attempts = 0
  const statuses: Record<number, number> = {}
  const attackers = attack
    ? Array.from({ length: attack.connections }, async () => {
        while (!until()) {
          const { path, body, from } = attack.next(attempts++)
          const [status] = await post(port, path, body, from)
          statuses[status] = (statuses[status] ?? 0) + 1
        }
      })
    : []
  const noValid = { latencies: [] as number[], failures: 0 }
  const [valid] = await Promise.all([withValid ? validLoad(port, until) : noValid, ...attackers])
  return { valid, attempts, statuses, cpuMs: (await serverCpuMs(child.pid)) - cpuBefore }
}

const address = (i: number) => `127.${50 + ((i >> 16) & 7)}.${(i >> 8) & 255}.${i & 255 || 1}`
const bigWrong = delivery('wrong-secret-0000000000', 256 * 1024 - 600)

const dir = await mkdtemp(join(tmpdir(), 'telehook-flood-'))
const child = Bun.spawn([process.execPath, 'run', resolve(import.meta.dir, '../src/main.ts')], {
  env: {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    TELEHOOK_SECRET: SECRET,
    TELEHOOK_DATA_DIR: join(dir, 'data'),
    TELEHOOK_HANDLERS: 'none',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  },
  stdout: 'ignore',
  stderr: 'pipe',
})
let banner = ''
const reader = child.stderr.getReader()
let port = 0
while (port === 0) {
  const { done, value } = await reader.read()
  if (done) throw new Error(`server did not start: ${banner}`)
  banner += new TextDecoder().decode(value)
  port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1] ?? 0)
}

try {
  await phase(port, null) // warm-up
  const phases: [string, Attack | null][] = [
    ['alone', null],
    [
      'unknown ids, 4 000 addresses',
      {
        connections: 16,
        next: (i) => ({
          path: `/hooks/made-up-${i.toString(36).padStart(16, '0')}`,
          body: delivery('x'.repeat(24)),
          from: address(i % 4000),
        }),
      },
    ],
    [
      'ids not of the endpoint shape',
      {
        connections: 16,
        next: (i) => ({
          path: i % 2 ? '/hooks/%00' : `/hooks/${'z'.repeat(100)}`,
          body: delivery('x'.repeat(24)),
          from: address(i % 4000),
        }),
      },
    ],
    [
      '256 KiB, wrong secret, many addresses',
      {
        connections: 8,
        next: (i) => ({ path: '/webhook', body: bigWrong, from: address(i % 4000) }),
      },
    ],
    [
      '256 KiB, wrong secret, one address',
      { connections: 8, next: () => ({ path: '/webhook', body: bigWrong, from: '127.99.0.1' }) },
    ],
  ]
  let alone = { p50: 0, p99: 0 }
  console.log(
    `valid deliveries (4 at a time) while the public port is flooded, ${SECONDS} s per phase, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`,
  )
  console.log(
    '| flood | attack req/s | attack answers | server CPU per refusal | valid/s | valid p50 ms | valid p99 ms | p99 vs alone |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  for (const [name, attack] of phases) {
    const r = await phase(port, attack)
    const p50 = pct(r.valid.latencies, 0.5)
    const p99 = pct(r.valid.latencies, 0.99)
    if (attack === null) alone = { p50, p99 }
    // The server's CPU per refusal, from the same flood without valid deliveries (half as long).
    let perRefusal = '—'
    if (attack) {
      const only = await phase(port, attack, false)
      perRefusal = `${Math.round((only.cpuMs / Math.max(1, only.attempts)) * 1000)} µs`
    }
    const answers =
      Object.entries(r.statuses)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ') || '—'
    console.log(
      `| ${name} | ${Math.round(r.attempts / SECONDS)} | ${answers} | ${perRefusal} | ${Math.round(r.valid.latencies.length / SECONDS)} | ${p50} | ${p99} | ${alone.p99 ? (p99 / alone.p99).toFixed(2) : '—'}× |${r.valid.failures ? ` (${r.valid.failures} valid deliveries failed)` : ''}`,
    )
  }
} finally {
  child.kill('SIGTERM')
  await child.exited
  await rm(dir, { recursive: true, force: true })
}
