import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { events, jobs, messageStatusHistory, queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { defineHandlers, type EventOf, type JobContext } from '@telehook/protocol'
import { eq, sql } from 'drizzle-orm'
import { form, incomingMessage, loseAnswer, SECRET, sendStatus } from './fixtures'
import {
  createEndpoint,
  createEngine,
  createJsonLogger,
  createWorker,
  type Endpoint,
  type Engine,
  MIN_STOP_TIMEOUT_MS,
  replayEvent,
  stopBudget,
} from './index'

for (const driver of TEST_DRIVERS) {
  describe(`queue on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let engine: Engine
    let endpoint: Endpoint
    const seen: { id: string; ctx: JobContext }[] = []
    let failures = 0
    let onSeen: (() => void) | null = null
    const handlers = defineHandlers({
      async: {
        incoming_message: async (m: EventOf<'incoming_message'>, ctx) => {
          if (m.content === 'fail') {
            failures++
            throw new Error(`failure ${failures}`)
          }
          seen.push({ id: m.id, ctx })
          onSeen?.()
        },
      },
    })
    const logLines: string[] = []
    const logger = createJsonLogger((l) => logLines.push(l))

    beforeAll(async () => {
      database = await openTestDb(driver)
      engine = createEngine({ database, handlers })
      endpoint = await createEndpoint(database, { kind: 'service', secret: SECRET })
    })
    afterAll(() => database?.drop())

    const jobsOf = (eventId: string) =>
      database.db.select().from(jobs).where(eq(jobs.eventId, eventId))

    test('a stored event with an async handler gets one job, run once by the worker', async () => {
      const r = await engine.ingest(endpoint, incomingMessage('Q1'))
      let queued = await jobsOf(r.eventId)
      expect(queued).toHaveLength(1)
      expect(queued[0]?.status).toBe('queued')
      expect(queued[0]?.handler).toBe('incoming_message')
      // Events without an async handler enqueue nothing; duplicates enqueue nothing.
      const s = await engine.ingest(endpoint, sendStatus('Q1s', 'sent'))
      expect(await jobsOf(s.eventId)).toHaveLength(0)
      await engine.ingest(endpoint, incomingMessage('Q1'))
      expect(await jobsOf(r.eventId)).toHaveLength(1)

      const worker = createWorker({ database, handlers, logger })
      expect(await worker.runOnce()).toBe(1)
      expect(await worker.runOnce()).toBe(0)
      expect(seen.map((s) => s.id)).toEqual(['Q1'])
      expect(seen[0]?.ctx.eventId).toBe(r.eventId)
      expect(seen[0]?.ctx.endpointId).toBe(endpoint.id)
      expect(seen[0]?.ctx.attempt).toBe(1)
      queued = await jobsOf(r.eventId)
      expect(queued[0]?.status).toBe('done')
      expect(queued[0]?.attempts).toBe(1)
    })

    test('a failing job is retried with backoff, then dead with its last error', async () => {
      const r = await engine.ingest(endpoint, incomingMessage('Q2', { content: 'fail' }))
      await database.db.update(jobs).set({ maxAttempts: 3 }).where(eq(jobs.eventId, r.eventId))
      const delays: number[] = []
      const slow = createWorker({
        database,
        handlers,
        logger,
        backoffMs: (attempt) => {
          delays.push(attempt)
          return 60_000
        },
      })
      expect(await slow.runOnce()).toBe(1)
      let [job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('queued')
      expect(job?.attempts).toBe(1)
      expect(job?.lastError).toBe('failure 1')
      expect(job?.runAt.getTime()).toBeGreaterThan(Date.now() + 30_000)
      // Not due yet: nothing to claim.
      expect(await slow.runOnce()).toBe(0)
      expect(delays).toEqual([1])

      const fast = createWorker({ database, handlers, logger, backoffMs: () => 0 })
      await database.db.update(jobs).set({ runAt: new Date() }).where(eq(jobs.eventId, r.eventId))
      expect(await fast.runOnce()).toBe(1)
      ;[job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('queued')
      expect(job?.attempts).toBe(2)
      expect(await fast.runOnce()).toBe(1)
      ;[job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('dead')
      expect(job?.attempts).toBe(3)
      expect(job?.lastError).toBe('failure 3')
      expect(await fast.runOnce()).toBe(0)
      expect(logLines.some((l) => JSON.parse(l).msg === 'job dead')).toBe(true)
    })

    test('a job whose worker died is claimed again after its lease', async () => {
      const r = await engine.ingest(endpoint, incomingMessage('Q3'))
      await database.db
        .update(jobs)
        .set({ status: 'running', attempts: 1, lockedUntil: new Date(Date.now() - 1000) })
        .where(eq(jobs.eventId, r.eventId))
      const worker = createWorker({ database, handlers, logger })
      expect(await worker.runOnce()).toBe(1)
      const [job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('done')
      expect(job?.attempts).toBe(2)
    })

    test('an outcome the database could not take is written again, not left to the lease', async () => {
      const r = await engine.ingest(endpoint, incomingMessage('Q3b'))
      // The database refuses the worker's first two updates (an outage), then takes them.
      let refusals = 2
      const flaky = new Proxy(database.db, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver)
          if (key !== 'update' || typeof value !== 'function') return value
          return (...args: unknown[]) => {
            if (refusals > 0) {
              refusals--
              throw new Error('connection lost')
            }
            return value.apply(target, args)
          }
        },
      })
      const lines: string[] = []
      const worker = createWorker({
        database: { ...database, db: flaky },
        handlers,
        logger: createJsonLogger((l) => lines.push(l)),
        settleRetryMs: 20,
      })
      const before = seen.length
      expect(await worker.runOnce()).toBe(1)
      // The handler ran once; the job is still running (its outcome not yet written)…
      expect(seen.length).toBe(before + 1)
      expect((await jobsOf(r.eventId))[0]?.status).toBe('running')
      // …and is settled as done by the retries, without running again.
      for (let i = 0; i < 100 && (await jobsOf(r.eventId))[0]?.status !== 'done'; i++) {
        await Bun.sleep(20)
      }
      const [job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('done')
      expect(job?.attempts).toBe(1)
      expect(seen.length).toBe(before + 1)
      expect(lines.some((l) => l.includes('recorded job done after retrying'))).toBe(true)
      await worker.stop()
    })

    test("an outcome is written only over the worker's own claim", async () => {
      const r = await engine.ingest(endpoint, incomingMessage('Q3c'))
      // While the handler runs, another worker takes the job over (its lease was over): a later
      // attempt. This worker's late outcome must not overwrite it.
      const takenOver = defineHandlers({
        async: {
          incoming_message: async () => {
            await database.db.update(jobs).set({ attempts: 7 }).where(eq(jobs.eventId, r.eventId))
          },
        },
      })
      const worker = createWorker({ database, handlers: takenOver, logger })
      expect(await worker.runOnce()).toBe(1)
      const [job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('running')
      expect(job?.attempts).toBe(7)
    })

    test('stop() interrupts a job that outlasts its grace and requeues it, uncounted', async () => {
      let started: () => void = () => {}
      const running = new Promise<void>((resolve) => {
        started = resolve
      })
      let calls = 0
      let finished = 0
      const patient = defineHandlers({
        async: {
          send_broadcast: async () => {
            calls++
            if (calls === 1) {
              started()
              // Ignores its signal, as user code may: only the worker can let go of it.
              await new Promise(() => {})
            }
            finished++
          },
        },
      })
      const e = createEngine({ database, handlers: patient })
      const r = await e.ingest(endpoint, form({ event: 'send_broadcast', id: 'BCstop' }))
      const worker = createWorker({ database, handlers: patient, logger, stopGraceMs: 50 })
      worker.start()
      await running
      await worker.stop()
      let [job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('queued')
      expect(job?.attempts).toBe(0)
      expect(job?.runAt.getTime()).toBeLessThanOrEqual(Date.now())
      // Another worker takes it at once.
      const next = createWorker({ database, handlers: patient, logger })
      expect(await next.runOnce()).toBe(1)
      ;[job] = await jobsOf(r.eventId)
      expect(job?.status).toBe('done')
      expect(job?.attempts).toBe(1)
      expect(finished).toBe(1)
    })

    // PostgreSQL only: another session holds the events table, so the job's read of its event
    // waits while stop() outlasts its grace and aborts the job.
    test.skipIf(driver !== 'postgres')(
      'a job aborted by stop() while its event is read is given back, its handler never run',
      async () => {
        let calls = 0
        const counted = defineHandlers({
          async: {
            send_broadcast: async () => {
              calls++
            },
          },
        })
        const e = createEngine({ database, handlers: counted })
        const r = await e.ingest(endpoint, form({ event: 'send_broadcast', id: 'BCread' }))
        const client = (
          database.db as unknown as {
            $client: {
              begin<T>(
                fn: (tx: (q: TemplateStringsArray) => Promise<unknown>) => Promise<T>,
              ): Promise<T>
            }
          }
        ).$client
        let unlock: () => void = () => {}
        const held = new Promise<void>((resolve) => {
          unlock = resolve
        })
        let locked: () => void = () => {}
        const isLocked = new Promise<void>((resolve) => {
          locked = resolve
        })
        const holding = client.begin(async (tx) => {
          await tx`lock table telehook.events in access exclusive mode`
          locked()
          await held
        })
        await isLocked
        const worker = createWorker({ database, handlers: counted, logger, stopGraceMs: 100 })
        worker.start()
        // Claimed, and waiting for its event row.
        for (let i = 0; i < 100; i++) {
          const [job] = await jobsOf(r.eventId)
          if (job?.status === 'running') break
          await Bun.sleep(20)
        }
        const stopping = worker.stop()
        await Bun.sleep(300)
        unlock()
        await holding
        await stopping
        const [job] = await jobsOf(r.eventId)
        expect(calls).toBe(0)
        expect(job?.status).toBe('queued')
        expect(job?.attempts).toBe(0)
        // Given back: the next worker runs it (and leaves nothing queued for the tests after).
        expect(await createWorker({ database, handlers: counted, logger }).runOnce()).toBe(1)
        expect(calls).toBe(1)
      },
    )

    describe('stop() when the database refuses the requeue', () => {
      let started: () => void = () => {}
      // Ignores its signal, as user code may: only stop() can give its job back.
      const stuck = defineHandlers({
        async: {
          send_broadcast: async () => {
            started()
            await new Promise(() => {})
          },
        },
      })
      /**
       * `database.db` refusing its next `times` query-builder updates (the requeue), as in an
       * outage; with `hang`, they never answer instead (a black-holed connection).
       */
      function refusingUpdates(times: number, hang = false) {
        let refused = 0
        const db = new Proxy(database.db, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver)
            if (key !== 'update' || typeof value !== 'function') return value
            return (...args: unknown[]) => {
              if (refused < times) {
                refused++
                if (hang) return { set: () => ({ where: () => new Promise(() => {}) }) }
                throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
              }
              return value.apply(target, args)
            }
          },
        })
        return { db, refused: () => refused }
      }
      /** Out of the way of the next tests, which run send_broadcast jobs too. */
      const settleAway = (eventId: string) =>
        database.db.update(jobs).set({ status: 'dead' }).where(eq(jobs.eventId, eventId))
      async function runUntilStopped(
        id: string,
        refusals: number,
        extra: object = {},
        hang = false,
      ) {
        const e = createEngine({ database, handlers: stuck })
        const { eventId } = await e.ingest(endpoint, form({ event: 'send_broadcast', id }))
        const outage = refusingUpdates(refusals, hang)
        const lines: Record<string, unknown>[] = []
        const worker = createWorker({
          database: { ...database, db: outage.db },
          handlers: stuck,
          logger: createJsonLogger((l) => lines.push(JSON.parse(l))),
          stopGraceMs: 50,
          settleRetryMs: 50,
          // Only the worker's own writes can give the job back within the test.
          leaseMs: 60_000,
          ...extra,
        })
        const running = new Promise<void>((resolve) => {
          started = resolve
        })
        worker.start()
        await running
        const stopping = Date.now()
        await worker.stop()
        return { eventId, outage, lines, took: Date.now() - stopping }
      }

      test('the requeue is written again before stop() returns, not left to the lease', async () => {
        const { eventId, outage, lines } = await runUntilStopped('BCstop2', 2)
        expect(outage.refused()).toBe(2)
        const [job] = await jobsOf(eventId)
        expect(job).toMatchObject({ status: 'queued', attempts: 0, lockedUntil: null })
        expect(lines.some((l) => l.msg === 'recorded job requeue after retrying')).toBe(true)
        expect(lines.some((l) => String(l.msg).startsWith('stopped'))).toBe(false)
        await settleAway(eventId)
      })

      test('a database that stays down: stop() gives up at stopSettleMs, naming the job', async () => {
        const { eventId, outage, lines, took } = await runUntilStopped('BCstop3', 1e9, {
          stopSettleMs: 300,
        })
        // It kept trying until its deadline (grace 50 ms + 300 ms), and no longer.
        expect(took).toBeGreaterThanOrEqual(300)
        expect(took).toBeLessThan(5000)
        expect(outage.refused()).toBeGreaterThan(2)
        const [job] = await jobsOf(eventId)
        expect(job).toMatchObject({ status: 'running', attempts: 1 })
        const left = lines.find((l) => String(l.msg).startsWith('stopped'))
        expect(left).toMatchObject({ level: 'warn', jobs: [job?.id] })
        // Nothing is written after stop() returned.
        const refused = outage.refused()
        await Bun.sleep(200)
        expect(outage.refused()).toBe(refused)
        await settleAway(eventId)
      })

      test('a job that never ends over a database that stays down: stop() fits its budget', async () => {
        // A short budget standing for the default one (stopBudget(), 8 s): the same split.
        const budget = stopBudget(MIN_STOP_TIMEOUT_MS)
        const { eventId, took } = await runUntilStopped('BCstop5', 1e9, {
          stopGraceMs: budget.stopGraceMs,
          stopSettleMs: budget.stopSettleMs,
        })
        expect(took).toBeGreaterThanOrEqual(budget.stopGraceMs + budget.stopSettleMs - 20)
        // Within the budget, leaving it the part for closing the database (1 s of STOP_FINAL_MS).
        expect(took).toBeLessThan(budget.totalMs - 1000)
        await settleAway(eventId)
      })

      test('a requeue that never answers: stop() returns at stopSettleMs all the same', async () => {
        const { eventId, outage, lines, took } = await runUntilStopped(
          'BCstop4',
          1,
          { stopSettleMs: 300 },
          true,
        )
        expect(outage.refused()).toBe(1)
        expect(took).toBeGreaterThanOrEqual(300)
        expect(took).toBeLessThan(5000)
        const [job] = await jobsOf(eventId)
        expect(job).toMatchObject({ status: 'running', attempts: 1 })
        const left = lines.find((l) => String(l.msg).startsWith('stopped'))
        expect(left).toMatchObject({ level: 'warn', jobs: [job?.id] })
        await settleAway(eventId)
      })
    })

    describe('a claim whose answer was lost', () => {
      const CLAIM = /set status = 'running'/
      const RELEASE = /claim_token in/
      const ran: string[] = []
      let gate: Promise<void> = Promise.resolve()
      let started: () => void = () => {}
      const broadcasts = defineHandlers({
        async: {
          send_broadcast: async (b: EventOf<'send_broadcast'>) => {
            ran.push(b.id)
            started()
            await gate
          },
        },
      })
      const enqueue = async (id: string) => {
        const e = createEngine({ database, handlers: broadcasts })
        return (await e.ingest(endpoint, form({ event: 'send_broadcast', id }))).eventId
      }
      const jobOf = async (eventId: string) => (await jobsOf(eventId))[0]
      async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
        const end = Date.now() + ms
        while (!(await cond())) {
          if (Date.now() > end) throw new Error(`not within ${ms} ms`)
          await Bun.sleep(20)
        }
      }

      test('is given back at once and runs again, not after its lease', async () => {
        const ids = ['BClost1', 'BClost2', 'BClost3']
        const eventIds = await Promise.all(ids.map(enqueue))
        // The third is a retry: its earlier attempt counts, the lost one does not.
        await database.db
          .update(jobs)
          .set({ attempts: 1 })
          .where(eq(jobs.eventId, eventIds[2] ?? ''))
        const cut = loseAnswer(database.db, CLAIM)
        const lines: string[] = []
        const worker = createWorker({
          database: { ...database, db: cut.db },
          handlers: broadcasts,
          logger: createJsonLogger((l) => lines.push(l)),
          leaseMs: 60_000,
          pollMs: 50,
        })
        const startedAt = Date.now()
        worker.start()
        try {
          // A 60 s lease: only the worker's own release can make them run within seconds (10 s
          // leaves room for a loaded CI machine).
          await until(
            async () => (await Promise.all(eventIds.map(jobOf))).every((j) => j?.status === 'done'),
            10_000,
          )
        } finally {
          await worker.stop()
        }
        expect(Date.now() - startedAt).toBeLessThan(10_000)
        expect(cut.lost()).toBe(1)
        expect([...ran].sort()).toEqual(ids)
        const done = await Promise.all(eventIds.map(jobOf))
        expect(done.map((j) => j?.attempts)).toEqual([1, 1, 2])
        expect(done.map((j) => j?.lockedUntil)).toEqual([null, null, null])
        const gaveBack = lines.map((l) => JSON.parse(l)).find((l) => l.msg.startsWith('gave back'))
        expect(gaveBack).toMatchObject({ msg: 'gave back jobs of a claim whose answer was lost' })
        expect(gaveBack?.released).toBe(3)
        ran.length = 0
      })

      test('is given back when the database is back, retrying through the outage', async () => {
        const eventId = await enqueue('BClost4')
        // The claim commits unanswered; the next two releases fail (the outage goes on).
        const cut = loseAnswer(database.db, CLAIM, { refuse: { match: RELEASE, times: 2 } })
        const lines: string[] = []
        const worker = createWorker({
          database: { ...database, db: cut.db },
          handlers: broadcasts,
          logger: createJsonLogger((l) => lines.push(l)),
          leaseMs: 60_000,
          settleRetryMs: 20,
        })
        await expect(worker.runOnce()).rejects.toThrow('Connection terminated')
        expect((await jobOf(eventId))?.status).toBe('running')
        await until(async () => (await jobOf(eventId))?.status === 'queued', 10_000)
        expect(await jobOf(eventId)).toMatchObject({ attempts: 0, lockedUntil: null })
        expect(lines.some((l) => l.includes('gave back lost claims after retrying'))).toBe(true)
        expect(await worker.runOnce()).toBe(1)
        expect(await jobOf(eventId)).toMatchObject({ status: 'done', attempts: 1 })
        expect(ran).toEqual(['BClost4'])
        ran.length = 0
        await worker.stop()
      })

      test('leaves alone a job another worker claimed since (its lease was over)', async () => {
        const eventId = await enqueue('BClost5')
        let release = () => {}
        gate = new Promise<void>((r) => {
          release = r
        })
        const other = createWorker({ database, handlers: broadcasts, logger })
        let otherRun: Promise<number> = Promise.resolve(0)
        const cut = loseAnswer(database.db, CLAIM, {
          // Before the lost answer's error reaches the worker, its lease runs out and another
          // worker claims the job and starts it.
          async onLost() {
            await database.db
              .update(jobs)
              .set({ lockedUntil: new Date(Date.now() - 1000) })
              .where(eq(jobs.eventId, eventId))
            const running = new Promise<void>((r) => {
              started = r
            })
            otherRun = other.runOnce()
            await running
          },
        })
        const lines: string[] = []
        const worker = createWorker({
          database: { ...database, db: cut.db },
          handlers: broadcasts,
          logger: createJsonLogger((l) => lines.push(l)),
          leaseMs: 60_000,
        })
        try {
          await expect(worker.runOnce()).rejects.toThrow('Connection terminated')
          // The release ran and found nothing of its own: the other worker's claim is intact.
          const job = await jobOf(eventId)
          expect(job).toMatchObject({ status: 'running', attempts: 2 })
          expect(job?.lockedUntil?.getTime()).toBeGreaterThan(Date.now() + 30_000)
          expect(lines.some((l) => l.includes('gave back'))).toBe(false)
        } finally {
          release()
          gate = Promise.resolve()
          started = () => {}
        }
        expect(await otherRun).toBe(1)
        expect(await jobOf(eventId)).toMatchObject({ status: 'done', attempts: 2 })
        expect(ran).toEqual(['BClost5'])
        ran.length = 0
      })
    })

    test('workers without the handler leave the job for one that has it', async () => {
      const r = await engine.ingest(endpoint, incomingMessage('Q4'))
      const none = createWorker({ database, handlers: {}, logger })
      expect(await none.runOnce()).toBe(0)
      expect((await jobsOf(r.eventId))[0]?.status).toBe('queued')
      expect(await createWorker({ database, handlers, logger }).runOnce()).toBe(1)
    })

    test('concurrent workers never run one job twice', async () => {
      const before = seen.length
      const ids = Array.from({ length: 12 }, (_, i) => `Q5-${i}`)
      for (const id of ids) await engine.ingest(endpoint, incomingMessage(id))
      const workers = [1, 2, 3].map(() =>
        createWorker({ database, handlers, logger, concurrency: 2 }),
      )
      let total = 0
      for (;;) {
        const n = (await Promise.all(workers.map((w) => w.runOnce()))).reduce((a, b) => a + b, 0)
        if (n === 0) break
        total += n
      }
      expect(total).toBe(12)
      expect(
        seen
          .slice(before)
          .map((s) => s.id)
          .sort(),
      ).toEqual([...ids].sort())
    })

    test('start() wakes on NOTIFY from the ingest transaction', async () => {
      // Polling once a minute: only the notification can make this job run within the test.
      const worker = createWorker({ database, handlers, logger, pollMs: 60_000 })
      worker.start()
      try {
        expect(await worker.whenListening()).toBe(true)
        const ran = new Promise<void>((resolve) => {
          onSeen = () => {
            if (seen.some((s) => s.id === 'Q6')) resolve()
          }
        })
        await engine.ingest(endpoint, incomingMessage('Q6'))
        await ran
      } finally {
        onSeen = null
        await worker.stop()
      }
      expect(seen.filter((s) => s.id === 'Q6')).toHaveLength(1)
    })

    test.skipIf(driver !== 'postgres')(
      'LISTEN comes back by itself when its connection dies (a database restart)',
      async () => {
        const listeners = () =>
          queryRows<{ pid: number }>(
            database.db,
            sql`select pid from pg_stat_activity
                where datname = current_database() and query ilike 'listen %'`,
          )
        const worker = createWorker({ database, handlers, logger, pollMs: 60_000 })
        worker.start()
        try {
          expect(await worker.whenListening()).toBe(true)
          const [before] = await listeners()
          expect(before).toBeDefined()
          await queryRows(database.db, sql`select pg_terminate_backend(${before?.pid})`)
          // The driver listens again on a fresh connection; no restart of the worker.
          for (let i = 0; i < 200; i++) {
            const now = await listeners()
            if (now.length === 1 && now[0]?.pid !== before?.pid) break
            await Bun.sleep(50)
          }
          const ran = new Promise<void>((resolve) => {
            onSeen = () => {
              if (seen.some((s) => s.id === 'Q6b')) resolve()
            }
          })
          // Polling is once a minute: only a working LISTEN runs this job within the test.
          await engine.ingest(endpoint, incomingMessage('Q6b'))
          await ran
        } finally {
          onSeen = null
          await worker.stop()
        }
      },
    )

    test('replayEvent re-applies projections idempotently and enqueues the job again', async () => {
      const r = await engine.ingest(endpoint, sendStatus('Q7', 'delivered'))
      const out = await replayEvent(database, r.eventId, {
        async: { send_status: async () => {} },
      })
      expect(out).toEqual({ jobs: 1, applied: true })
      const history = await database.db
        .select()
        .from(messageStatusHistory)
        .where(eq(messageStatusHistory.messageId, 'Q7'))
      expect(history).toHaveLength(1)
      expect(await jobsOf(r.eventId)).toHaveLength(1)
      const m = await replayEvent(database, r.eventId, handlers)
      expect(m.jobs).toBe(0) // no async send_status handler in this module
      await expect(replayEvent(database, crypto.randomUUID())).rejects.toThrow(/not found/)
    })

    test('replayEvent recovers an event stored as invalid once it decodes', async () => {
      const r = await engine.ingest(endpoint, form({ event: 'future_thing', id: 'Z' }))
      expect(await replayEvent(database, r.eventId)).toEqual({ jobs: 0, applied: false })
      // Simulate an event that failed an older schema: store a valid form as invalid.
      const ok = await engine.ingest(endpoint, incomingMessage('Q8'))
      await database.db.update(events).set({ valid: false }).where(eq(events.id, ok.eventId))
      const out = await replayEvent(database, ok.eventId)
      expect(out.applied).toBe(true)
      const [row] = await database.db.select().from(events).where(eq(events.id, ok.eventId))
      expect(row?.valid).toBe(true)
    })
  })
}
