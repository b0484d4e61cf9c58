/**
 * Scale-out on one PostgreSQL: three receiver processes (`telehook serve --role webhook`) and two
 * worker processes (`--role worker`) share a fresh database. The suite's own HTTP server is the
 * user's service: it records every forwarded request and every async-handler run under its key
 * (the event id), so anything done twice shows as a count of two.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { type Database, openDb, queryRows } from '@telehook/db'
import { TEST_DATABASE_URL } from '@telehook/db/testing'
import { createDestination } from '@telehook/engine/forward'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'
import { sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'

const root = join(import.meta.dir, '..', '..')
const cli = join(root, 'apps', 'cli', 'src', 'main.ts')
const SECRET = 'scale-secret-0123456789abcdef'
const MASTER_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const DISTINCT = 150

// ---------------------------------------------------------------------------------------------
// The user's service.

interface Request {
  webhookId: string
  id: string
  answered: number
}
const forwarded = new Map<string, Request[]>()
const flaky = new Map<string, number>()
const jobRuns = new Map<string, number>()
/** Telerivet ids whose first forwarded request is held unanswered until released. */
const holdFirst = new Map<string, { release(): void; held: Promise<void> }>()
let signed: { headers: Record<string, string>; body: string } | null = null

const recorder = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const path = new URL(req.url).pathname
    if (path.startsWith('/job/')) {
      const key = path.slice(5)
      jobRuns.set(key, (jobRuns.get(key) ?? 0) + 1)
      return new Response('ok')
    }
    const body = await req.text()
    const webhookId = req.headers.get('webhook-id') ?? ''
    const { id } = JSON.parse(body) as { id: string }
    const list = forwarded.get(`${path}:${webhookId}`) ?? []
    const entry: Request = { webhookId, id, answered: 0 }
    list.push(entry)
    forwarded.set(`${path}:${webhookId}`, list)
    signed ??= { headers: Object.fromEntries(req.headers.entries()), body }
    const hold = holdFirst.get(id)
    if (hold && list.length === 1) {
      await hold.held
      return new Response('too late')
    }
    if (path === '/flaky') {
      const n = (flaky.get(webhookId) ?? 0) + 1
      flaky.set(webhookId, n)
      if (n <= 5) return new Response('down', { status: 503 })
    }
    entry.answered = 200
    return new Response('ok')
  },
})
const recorderUrl = `http://127.0.0.1:${recorder.port}`

// ---------------------------------------------------------------------------------------------
// Processes.

interface Proc {
  name: string
  proc: ReturnType<typeof Bun.spawn>
  url: string | null
  stderr(): string
}
const procs = new Set<Proc>()
let databaseUrl = ''

function spawnServe(name: string, role: string, port: number | null, extra: string[] = []) {
  const args = [
    'bun',
    cli,
    'serve',
    '--role',
    role,
    '--handlers',
    join(import.meta.dir, 'handlers.ts'),
  ]
  if (port !== null) args.push('--port', String(port), '--host', '127.0.0.1')
  const proc = Bun.spawn([...args, ...extra], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TELEHOOK_SECRET: SECRET,
      TELEHOOK_MASTER_KEY: MASTER_KEY,
      SCALE_RECORDER_URL: recorderUrl,
      TELEHOOK_FORWARD_TIMEOUT_MS: '2000',
      TELEHOOK_FORWARD_LEASE_MS: '3000',
      TELEHOOK_FORWARD_RETRY_BASE_MS: '100',
    },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  let err = ''
  void (async () => {
    const decoder = new TextDecoder()
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      err += decoder.decode(value, { stream: true })
    }
  })()
  const p: Proc = {
    name,
    proc,
    url: port === null ? null : `http://127.0.0.1:${port}`,
    stderr: () => err,
  }
  procs.add(p)
  return p
}

async function startReceiver(name: string): Promise<Proc> {
  const [port] = await freePorts(1)
  const p = spawnServe(name, 'webhook', port as number)
  await waitUntilHealthy(p.url as string, {
    timeoutMs: 60_000,
    exitCode: () => p.proc.exitCode,
    context: p.stderr,
  })
  return p
}

async function startWorker(name: string): Promise<Proc> {
  const p = spawnServe(name, 'worker', null)
  await until(
    () => p.stderr().includes('Worker running'),
    `${name} ready`,
    () => {
      if (p.proc.exitCode !== null) throw new Error(`${name} exited: ${p.stderr()}`)
    },
  )
  return p
}

async function stopGracefully(p: Proc): Promise<number> {
  p.proc.kill('SIGTERM')
  const code = await p.proc.exited
  procs.delete(p)
  return code
}

