/**
 * @module Forwarding benchmark on PostgreSQL: jobs per second drained by one and by two worker
 * processes, forwarding to a local receiver that answers at once, against two baselines measured
 * in the same run: one process posting the same signed bodies straight to the receiver at the
 * same concurrency (no queue), and the async-handler queue's worker draining as many no-op jobs
 * (a queue, no HTTP). Then the delay from the engine's answer (Telerivet's 200) to the destination
 * receiving the event, p50 and p99, with two workers at a half and at a quarter of the engine's
 * ingest capacity measured in the same run. Reported, never asserted.
 * Usage: bun bench/forward.ts [jobs=4000] [concurrency per worker=16]
 */
import { join } from 'node:path'
import { openDb, queryRows } from '@telehook/db'
import { TEST_DATABASE_URL } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'
import { createEndpoint } from '../src/endpoints'
import { incomingMessage, SECRET } from '../src/fixtures'
import {
  createDestination,
  enqueueForwards,
  forwardBody,
  generateSigningSecret,
  signatureHeaders,
} from '../src/forward'
import { createEngine } from '../src/ingest'
import { createWorker } from '../src/queue'

const jobs = Number(process.argv[2] ?? 4000)
const concurrency = Number(process.argv[3] ?? 16)

let answered = 0
/** When each Telerivet id arrived (performance.now() of this process). */
const arrivals = new Map<string, number>()
const receiver = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const { id } = (await req.json()) as { id: string }
    arrivals.set(id, performance.now())
    answered++
    return new Response('ok')
  },
})
const url = `http://127.0.0.1:${receiver.port}/hook`

