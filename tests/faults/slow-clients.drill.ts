/**
 * @module Drill: slow clients. A thousand idle connections and a set of uploads that trickle in
 * one byte at a time must not stop valid deliveries from being answered in time (well inside
 * Telerivet's 10 s). Valid-delivery latency is measured first alone, then under the slow clients,
 * in the same run; the slow uploads must end with a 408 (or the server hanging up), not hold on.
 */
import { connect, type Socket } from 'node:net'
import { encodeForm } from '@telehook/protocol'
import {
  DRILL_SECRET,
  type DrillOptions,
  type DrillReport,
  httpRequest,
  percentiles,
  rawRequest,
  type ServerProcess,
  startServerProcess,
} from './public-port'

const FORM = 'application/x-www-form-urlencoded'
/** Telerivet gives up on a delivery after 10 s. */
const TELERIVET_LIMIT_MS = 10_000

let sequence = 0
function delivery(): string {
  sequence += 1
  return encodeForm({
    event: 'incoming_message',
    id: `SMslow${Date.now().toString(36)}${sequence.toString(36).padStart(5, '0')}`,
    message_type: 'sms',
    content: 'Hello',
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: Math.floor(Date.now() / 1000),
    contact_id: 'CTslow00000000001',
    phone_id: 'PNslow00000000001',
    project_id: 'PJslow00000000001',
    secret: DRILL_SECRET,
  })
}

/** Sends `count` valid deliveries, `concurrency` at a time; their latencies and statuses. */
async function deliveries(server: ServerProcess, count: number, concurrency: number) {
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let left = count
  const worker = async () => {
    while (left > 0) {
      left -= 1
      const answer = await rawRequest(
        server.port,
        httpRequest('POST', '/webhook', [['Content-Type', FORM]], delivery()),
        { localAddress: '127.0.0.2', timeoutMs: TELERIVET_LIMIT_MS + 5000 },
      )
      latencies.push(answer.ms)
      statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { latencies, statuses }
}

/** Opens `count` connections that send nothing (or half a request line) and keeps them open. */
async function idleConnections(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = []
  const opening: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const localAddress = `127.20.${Math.floor(i / 250)}.${(i % 250) + 1}`
    opening.push(
      new Promise((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
          // A third of them start a request and never finish its head.
          if (i % 3 === 0) socket.write('POST /webhook HTTP/1.1\r\nHost: telehook.test\r\n')
          resolve()
        })
        socket.on('error', () => resolve())
        sockets.push(socket)
      }),
    )
  }
  await Promise.all(opening)
  return sockets
}

/** Uploads that send their head, then one body byte every `everyMs`, until told to stop. */
function slowUploads(port: number, count: number, everyMs: number) {
  const outcomes: (number | 'closed' | 'open')[] = new Array(count).fill('open')
  const sockets: Socket[] = []
  for (let i = 0; i < count; i++) {
    const localAddress = `127.30.0.${i + 1}`
    const body = delivery()
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(
        `POST /webhook HTTP/1.1\r\nHost: telehook.test\r\nContent-Type: ${FORM}\r\nContent-Length: ${body.length}\r\n\r\n`,
      )
      let at = 0
      const timer = setInterval(() => {
        if (socket.destroyed || at >= body.length) return clearInterval(timer)
        socket.write(body[at] as string)
        at += 1
      }, everyMs)
      socket.on('close', () => clearInterval(timer))
    })
    let received = ''
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received)
      if (m && outcomes[i] === 'open') outcomes[i] = Number(m[1])
    })
    socket.on('close', () => {
      if (outcomes[i] === 'open') outcomes[i] = 'closed'
    })
    socket.on('error', () => {})
    sockets.push(socket)
  }
  return {
    outcomes,
    stop() {
      for (const s of sockets) s.destroy()
    },
  }
}

/** The drill. */
export async function run(opts: DrillOptions): Promise<DrillReport> {
  const problems: string[] = []
  const figures: Record<string, string | number> = {}
  const size =
    opts.size === 'long'
      ? { idle: 5000, slow: 200, count: 2000 }
      : { idle: 1000, slow: 50, count: 200 }
  // The default deadline (8 s): a slow upload must be cut off by it, inside Telerivet's 10 s.
  const server = await startServerProcess(opts.driver)
  try {
    await deliveries(server, 30, 4) // warm-up
    const alone = await deliveries(server, size.count, 4)

    const idle = await idleConnections(server.port, size.idle)
    const slow = slowUploads(server.port, size.slow, 200)
    const started = performance.now()
    const loaded = await deliveries(server, size.count, 4)
    const loadedMs = performance.now() - started
    // Wait for the slow uploads to be cut off by the deadline (8 s from their start).
    for (let i = 0; i < 120 && slow.outcomes.includes('open'); i++) await Bun.sleep(100)
    const open = idle.filter((s) => !s.destroyed).length
    for (const s of idle) s.destroy()
    slow.stop()

    const a = percentiles(alone.latencies)
    const b = percentiles(loaded.latencies)
    figures.deliveries = size.count
    figures.alone_p50_ms = a.p50
    figures.alone_p99_ms = a.p99
    figures.loaded_p50_ms = b.p50
    figures.loaded_p99_ms = b.p99
    figures.loaded_max_ms = b.max
    figures.p99_ratio = a.p99 > 0 ? Math.round((b.p99 / a.p99) * 100) / 100 : 0
    figures.idle_connections = size.idle
    figures.idle_still_open_after_load = open
    figures.loaded_phase_ms = Math.round(loadedMs)
    const cut: Record<string, number> = {}
    for (const o of slow.outcomes) cut[String(o)] = (cut[String(o)] ?? 0) + 1
    figures.slow_uploads = Object.entries(cut)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ')

    for (const [label, run] of [
      ['alone', alone],
      ['under slow clients', loaded],
    ] as const) {
      const bad = Object.entries(run.statuses).filter(([s]) => s !== '200')
      if (bad.length > 0)
        problems.push(`valid deliveries ${label}: ${JSON.stringify(run.statuses)}`)
    }
    if (b.max >= TELERIVET_LIMIT_MS) {
      problems.push(`a valid delivery took ${b.max} ms under slow clients (Telerivet waits 10 s)`)
    }
    const stillOpen = slow.outcomes.filter((o) => o === 'open').length
    if (stillOpen > 0) problems.push(`${stillOpen} slow uploads were still held open after 20 s`)
    const wrong = slow.outcomes.filter((o) => o !== 408 && o !== 'closed' && o !== 'open')
    if (wrong.length > 0) problems.push(`slow uploads answered ${wrong.join(',')} (expected 408)`)
    if (!server.alive()) problems.push('the server process died')
  } finally {
    await server.stop()
  }
  return { name: 'slow-clients', driver: opts.driver, ok: problems.length === 0, figures, problems }
}

if (import.meta.main) {
  const driver = (process.argv[2] ?? 'pglite') as DrillOptions['driver']
  const size = (process.argv[3] ?? 'ci') as DrillOptions['size']
  console.log(JSON.stringify(await run({ driver, size }), null, 2))
}