async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  check: () => void = () => {},
  timeoutMs = 60_000,
): Promise<void> {
  const started = performance.now()
  for (;;) {
    check()
    if (await cond()) return
    if (performance.now() - started > timeoutMs) throw new Error(`gave up waiting: ${what}`)
    await Bun.sleep(50)
  }
}

// ---------------------------------------------------------------------------------------------

function incomingMessage(id: string): string {
  return new URLSearchParams({
    event: 'incoming_message',
    id,
    message_type: 'sms',
    direction: 'incoming',
    status: 'received',
    content: `hello ${id}`,
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: '1760000000',
    contact_id: `CT${id}`,
    phone_id: 'PN1',
    project_id: 'PJscale',
    secret: SECRET,
  }).toString()
}

function sendStatus(id: string): string {
  return new URLSearchParams({
    event: 'send_status',
    id,
    status: 'delivered',
    message_type: 'sms',
    from_number: '+16505550100',
    to_number: '+16505550123',
    content: 'hi',
    time_created: '1760000000',
    project_id: 'PJscale',
    secret: SECRET,
  }).toString()
}

async function post(receiver: Proc, body: string): Promise<number> {
  const res = await fetch(`${receiver.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  await res.body?.cancel()
  return res.status
}

describe('three receivers and two workers on one PostgreSQL', () => {
  let database: Database
  let admin: Database
  let dbName = ''
  let receivers: Proc[] = []
  let workers: Proc[] = []
  let mainSecret = ''

  beforeAll(async () => {
    dbName = `telehook_scale_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
    admin = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false, maxConnections: 1 })
    await admin.db.execute(sql.raw(`create database ${dbName}`))
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${dbName}`
    databaseUrl = url.toString()
    database = await openDb({ databaseUrl, maxConnections: 4 })
    receivers = await Promise.all(['r1', 'r2', 'r3'].map(startReceiver))
    workers = await Promise.all(['w1', 'w2'].map(startWorker))
    const masterKey = await crypto.subtle.importKey(
      'raw',
      Uint8Array.from(atob(MASTER_KEY), (c) => c.charCodeAt(0)),
      'AES-GCM',
      false,
      ['encrypt', 'decrypt'],
    )
    const main = await createDestination(database, masterKey, {
      endpointId: 'default',
      url: `${recorderUrl}/main`,
    })
    mainSecret = main.secret
    await createDestination(database, masterKey, {
      endpointId: 'default',
      url: `${recorderUrl}/flaky`,
      eventTypes: ['send_status'],
    })
  }, 180_000)

  afterAll(async () => {
    for (const h of holdFirst.values()) h.release()
    for (const p of procs) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL')
      await p.proc.exited
    }
    await database?.close()
    if (admin) {
      await admin.db.execute(sql.raw(`drop database if exists ${dbName} with (force)`))
      await admin.close()
    }
    recorder.stop(true)
  })

  const count = async (query: ReturnType<typeof sql>) =>
    (await queryRows<{ n: number }>(database.db, query))[0]?.n ?? -1

  test('distinct and duplicate deliveries over three receivers: every event stored once', async () => {
    const sends: { receiver: Proc; body: string }[] = []
    for (let i = 0; i < DISTINCT; i++) {
      const body = incomingMessage(`SCALE${i}`)
      // One to three copies each, on different receivers, as Telerivet's retries may land.
      for (let copy = 0; copy <= i % 3; copy++) {
        sends.push({ receiver: receivers[(i + copy) % 3] as Proc, body })
      }
    }
    let next = 0
    const statuses: number[] = []
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < sends.length) {
          const s = sends[next++] as { receiver: Proc; body: string }
          statuses.push(await post(s.receiver, s.body))
        }
      }),
    )
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    expect(
      await count(
        sql`select count(*)::int as n from telehook.events where endpoint_id = 'default'`,
      ),
    ).toBe(DISTINCT)
    expect(
      await count(
        sql`select sum(delivery_count)::int as n from telehook.events where endpoint_id = 'default'`,
      ),
    ).toBe(sends.length)
  }, 120_000)

  test('every forwarding job and async-handler job ran to success exactly once', async () => {
    const ids = (
      await queryRows<{ id: string }>(
        database.db,
        sql`select id::text as id from telehook.events where endpoint_id = 'default'`,
      )
    ).map((r) => r.id)
    await until(
      async () =>
        (await count(
          sql`select count(*)::int as n from telehook.forward_jobs where status <> 'done'`,
        )) === 0 &&
        (await count(sql`select count(*)::int as n from telehook.jobs where status <> 'done'`)) ===
          0,
      'queues drained',
    )
    expect(await count(sql`select count(*)::int as n from telehook.forward_jobs`)).toBe(DISTINCT)
    expect(await count(sql`select count(*)::int as n from telehook.jobs`)).toBe(DISTINCT)
    for (const id of ids) {
      expect({ id, forwards: forwarded.get(`/main:${id}`)?.length }).toEqual({ id, forwards: 1 })
      expect({ id, runs: jobRuns.get(id) }).toEqual({ id, runs: 1 })
    }
    expect(forwarded.size).toBe(DISTINCT)
    expect(jobRuns.size).toBe(DISTINCT)
    // What arrived is what standardwebhooks' verifier accepts.
    const got = signed as { headers: Record<string, string>; body: string }
    expect(new Webhook(mainSecret).verify(got.body, got.headers)).toMatchObject({
      event: 'incoming_message',
      endpoint_id: 'default',
    })
  }, 120_000)

  test("a worker SIGKILLed mid-request: the job's lease expires and another worker completes it", async () => {
    // One worker left, so the held request is surely its own.
    expect(await stopGracefully(workers[1] as Proc)).toBe(0)
    let release = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    holdFirst.set('SCALE-KILL', { release, held })
    expect(await post(receivers[0] as Proc, incomingMessage('SCALE-KILL'))).toBe(200)
    const [row] = await queryRows<{ id: string }>(
      database.db,
      sql`select id::text as id from telehook.events where telerivet_id = 'SCALE-KILL'`,
    )
    const eventId = (row as { id: string }).id
    const key = `/main:${eventId}`
    await until(() => (forwarded.get(key)?.length ?? 0) === 1, 'the held request')
    // The async-handler job of this event is over before the kill: only the forward is in flight.
    await until(
      async () =>
        (await count(
          sql`select count(*)::int as n from telehook.jobs where event_id = ${eventId}::uuid and status = 'done'`,
        )) === 1,
      'async job done',
    )
    ;(workers[0] as Proc).proc.kill('SIGKILL')
    await (workers[0] as Proc).proc.exited
    procs.delete(workers[0] as Proc)
    workers = [await startWorker('w3'), await startWorker('w4')]
    await until(
      async () =>
        (await count(
          sql`select count(*)::int as n from telehook.forward_jobs
              where event_id = ${eventId}::uuid and status = 'done'`,
        )) === 1,
      'the job completed by another worker',
    )
    release()
    const requests = forwarded.get(key) ?? []
    expect(requests.map((r) => r.answered)).toEqual([0, 200])
    expect(new Set(requests.map((r) => r.webhookId))).toEqual(new Set([eventId]))
    const [job] = await queryRows<{ attempts: number }>(
      database.db,
      sql`select attempts from telehook.forward_jobs where event_id = ${eventId}::uuid`,
    )
    expect(job?.attempts).toBe(2)
    expect(jobRuns.get(eventId)).toBe(1)
  }, 120_000)

  test('a destination failing five times then recovering gets the event, same webhook-id', async () => {
    expect(await post(receivers[2] as Proc, sendStatus('SCALE-FLAKY'))).toBe(200)
    const [row] = await queryRows<{ id: string }>(
      database.db,
      sql`select id::text as id from telehook.events where telerivet_id = 'SCALE-FLAKY'`,
    )
    const eventId = (row as { id: string }).id
    await until(
      () => (forwarded.get(`/flaky:${eventId}`) ?? []).some((r) => r.answered === 200),
      'the flaky destination recovered',
    )
    const requests = forwarded.get(`/flaky:${eventId}`) ?? []
    expect(requests.map((r) => r.answered)).toEqual([0, 0, 0, 0, 0, 200])
    expect(new Set(requests.map((r) => r.webhookId))).toEqual(new Set([eventId]))
    const attemptsOf = () =>
      queryRows<{ status: number; outcome: string }>(
        database.db,
        sql`select a.status, a.outcome from telehook.forward_attempts a
            join telehook.destinations d on d.id = a.destination_id
            where a.event_id = ${eventId}::uuid and d.url like '%/flaky' order by a.id`,
      )
    // The destination has answered 200; the worker records that attempt right after.
    await until(
      async () => (await attemptsOf()).some((a) => a.outcome === 'done'),
      'the last attempt recorded',
    )
    const attempts = await attemptsOf()
    expect(attempts.map((a) => `${a.status} ${a.outcome}`)).toEqual([
      '503 retry',
      '503 retry',
      '503 retry',
      '503 retry',
      '503 retry',
      '200 done',
    ])
  }, 120_000)

  test('every process stops cleanly on SIGTERM', async () => {
    for (const p of [...receivers, ...workers]) {
      expect({ name: p.name, code: await stopGracefully(p) }).toEqual({ name: p.name, code: 0 })
    }
  }, 60_000)
})
