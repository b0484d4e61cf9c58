/**
 * @module Forwarding benchmark on PostgreSQL: jobs per second drained by one and by two worker
 * processes, forwarding to a local receiver that answers at once, against two baselines measured
 * in the same run: one process posting the same signed bodies straight to the receiver at the
 * same concurrency (no queue), and the async-handler queue's worker draining as many no-op jobs
 * (a queue, no HTTP). Reported, never asserted.
 * Usage: bun bench/forward.ts [jobs=4000] [concurrency per worker=16]
 */
import { join } from 'node:path'
import { openDb, queryRows } from '@telehook/db'
import { TEST_DATABASE_URL } from '@telehook/db/testing'
import { sql } from 'drizzle-orm'
import {
  createDestination,
  enqueueForwards,
  forwardBody,
  generateSigningSecret,
  signatureHeaders,
} from '../src/forward'
import { createWorker } from '../src/queue'

const jobs = Number(process.argv[2] ?? 4000)
const concurrency = Number(process.argv[3] ?? 16)

let answered = 0
const receiver = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    await req.arrayBuffer()
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

  for (const workers of [1, 2]) {
    const procs = Array.from({ length: workers }, () =>
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
    // Wait until each worker listens, so the timing below is the draining only.
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
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.exited))
  }
} finally {
  await database.close()
  await admin.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
  await admin.close()
  receiver.stop(true)
}