const name = `telehook_bench_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false, maxConnections: 1 })
await admin.db.execute(sql.raw(`create database ${name}`))
const dbUrl = new URL(TEST_DATABASE_URL)
dbUrl.pathname = `/${name}`
const database = await openDb({ databaseUrl: dbUrl.toString() })

try {
  const rawKey = crypto.getRandomValues(new Uint8Array(32))
  const masterKey = await crypto.subtle.importKey('raw', rawKey, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ])
  await database.db.execute(sql`insert into telehook.projects (id, name) values ('PJB', 'bench')`)
  await createDestination(database, masterKey, { projectId: 'PJB', url, maxInFlight: 64 })

  /** Stores `n` events like an incoming message (straight into the table) and returns their ids. */
  async function seed(round: string, n: number) {
    return queryRows<{ id: string }>(
      database.db,
      sql`insert into telehook.events (endpoint_id, project_id, event, dedupe_key, payload, valid)
          select 'bench', 'PJB', 'incoming_message', ${round} || g, jsonb_build_object(
            'event', 'incoming_message', 'id', 'SM' || g, 'content', 'hello', 'time_created',
            1760000000, 'from_number', '+16505550123', 'project_id', 'PJB'), true
          from generate_series(1, ${n}) g
          returning id::text as id`,
    )
  }

  // Baseline: the same signing and posting with no queue, one process, the same concurrency.
  const secret = generateSigningSecret()
  const direct = await seed('direct', jobs)
  let next = 0
  answered = 0
  let t = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < direct.length) {
        const id = (direct[next++] as { id: string }).id
        const body = forwardBody({
          id,
          endpointId: 'bench',
          projectId: 'PJB',
          payload: { event: 'incoming_message', id },
          receivedAt: new Date(),
        })
        await fetch(url, {
          method: 'POST',
          body,
          headers: signatureHeaders({ id, body, secrets: [secret] }),
        })
      }
    }),
  )
  const baseline = jobs / ((performance.now() - t) / 1000)
  console.log(`direct posting (baseline): ${baseline.toFixed(0)} requests/s`)

  const queued = await seed('queue', jobs)
  await database.db.execute(
    sql`insert into telehook.jobs (event_id, handler)
        select id::uuid, 'incoming_message' from jsonb_array_elements_text(${JSON.stringify(queued.map((q) => q.id))}::jsonb) id`,
  )
  const worker = createWorker({
    database,
    concurrency,
    handlers: { async: { incoming_message: async () => {} } },
  })
  t = performance.now()
  while ((await worker.runOnce()) > 0) {}
  const queueRate = jobs / ((performance.now() - t) / 1000)
  console.log(`async-handler queue, no-op jobs (baseline): ${queueRate.toFixed(0)} jobs/s`)

  async function startWorkers(n: number) {
    const procs = Array.from({ length: n }, () =>
      Bun.spawn(['bun', join(import.meta.dir, 'forward-worker.ts')], {
        env: {
          ...process.env,
          DATABASE_URL: dbUrl.toString(),
          TELEHOOK_MASTER_KEY: btoa(String.fromCharCode(...rawKey)),
          CONCURRENCY: String(concurrency),
        },
        stdout: 'pipe',
        stderr: 'inherit',
      }),
    )
    // Wait until each worker listens, so what is timed is the work only.
    await Promise.all(
      procs.map(async (p) => {
        const reader = p.stdout.getReader()
        let text = ''
        while (!text.includes('ready')) {
          const { value, done } = await reader.read()
          if (done) throw new Error('a worker exited before it was ready')
          text += new TextDecoder().decode(value)
        }
        reader.releaseLock()
      }),
    )
    return {
      async stop() {
        for (const p of procs) p.kill('SIGTERM')
        await Promise.all(procs.map((p) => p.exited))
      },
    }
  }

  for (const workers of [1, 2]) {
    const running = await startWorkers(workers)
    const events = await seed(`w${workers}-`, jobs)
    answered = 0
    t = performance.now()
    // One statement enqueues every job, as a big ingest batch would, and wakes the workers.
    await enqueueForwards(
      database.db,
      events.map((e) => ({
        id: e.id,
        endpointId: 'bench',
        projectId: 'PJB',
        event: 'incoming_message',
      })),
    )
    for (;;) {
      const [row] = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from telehook.forward_jobs where status <> 'done'`,
      )
      if (row?.n === 0) break
      await Bun.sleep(20)
    }
    const rate = jobs / ((performance.now() - t) / 1000)
    console.log(
      `${workers} worker process(es) × ${concurrency}: ${rate.toFixed(0)} jobs/s drained ` +
        `(${(rate / baseline).toFixed(2)}× direct posting, ${(rate / queueRate).toFixed(2)}× the ` +
        `async-handler queue; ${answered} requests for ${jobs} jobs)`,
    )
    await running.stop()
  }

  // End to end: from the engine's answer (the 200 Telerivet gets) to the destination receiving
  // the event, with two workers, at a steady load of half the ingest capacity measured here.
  const endpoint = await createEndpoint(database, {
    kind: 'project',
    projectId: 'PJB',
    secret: SECRET,
  })
  const engine = createEngine({ database })
  const form = (id: string) => incomingMessage(id, { project_id: 'PJB' })
  const capacityN = Math.min(jobs, 2000)
  let k = 0
  t = performance.now()
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (k < capacityN) await engine.ingest(endpoint, form(`CAP${k++}`))
    }),
  )
  const capacity = capacityN / ((performance.now() - t) / 1000)
  // The capacity run's own jobs are drained before the steady load starts.
  const running = await startWorkers(2)
  for (;;) {
    const [row] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from telehook.forward_jobs where status <> 'done'`,
    )
    if (row?.n === 0) break
    await Bun.sleep(20)
  }
  // Half the capacity measured here, and a quarter: the engine alone (no HTTP) ingests several
  // times what the webhook app does over HTTP, so half of it can exceed what the workers drain
  // on the same cores, and the delay then is the queue's.
  for (const share of [0.5, 0.25]) {
    const rate = capacity * share
    const steadyN = Math.max(200, Math.round(rate * 5))
    const answeredAt = new Map<string, number>()
    const started = performance.now()
    const sends: Promise<void>[] = []
    for (let i = 0; i < steadyN; i++) {
      const due = started + (i * 1000) / rate
      const wait = due - performance.now()
      if (wait > 1) await Bun.sleep(wait)
      const id = `E2E${share}-${i}`
      sends.push(
        engine.ingest(endpoint, form(id)).then(() => {
          answeredAt.set(id, performance.now())
        }),
      )
    }
    await Promise.all(sends)
    while ([...answeredAt.keys()].some((id) => !arrivals.has(id))) await Bun.sleep(20)
    const delays = [...answeredAt].map(([id, at]) => Math.max(0, (arrivals.get(id) ?? at) - at))
    delays.sort((a, b) => a - b)
    const pct = (p: number) =>
      delays[Math.min(delays.length - 1, Math.floor(delays.length * p))] ?? 0
    console.log(
      `end to end at ${rate.toFixed(0)} events/s (${share} of the ${capacity.toFixed(0)}/s engine ` +
        `ingest capacity measured here, ${steadyN} events, 2 workers): answer → destination p50 ` +
        `${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms`,
    )
  }
  await running.stop()
} finally {
  await database.close()
  await admin.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
  await admin.close()
  receiver.stop(true)
}
