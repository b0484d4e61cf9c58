import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { destinations, events, forwardAttempts, forwardJobs, projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { and, asc, eq, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { createEndpoint, type Endpoint } from '../endpoints'
import { incomingMessage, loseAnswer, SECRET, sendStatus } from '../fixtures'
import { createEngine, type Engine } from '../ingest'
import { createJsonLogger } from '../logger'
import { MIN_STOP_TIMEOUT_MS, stopBudget } from '../stop'
import {
  createDestination,
  createForwarder,
  deleteDestination,
  enqueueForwards,
  ForwardNotFoundError,
  InvalidDestinationError,
  listAttempts,
  listDestinations,
  resendEvent,
  retryDeadJobs,
  rotateDestinationSecret,
  updateDestination,
} from './index'

interface Received {
  key: string
  headers: Record<string, string>
  body: string
}

/** The user's service: `/<mode>/<arg>/<key>`; every request is kept under its key. */
const received: Received[] = []
const gates = new Map<string, { open: Promise<void>; release: () => void }>()
const counts = new Map<string, number>()
function gate(key: string) {
  let g = gates.get(key)
  if (!g) {
    let release = () => {}
    const open = new Promise<void>((r) => {
      release = r
    })
    g = { open, release }
    gates.set(key, g)
  }
  return g
}
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const [, mode, arg, key = ''] = new URL(req.url).pathname.split('/')
    received.push({
      key,
      headers: Object.fromEntries(req.headers.entries()),
      body: await req.text(),
    })
    const n = (counts.get(key) ?? 0) + 1
    counts.set(key, n)
    if (mode === 'status') {
      const headers: Record<string, string> = {}
      if (arg === '429') headers['retry-after'] = '3600'
      return new Response(`status ${arg}`, { status: Number(arg), headers })
    }
    if (mode === 'flaky' && n <= Number(arg)) return new Response('down', { status: 503 })
    if (mode === 'hang' && (arg === 'all' || n === 1)) await gate(key).open
    return new Response(`ok ${n}`)
  },
})
const base = `http://127.0.0.1:${server.port}`
/** The statement that records finished attempts and settles their jobs. */
const SETTLE = /insert into telehook\.forward_attempts/
const of = (key: string) => received.filter((r) => r.key === key)

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return
    await Bun.sleep(20)
  }
  throw new Error(`gave up waiting: ${what}`)
}

afterAll(() => {
  for (const g of gates.values()) g.release()
  server.stop(true)
})

