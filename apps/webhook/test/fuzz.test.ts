/**
 * Seeded random bodies through the app and the real engine on both drivers: whatever the form
 * looks like, the answer is a clean 200/400/403/413, never a 5xx, and every 200 left a row.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEngine, ensureSingleEndpoint } from '@telehook/engine'
import { sql } from 'drizzle-orm'
import { createWebhookApp, type WebhookApp } from '../src/app'
import exampleHandlers from '../src/example-handlers'
import { captureLogger, countEvents, post, rows } from './helpers'

// bun's 5 s default is too short for database suites on a busy 2-core machine (and bunfig's
// [test] timeout is not applied by this Bun).
setDefaultTimeout(30_000)

const SECRET = 'fuzz-secret-Qq1Ww2Ee3'
const RUNS = Number(process.env.FUZZ_RUNS ?? 150)

/** mulberry32: small, seeded, good enough to spread inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const EVENTS = [
  'incoming_message',
  'send_status',
  'send_broadcast',
  'contact_update',
  'message_metadata',
  'mystery',
  '',
]
const NAMES = [
  'id',
  'content',
  'status',
  'time_created',
  'time_sent',
  'contact',
  'state',
  'media',
  'vars',
  'label_ids',
  'group_ids',
  'recipients',
  '__proto__',
  'constructor',
  'prototype',
  'starred',
  'x',
]
const PIECES = [
  '%00',
  'a',
  'Z',
  '0',
  '1',
  '9',
  '%',
  '%2',
  '%zz',
  '%E2%82%AC',
  '%FF',
  '+',
  '[',
  ']',
  '[]',
  '=',
  'é',
  '😀',
  ' ',
  '-',
  '.',
]

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T
}

function randomText(rand: () => number, max: number): string {
  let s = ''
  const n = Math.floor(rand() * max)
  for (let i = 0; i < n; i++) s += pick(rand, PIECES)
  return s
}

function randomKey(rand: () => number): string {
  let key = pick(rand, NAMES)
  const depth = Math.floor(rand() * 4)
  for (let i = 0; i < depth; i++) {
    const r = rand()
    key += r < 0.3 ? `[${Math.floor(rand() * 3)}]` : r < 0.5 ? '[]' : `[${pick(rand, NAMES)}]`
  }
  return rand() < 0.2 ? key + randomText(rand, 4) : key
}

function randomBody(rand: () => number, i: number): string {
  const pairs = [
    `event=${encodeURIComponent(pick(rand, EVENTS))}`,
    `secret=${SECRET}`,
    rand() < 0.9 ? `id=FZ${i}x${Math.floor(rand() * 1e9)}` : '',
  ]
  const n = Math.floor(rand() * 12)
  for (let k = 0; k < n; k++) pairs.push(`${randomKey(rand)}=${randomText(rand, 12)}`)
  for (let k = pairs.length - 1; k > 2; k--) {
    const j = 2 + Math.floor(rand() * (k - 1))
    ;[pairs[k], pairs[j]] = [pairs[j] as string, pairs[k] as string]
  }
  return pairs.filter(Boolean).join(rand() < 0.1 ? '&&' : '&')
}

for (const driver of TEST_DRIVERS) {
  describe(`random bodies on ${driver}`, () => {
    let database: Awaited<ReturnType<typeof openTestDb>>
    let app: WebhookApp
    beforeAll(async () => {
      database = await openTestDb(driver)
      const logger = captureLogger()
      const engine = createEngine({ database, handlers: exampleHandlers, logger })
      await ensureSingleEndpoint(database, SECRET)
      app = createWebhookApp({ engine, database, singleProject: true, logger })
    })
    afterAll(async () => {
      await database?.drop()
    })

    test(`${RUNS} seeded bodies: never a 5xx, every stored 200 is a row`, async () => {
      const rand = prng(Number(process.env.FUZZ_SEED ?? 0) + (driver === 'pglite' ? 1 : 2))
      const statuses = new Map<number, number>()
      const failures: string[] = []
      let stored = 0
      for (let i = 0; i < RUNS; i++) {
        const body = randomBody(rand, i)
        const res = await app.handle(post('/webhook', body))
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (![200, 400, 403, 413].includes(res.status)) {
          failures.push(`${res.status} ${await res.text()} <- ${body}`)
        }
        if (res.status === 200) stored += 1
      }
      expect(failures).toEqual([])
      // Random ids rarely repeat; every 200 is either a new row or a counted duplicate.
      const [row] = await rows<{ n: number }>(
        database,
        sql`select coalesce(sum(delivery_count), 0)::int as n from telehook.events`,
      )
      expect(row?.n).toBe(stored)
      expect(await countEvents(database)).toBeGreaterThan(0)
      expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS / 2)
    })
  })
}
