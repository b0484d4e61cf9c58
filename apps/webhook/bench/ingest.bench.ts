/**
 * @module End-to-end ingestion benchmark: distinct incoming_message bodies POSTed over a real
 * socket at 50 concurrent connections, each answered only after its durable commit. Reports
 * requests/s and p50/p90/p99 latency on PostgreSQL (a fresh database) and on PGlite.
 *
 * A third row, `stub`, answers from an engine that stores nothing: the ceiling of the HTTP layer
 * (socket, body read, form parse, routing, logging) on this machine, for comparison.
 *
 * Env: BENCH_REQUESTS (default 4000), BENCH_CONCURRENCY (50), BENCH_DRIVERS ("postgres,pglite,stub"),
 * BENCH_HANDLERS ("example" or "none"), BENCH_BATCH ("off" or JSON `{ maxSize, maxInflight }`). Bounded: stops after BENCH_REQUESTS or 120 s per driver.
 */
import type { Database } from '@telehook/db'
import { openTestDb, type TestDriver } from '@telehook/db/testing'
import {
  type BatchOptions,
  createEngine,
  type Engine,
  ensureSingleEndpoint,
  silentLogger,
} from '@telehook/engine'
import { createWebhookApp } from '../src/app'
import exampleHandlers from '../src/example-handlers'
import { startWebhookServer } from '../src/server'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50)
type BenchDriver = TestDriver | 'stub'
const DRIVERS = (process.env.BENCH_DRIVERS ?? 'postgres,pglite,stub')
  .split(',')
  .map((d) => d.trim()) as BenchDriver[]
const WITH_HANDLERS = (process.env.BENCH_HANDLERS ?? 'example') === 'example'
/** Group-commit settings to compare: 'off', or JSON BatchOptions; the engine's default when unset. */
const BATCH: BatchOptions | false | undefined =
  process.env.BENCH_BATCH === undefined
    ? undefined
    : process.env.BENCH_BATCH === 'off'
      ? false
      : (JSON.parse(process.env.BENCH_BATCH) as BatchOptions)
const WARMUP = 200
const TIME_LIMIT_MS = 120_000
const SECRET = 'bench-secret-0123456789abcdef'

function body(i: number, run: string): string {
  return new URLSearchParams({
    event: 'incoming_message',
    id: `SMbench${run}${i.toString(36).padStart(6, '0')}`,
    message_type: 'sms',
    direction: 'incoming',
    content: `Benchmark message number ${i}`,
    from_number: `+1650555${(i % 10000).toString().padStart(4, '0')}`,
    to_number: '+16505550100',
    time_created: String(1767225600 + i),
    contact_id: `CTbench${i % 1000}`,
    phone_id: 'PNbench0000000001',
    project_id: 'PJbench0000000001',
    'contact[name]': 'Bench',
    'contact[vars][plan]': 'gold',
    'state[id]': '',
    secret: SECRET,
  }).toString()
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)] as number
}

async function drive(url: URL, count: number, run: string) {
  const latencies: number[] = []
  const failures = new Map<number, number>()
  let next = 0
  const started = performance.now()
  async function worker() {
    for (;;) {
      const i = next++
      if (i >= count || performance.now() - started > TIME_LIMIT_MS) return
      const t0 = performance.now()
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body(i, run),
      })
      await res.arrayBuffer()
      latencies.push(performance.now() - t0)
      if (res.status !== 200) failures.set(res.status, (failures.get(res.status) ?? 0) + 1)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { done: latencies.length, seconds, latencies, failures }
}

/** An engine that authenticates and 'stores' without a database: the HTTP layer alone. */
function stubEngine(): { engine: Engine; database: Database & { drop(): Promise<void> } } {
  let n = 0
  const engine: Engine = {
    async authenticate(id, secret) {
      return id === 'default' && secret === SECRET ? { id, kind: 'single', projectId: null } : null
    },
    async ingest(_endpoint, form) {
      n += 1
      return {
        outcome: 'stored',
        eventId: String(n),
        event: 'incoming_message',
        telerivetId: typeof form.id === 'string' ? form.id : null,
        valid: true,
        reply: { messages: [{ content: "Hi! What's your name?" }] },
        handlerError: null,
        handlerMs: 0,
        durationMs: 0,
      }
    },
    invalidateEndpoint() {},
  }
  const database = {
    db: undefined as never,
    driver: 'pglite' as const,
    ping: async () => {},
    close: async () => {},
    drop: async () => {},
  }
  return { engine, database }
}

async function benchDriver(driver: BenchDriver) {
  const { engine, database } =
    driver === 'stub'
      ? stubEngine()
      : await (async () => {
          const database = await openTestDb(driver)
          await ensureSingleEndpoint(database, SECRET)
          const engine = createEngine({
            database,
            handlers: WITH_HANDLERS ? exampleHandlers : undefined,
            logger: silentLogger,
            ...(BATCH === undefined ? {} : { batch: BATCH }),
          })
          return { engine, database }
        })()
  const app = createWebhookApp({ engine, database, singleProject: true, logger: silentLogger })
  const server = startWebhookServer(app, { port: 0, hostname: '127.0.0.1', bodyLimit: 262144 })
  try {
    const url = new URL('/webhook', server.url)
    await drive(url, WARMUP, 'warm')
    const r = await drive(url, REQUESTS, 'run')
    return {
      driver,
      requests: r.done,
      'req/s': Math.round(r.done / r.seconds),
      'p50 ms': Number(percentile(r.latencies, 50).toFixed(1)),
      'p90 ms': Number(percentile(r.latencies, 90).toFixed(1)),
      'p99 ms': Number(percentile(r.latencies, 99).toFixed(1)),
      'max ms': Number(percentile(r.latencies, 100).toFixed(1)),
      'non-200': [...r.failures].map(([s, n]) => `${s}x${n}`).join(' ') || '0',
    }
  } finally {
    await server.stop()
    await database.drop()
  }
}

console.log(
  `ingest: ${REQUESTS} distinct incoming_message POSTs, ${CONCURRENCY} concurrent connections, ` +
    `handlers: ${WITH_HANDLERS ? 'example' : 'none'}, Bun ${Bun.version}`,
)
const results = []
for (const driver of DRIVERS) results.push(await benchDriver(driver))
console.table(results)