for (const driver of TEST_DRIVERS) {
  describe(`forwarding on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let engine: Engine
    let masterKey: CryptoKey
    let n = 0

    beforeAll(async () => {
      database = await openTestDb(driver)
      engine = createEngine({ database, batch: false })
      masterKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ])
    })
    afterAll(() => database?.drop())

    /** A fresh project with its endpoint, so each test sees only its own destinations. */
    async function scope(): Promise<{ projectId: string; endpoint: Endpoint; key: string }> {
      n++
      const projectId = `PJ${driver}${n}`
      await database.db.insert(projects).values({ id: projectId, name: projectId })
      const endpoint = await createEndpoint(database, {
        kind: 'project',
        projectId,
        secret: SECRET,
      })
      return { projectId, endpoint, key: `${driver}-${n}` }
    }

    /** Stores a delivery; the ingest statement enqueues its forward jobs. */
    async function store(
      endpoint: Endpoint,
      delivery = incomingMessage(`SM${++n}`, { project_id: endpoint.projectId }),
    ) {
      const r = await engine.ingest(endpoint, delivery)
      const [row] = await database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(forwardJobs)
        .where(eq(forwardJobs.eventId, r.eventId))
      return { eventId: r.eventId, jobs: row?.n ?? -1, outcome: r.outcome }
    }

    /**
     * A fresh scope with one destination at `${base}/<route>/<key>` (the test server's behaviour
     * for that route: `ok/-` answers 200), and one delivery stored for it.
     */
    async function destinationWithDelivery(route: string) {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/${route}/${key}`,
      })
      await store(endpoint)
      return { destination, key }
    }

    const jobsOf = (destinationId: string) =>
      database.db
        .select()
        .from(forwardJobs)
        .where(eq(forwardJobs.destinationId, destinationId))
        .orderBy(asc(forwardJobs.id))
    const forwarder = (extra: Partial<Parameters<typeof createForwarder>[0]> = {}) =>
      createForwarder({ database, masterKey, backoffMs: () => 0, ...extra })

    async function drain(destinationId: string, maxRounds = 20) {
      const f = forwarder()
      for (let i = 0; i < maxRounds; i++) {
        const jobs = await jobsOf(destinationId)
        if (jobs.every((j) => j.status === 'done' || j.status === 'dead')) return
        await f.runOnce()
      }
    }

    test('an event gets one job per matching enabled destination, once', async () => {
      const { projectId, endpoint, key } = await scope()
      const other = await scope()
      const url = `${base}/ok/-/${key}`
      const all = await createDestination(database, masterKey, { projectId, url })
      const statusOnly = await createDestination(database, masterKey, {
        projectId,
        url,
        eventTypes: ['send_status'],
      })
      const byEndpoint = await createDestination(database, masterKey, {
        endpointId: endpoint.id,
        url,
      })
      await createDestination(database, masterKey, { projectId, url, enabled: false })
      await createDestination(database, masterKey, { projectId: other.projectId, url })

      const first = await store(endpoint)
      expect(first.jobs).toBe(2)
      // A redelivery from Telerivet is not forwarded again, nor is an event enqueued twice.
      const copy = await store(endpoint, incomingMessage(`SM${n}`, { project_id: projectId }))
      expect(copy).toEqual({ eventId: first.eventId, jobs: 2, outcome: 'duplicate' })
      const again = await enqueueForwards(database.db, [
        { id: first.eventId, endpointId: endpoint.id, projectId, event: 'incoming_message' },
      ])
      expect(again).toBe(0)
      expect(await jobsOf(all.destination.id)).toHaveLength(1)
      expect(await jobsOf(byEndpoint.destination.id)).toHaveLength(1)
      expect(await jobsOf(statusOnly.destination.id)).toHaveLength(0)

      const status = await store(
        endpoint,
        sendStatus(`SM${n}`, 'delivered', { project_id: projectId }),
      )
      expect(status.jobs).toBe(3)
      expect(await jobsOf(statusOnly.destination.id)).toHaveLength(1)
      expect(await listDestinations(database, { projectId })).toHaveLength(3)

      // Group commit: copies and distinct deliveries written together, one job per new event.
      const batched = createEngine({ database, batch: { maxSize: 16, maxInflight: 1 } })
      const forms = [0, 1, 2, 0, 1, 0].map((i) =>
        incomingMessage(`SMbatch${driver}${i}`, { project_id: projectId }),
      )
      const results = await Promise.all(forms.map((f) => batched.ingest(endpoint, f)))
      const ids = [...new Set(results.map((r) => r.eventId))]
      expect(ids).toHaveLength(3)
      const [jobCount] = await database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(forwardJobs)
        .where(sql`${forwardJobs.eventId} in ${ids}`)
      expect(jobCount?.n).toBe(6)
      // An event whose payload names another project than its endpoint's is not forwarded.
      const foreign = await store(endpoint, incomingMessage(`SM${++n}`, { project_id: 'PJother' }))
      expect(foreign.jobs).toBe(0)
      // Leave nothing due for the next tests.
      while ((await forwarder().runOnce()) > 0) {}
      expect(of(key)).toHaveLength(11)
    })

    test('delivered once, signed, as the typed event with ids and times', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination, secret } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/ok/-/${key}`,
      })
      const { eventId } = await store(endpoint)
      expect(await forwarder().runOnce()).toBe(1)
      expect(await forwarder().runOnce()).toBe(0)
      const [got] = of(key)
      expect(of(key)).toHaveLength(1)
      if (!got) throw new Error('nothing received')
      expect(got.headers['webhook-id']).toBe(eventId)
      const body = new Webhook(secret).verify(got.body, got.headers) as Record<string, unknown>
      const [stored] = await database.db.select().from(events).where(eq(events.id, eventId))
      expect(body).toMatchObject({
        event: 'incoming_message',
        content: 'hello',
        time_created: 1_760_000_000,
        contact: { message_count: 3, name: 'Ada' },
        project_id: projectId,
        endpoint_id: endpoint.id,
        event_id: eventId,
        received_at: (stored as { receivedAt: Date }).receivedAt.getTime() / 1000,
      })
      expect(body).not.toHaveProperty('secret')
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 1, lastStatus: 200, lastError: null })
      const attempts = await listAttempts(database, destination.id)
      expect(attempts).toHaveLength(1)
      expect(attempts[0]).toMatchObject({
        eventId,
        attempt: 1,
        status: 200,
        outcome: 'done',
        responseBody: 'ok 1',
        error: null,
      })
      expect(attempts[0]?.latencyMs).toBeGreaterThanOrEqual(0)
    })

    test('a destination failing five times then recovering gets the event, same webhook-id', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/flaky/5/${key}`,
      })
      const { eventId } = await store(endpoint)
      await drain(destination.id)
      expect(of(key)).toHaveLength(6)
      expect(new Set(of(key).map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]))
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 6 })
      const attempts = (await listAttempts(database, destination.id)).reverse()
      expect(attempts.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
        [1, 503, 'retry'],
        [2, 503, 'retry'],
        [3, 503, 'retry'],
        [4, 503, 'retry'],
        [5, 503, 'retry'],
        [6, 200, 'done'],
      ])
    })

    test('Retry-After postpones the next attempt past the backoff', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/status/429/${key}`,
      })
      await store(endpoint)
      await forwarder().runOnce()
      const [job] = await jobsOf(destination.id)
      const [attempt] = await listAttempts(database, destination.id)
      expect(job?.status).toBe('queued')
      expect(job?.runAt.getTime()).toBeGreaterThanOrEqual(
        (attempt as { startedAt: Date }).startedAt.getTime() + 3_600_000,
      )
      await forwarder().runOnce()
      expect(of(key)).toHaveLength(1)
    })

    test('410 Gone disables the destination; its other jobs wait; enabling resumes them', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/status/410/${key}`,
        maxInFlight: 1,
      })
      await store(endpoint)
      await store(endpoint)
      await forwarder().runOnce()
      await forwarder().runOnce()
      expect(of(key)).toHaveLength(1)
      const [dead, waiting] = await jobsOf(destination.id)
      expect(dead?.status).toBe('dead')
      expect(waiting?.status).toBe('queued')
      const [row] = await listDestinations(database, { projectId })
      expect(row?.enabled).toBe(false)
      expect(row?.disabledReason).toContain('410')
      // A later event is not enqueued for a disabled destination.
      expect((await store(endpoint)).jobs).toBe(0)
      const enabled = await updateDestination(database, destination.id, {
        enabled: true,
        url: `${base}/ok/-/${key}`,
      })
      expect(enabled.disabledReason).toBeNull()
      await drain(destination.id)
      expect((await jobsOf(destination.id)).map((j) => j.status)).toEqual(['dead', 'done'])
    })

    test('another 4xx is dead at once; dead jobs can be retried in bulk', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/status/400/${key}`,
      })
      await store(endpoint)
      await store(endpoint)
      await forwarder().runOnce()
      expect((await jobsOf(destination.id)).map((j) => j.status)).toEqual(['dead', 'dead'])
      expect(of(key)).toHaveLength(2)
      await updateDestination(database, destination.id, { url: `${base}/ok/-/${key}` })
      expect(await retryDeadJobs(database, destination.id)).toBe(2)
      await drain(destination.id)
      expect((await jobsOf(destination.id)).map((j) => [j.status, j.attempts])).toEqual([
        ['done', 1],
        ['done', 1],
      ])
      expect(await retryDeadJobs(database, destination.id)).toBe(0)
    })

    test('a failure past the retry window is dead', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/status/500/${key}`,
      })
      await store(endpoint)
      await forwarder({ maxAgeMs: 0 }).runOnce()
      const [job] = await jobsOf(destination.id)
      expect(job?.status).toBe('dead')
      expect(job?.lastError).toContain('older than')
      const [attempt] = await listAttempts(database, destination.id)
      expect(attempt?.outcome).toBe('dead')
    })

    test('a job whose worker died is claimed again once its lease expired', async () => {
      const { destination } = await destinationWithDelivery('ok/-')
      await database.db
        .update(forwardJobs)
        .set({ status: 'running', attempts: 1, lockedUntil: new Date(Date.now() + 60_000) })
        .where(eq(forwardJobs.destinationId, destination.id))
      expect(await forwarder().runOnce()).toBe(0)
      await database.db
        .update(forwardJobs)
        .set({ lockedUntil: new Date(Date.now() - 1000) })
        .where(eq(forwardJobs.destinationId, destination.id))
      expect(await forwarder().runOnce()).toBe(1)
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 2 })
    })

    test('a worker that lost its lease cannot settle the job another worker finished', async () => {
      const { destination, key } = await destinationWithDelivery('hang/once')
      const slow = forwarder({ leaseMs: 100 }).runOnce()
      await until(() => of(key).length === 1, 'first request')
      await until(async () => {
        const [j] = await jobsOf(destination.id)
        return j !== undefined && (j.lockedUntil as Date).getTime() < Date.now() - 50
      }, 'lease expiry')
      expect(await forwarder().runOnce()).toBe(1)
      gate(key).release()
      await slow
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 2, lastStatus: 200 })
      // Both attempts are on record; the late one did not change the job.
      expect((await listAttempts(database, destination.id)).map((a) => a.attempt)).toEqual([1, 2])
    })

    test('a claim whose answer was lost is given back at once, not left to its lease', async () => {
      const { projectId, endpoint, key } = await scope()
      // One request at a time: the lost claim would hold the destination's only slot too.
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/ok/-/${key}`,
        maxInFlight: 1,
      })
      await store(endpoint)
      await store(endpoint)
      const cut = loseAnswer(database.db, /set status = 'running'/)
      const f = forwarder({ database: { ...database, db: cut.db }, leaseMs: 60_000, pollMs: 50 })
      const startedAt = Date.now()
      f.start()
      try {
        // A 60 s lease: only the worker's own release can get both delivered within seconds.
        for (;;) {
          const jobs = await jobsOf(destination.id)
          if (jobs.every((j) => j.status === 'done')) break
          if (Date.now() - startedAt > 10_000) throw new Error(`not delivered: ${jobs[0]?.status}`)
          await Bun.sleep(20)
        }
      } finally {
        await f.stop()
      }
      expect(cut.lost()).toBe(1)
      expect(of(key)).toHaveLength(2)
      const jobs = await jobsOf(destination.id)
      expect(jobs.map((j) => [j.status, j.attempts])).toEqual([
        ['done', 1],
        ['done', 1],
      ])
      expect((await listAttempts(database, destination.id)).map((a) => a.attempt)).toEqual([1, 1])
    })

    test('giving back a lost claim leaves a job another worker claimed since', async () => {
      const { destination, key } = await destinationWithDelivery('hang/once')
      let other: Promise<number> = Promise.resolve(0)
      const cut = loseAnswer(database.db, /set status = 'running'/, {
        // Before the lost answer's error reaches the worker, its lease runs out and another
        // worker claims the job; its request is in flight.
        async onLost() {
          await database.db
            .update(forwardJobs)
            .set({ lockedUntil: new Date(Date.now() - 1000) })
            .where(eq(forwardJobs.destinationId, destination.id))
          other = forwarder().runOnce()
          await until(() => of(key).length === 1, "the other worker's request")
        },
      })
      const f = forwarder({ database: { ...database, db: cut.db }, leaseMs: 60_000 })
      try {
        await expect(f.runOnce()).rejects.toThrow('Connection terminated')
        const [job] = await jobsOf(destination.id)
        expect(job).toMatchObject({ status: 'running', attempts: 2 })
        expect(job?.lockedUntil?.getTime()).toBeGreaterThan(Date.now() + 30_000)
      } finally {
        gate(key).release()
      }
      expect(await other).toBe(1)
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 2, lastStatus: 200 })
      expect(of(key)).toHaveLength(1)
      expect((await listAttempts(database, destination.id)).map((a) => a.attempt)).toEqual([2])
    })

    test('an outcome the database could not take is written again, not left to its lease', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/ok/-/${key}`,
      })
      const { eventId } = await store(endpoint)
      // The database refuses the worker's first two writes of the outcome (an outage).
      const outage = loseAnswer(database.db, null, { refuse: { match: SETTLE, times: 2 } })
      const lines: string[] = []
      const f = forwarder({
        database: { ...database, db: outage.db },
        leaseMs: 60_000,
        releaseRetryMs: 20,
        logger: createJsonLogger((l) => lines.push(l)),
      })
      const startedAt = Date.now()
      try {
        expect(await f.runOnce()).toBe(1)
        // A 60 s lease: only the worker's own retries settle it within seconds.
        await until(
          async () => (await jobsOf(destination.id))[0]?.status === 'done',
          'the outcome written by the retries',
        )
        expect(Date.now() - startedAt).toBeLessThan(10_000)
      } finally {
        await f.stop()
      }
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 1, lastStatus: 200, lastError: null })
      expect(of(key)).toHaveLength(1)
      expect(of(key)[0]?.headers['webhook-id']).toBe(eventId)
      const attempts = await listAttempts(database, destination.id)
      expect(attempts.map((a) => [a.attempt, a.status, a.outcome])).toEqual([[1, 200, 'done']])
      expect(lines.some((l) => l.includes('recorded forward attempt after retrying'))).toBe(true)
    })

    test('an outcome written again after a lost answer is recorded once', async () => {
      const { destination, key } = await destinationWithDelivery('ok/-')
      // The first write commits but its answer is lost; the next one is refused; the third runs.
      const cut = loseAnswer(database.db, SETTLE, { refuse: { match: SETTLE, times: 1 } })
      const lines: string[] = []
      const f = forwarder({
        database: { ...database, db: cut.db },
        leaseMs: 60_000,
        releaseRetryMs: 20,
        logger: createJsonLogger((l) => lines.push(l)),
      })
      try {
        expect(await f.runOnce()).toBe(1)
        await until(
          () => lines.some((l) => l.includes('recorded forward attempt after retrying')),
          'the outcome written again',
        )
      } finally {
        await f.stop()
      }
      expect(cut.lost()).toBe(1)
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 1, lastStatus: 200 })
      expect(of(key)).toHaveLength(1)
      expect((await listAttempts(database, destination.id)).map((a) => a.attempt)).toEqual([1])
    })

    test('stop() writes at once an outcome still waiting to be written again', async () => {
      const { destination, key } = await destinationWithDelivery('ok/-')
      // The outcome is refused once; its next try would be a minute later, after a 5-minute lease.
      const outage = loseAnswer(database.db, null, { refuse: { match: SETTLE, times: 1 } })
      const lines: string[] = []
      const f = forwarder({
        database: { ...database, db: outage.db },
        releaseRetryMs: 60_000,
        logger: createJsonLogger((l) => lines.push(l)),
      })
      expect(await f.runOnce()).toBe(1)
      expect((await jobsOf(destination.id))[0]?.status).toBe('running')
      const stopping = Date.now()
      await f.stop()
      expect(Date.now() - stopping).toBeLessThan(5000)
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'done', attempts: 1, lastStatus: 200 })
      expect(of(key)).toHaveLength(1)
      expect((await listAttempts(database, destination.id)).map((a) => a.attempt)).toEqual([1])
      expect(lines.some((l) => l.includes('recorded forward attempt after retrying'))).toBe(true)
    })

    test('a database that stays down: stop() gives up at stopSettleMs, naming the job', async () => {
      const { destination, key } = await destinationWithDelivery('ok/-')
      const outage = loseAnswer(database.db, null, { refuse: { match: SETTLE, times: 1e9 } })
      const lines: Record<string, unknown>[] = []
      const f = forwarder({
        database: { ...database, db: outage.db },
        releaseRetryMs: 20,
        stopSettleMs: 300,
        logger: createJsonLogger((l) => lines.push(JSON.parse(l))),
      })
      expect(await f.runOnce()).toBe(1)
      const stopping = Date.now()
      await f.stop()
      // It kept trying until its deadline, and no longer.
      const took = Date.now() - stopping
      expect(took).toBeGreaterThanOrEqual(300)
      expect(took).toBeLessThan(5000)
      // No write after stop(): the job waits for its lease, then another worker sends it again.
      await Bun.sleep(100)
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'running', attempts: 1 })
      expect(of(key)).toHaveLength(1)
      expect(await listAttempts(database, destination.id)).toHaveLength(0)
      const left = lines.find((l) => String(l.msg).startsWith('stopped'))
      expect(left).toMatchObject({ level: 'warn', jobs: [job?.id] })
    })

    test('one slow destination holds at most its max_in_flight; the others keep flowing', async () => {
      const { projectId, endpoint, key } = await scope()
      const slow = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/hang/all/${key}-slow`,
        maxInFlight: 1,
      })
      const fast = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/ok/-/${key}-fast`,
      })
      for (let i = 0; i < 3; i++) await store(endpoint)
      const f = forwarder({ concurrency: 4, pollMs: 50 })
      f.start()
      try {
        await until(() => of(`${key}-fast`).length === 3, 'fast destination served')
        await until(
          async () => (await jobsOf(fast.destination.id)).every((j) => j.status === 'done'),
          'fast jobs settled',
        )
        expect(of(`${key}-slow`)).toHaveLength(1)
        const slowJobs = await jobsOf(slow.destination.id)
        expect(slowJobs.filter((j) => j.status === 'running')).toHaveLength(1)
        gate(`${key}-slow`).release()
        await until(
          async () => (await jobsOf(slow.destination.id)).every((j) => j.status === 'done'),
          'slow jobs done',
        )
        expect(of(`${key}-slow`)).toHaveLength(3)
      } finally {
        await f.stop()
      }
    })

    test('stop() requeues a request that outlasts the grace, without counting it', async () => {
      const { destination, key } = await destinationWithDelivery('hang/once')
      const f = forwarder({ stopGraceMs: 50, pollMs: 50 })
      f.start()
      await until(() => of(key).length === 1, 'request in flight')
      await f.stop()
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'queued', attempts: 0, lockedUntil: null })
      expect(await listAttempts(database, destination.id)).toHaveLength(0)
      gate(key).release()
      await drain(destination.id)
      expect((await jobsOf(destination.id))[0]?.status).toBe('done')
    })

    test('stop() requeues a request that outlasts the grace even if the database refuses it at first', async () => {
      const { destination, key } = await destinationWithDelivery('hang/once')
      const outage = loseAnswer(database.db, null, {
        refuse: { match: /attempts = attempts - 1/, times: 2 },
      })
      const lines: string[] = []
      const f = forwarder({
        database: { ...database, db: outage.db },
        stopGraceMs: 50,
        pollMs: 50,
        releaseRetryMs: 50,
        // Only the worker's own writes can give the job back within the test.
        leaseMs: 60_000,
        logger: createJsonLogger((l) => lines.push(l)),
      })
      f.start()
      await until(() => of(key).length === 1, 'request in flight')
      await f.stop()
      const [job] = await jobsOf(destination.id)
      expect(job).toMatchObject({ status: 'queued', attempts: 0, lockedUntil: null })
      expect(lines.some((l) => l.includes('recorded forward job requeue after retrying'))).toBe(
        true,
      )
      gate(key).release()
      await drain(destination.id)
      expect((await jobsOf(destination.id))[0]?.status).toBe('done')
    })

    test('a request that never ends over a database that stays down: stop() fits its budget', async () => {
      const { destination, key } = await destinationWithDelivery('hang/once')
      const outage = loseAnswer(database.db, null, {
        refuse: { match: /attempts = attempts - 1/, times: 1e9 },
      })
      // A short budget standing for the default one (stopBudget(), 8 s): the same split.
      const budget = stopBudget(MIN_STOP_TIMEOUT_MS)
      const f = forwarder({
        database: { ...database, db: outage.db },
        stopGraceMs: budget.stopGraceMs,
        stopSettleMs: budget.stopSettleMs,
        pollMs: 50,
        releaseRetryMs: 50,
        leaseMs: 60_000,
      })
      f.start()
      await until(() => of(key).length === 1, 'request in flight')
      const stopping = performance.now()
      await f.stop()
      const took = performance.now() - stopping
      expect(took).toBeGreaterThanOrEqual(budget.stopGraceMs + budget.stopSettleMs - 20)
      // Within the budget, leaving it the part for closing the database (1 s of STOP_FINAL_MS).
      expect(took).toBeLessThan(budget.totalMs - 1000)
      // Left to its lease; out of the way of the next tests.
      gate(key).release()
      await database.db
        .update(forwardJobs)
        .set({ status: 'dead' })
        .where(eq(forwardJobs.destinationId, destination.id))
    })

    test('start() delivers what is enqueued while it runs (LISTEN or polling)', async () => {
      const { projectId, endpoint, key } = await scope()
      await createDestination(database, masterKey, { projectId, url: `${base}/ok/-/${key}` })
      const f = forwarder()
      f.start()
      try {
        await f.whenListening()
        const { eventId } = await store(endpoint)
        await until(() => of(key).length === 1, 'delivery')
        expect(of(key)[0]?.headers['webhook-id']).toBe(eventId)
      } finally {
        await f.stop()
      }
    })

    test('after a rotation both secrets verify during the grace, only the new one after', async () => {
      const { projectId, endpoint, key } = await scope()
      const created = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/ok/-/${key}`,
      })
      const id = created.destination.id
      const rotated = await rotateDestinationSecret(database, masterKey, id, 3_600_000)
      expect(rotated.secret).not.toBe(created.secret)
      await store(endpoint)
      await drain(id)
      const [during] = of(key)
      if (!during) throw new Error('nothing received')
      expect(new Webhook(created.secret).verify(during.body, during.headers)).toBeTruthy()
      expect(new Webhook(rotated.secret).verify(during.body, during.headers)).toBeTruthy()

      const last = await rotateDestinationSecret(database, masterKey, id, 0)
      await store(endpoint)
      await drain(id)
      const after = of(key)[1]
      if (!after) throw new Error('nothing received')
      expect(after.headers['webhook-signature']?.split(' ')).toHaveLength(1)
      expect(new Webhook(last.secret).verify(after.body, after.headers)).toBeTruthy()
      expect(() => new Webhook(rotated.secret).verify(after.body, after.headers)).toThrow()
    })

    test('an event can be re-sent to one destination, with the same webhook-id', async () => {
      const { projectId, endpoint, key } = await scope()
      const { destination } = await createDestination(database, masterKey, {
        projectId,
        url: `${base}/ok/-/${key}`,
        eventTypes: ['send_status'],
      })
      const { eventId, jobs } = await store(endpoint)
      expect(jobs).toBe(0)
      // Re-sending works for an event the destination's filter never matched, and again after.
      expect(await resendEvent(database, destination.id, eventId)).toBe('queued')
      await drain(destination.id)
      expect(await resendEvent(database, destination.id, eventId)).toBe('queued')
      await drain(destination.id)
      expect(of(key).map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId])
      await expect(
        resendEvent(database, destination.id, '00000000-0000-0000-0000-000000000000'),
      ).rejects.toBeInstanceOf(ForwardNotFoundError)
    })

    test('destination rules: one scope, a http(s) URL, existing project; delete cascades', async () => {
      const { projectId, endpoint, key } = await scope()
      const url = `${base}/ok/-/${key}`
      const bad = [
        { url },
        { projectId, endpointId: endpoint.id, url },
        { projectId, url: 'ftp://example.com/' },
        { projectId, url: 'not a url' },
        { projectId, url: 'https://user:pw@example.com/' },
        { projectId, url, eventTypes: [] },
        { projectId, url, maxInFlight: 0 },
      ]
      for (const input of bad) {
        await expect(createDestination(database, masterKey, input)).rejects.toBeInstanceOf(
          InvalidDestinationError,
        )
      }
      await expect(
        createDestination(database, masterKey, { projectId: 'PJnone', url }),
      ).rejects.toBeInstanceOf(ForwardNotFoundError)
      const { destination } = await createDestination(database, masterKey, { projectId, url })
      const [stored] = await database.db
        .select()
        .from(destinations)
        .where(eq(destinations.id, destination.id))
      expect(stored?.secretCiphertext).toBeTruthy()
      await store(endpoint)
      await drain(destination.id)
      await deleteDestination(database, destination.id)
      expect(await jobsOf(destination.id)).toHaveLength(0)
      const left = await database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(forwardAttempts)
        .where(and(eq(forwardAttempts.destinationId, destination.id)))
      // Attempts of a deleted destination go with its jobs.
      expect(left[0]?.n).toBe(0)
      await expect(deleteDestination(database, destination.id)).rejects.toBeInstanceOf(
        ForwardNotFoundError,
      )
    })
  })
}
