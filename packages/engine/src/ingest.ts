import { type Database, nativeClient } from '@telehook/db'
import {
  type DecodeResult,
  decodeEvent,
  type FormObject,
  type Handlers,
  isValidReply,
  type TelerivetEvent,
  type WebhookReply,
} from '@telehook/protocol'
import { createStoredCheck, jobsOf } from './batch'
import { dedupeKey } from './dedupe'
import { createEndpointAuthenticator, type Endpoint, type EndpointCheck } from './endpoints'
import { errorMessage, type Logger, silentLogger } from './logger'
import {
  type Arrival,
  type BatchOptions,
  type BatchStats,
  createBatcher,
  type StoreItem,
  storeAlone,
} from './store'

export interface EngineOptions {
  database: Database
  handlers?: Handlers
  /** Deadline of a synchronous handler (default 3000 ms); an overrun means no reply. */
  handlerTimeoutMs?: number
  logger?: Logger
  /** How long an endpoint and its secret hashes are cached (default 5000 ms). */
  endpointCacheMs?: number
  /**
   * Least time between two database look-ups of one endpoint caused by a wrong secret or an
   * unknown id (default 1000 ms): bad deliveries cannot turn into one query each.
   */
  endpointRecheckMs?: number
  /**
   * Group commit of concurrent deliveries (default on: at most 64 deliveries a statement, two
   * statements in flight on PostgreSQL, one on PGlite, which runs one at a time; a delivery that
   * finds a slot free waits at most `gatherMs`, default 2 ms, for the deliveries already inside
   * the engine, and not at all when there are none); `false` gives every delivery its own
   * transaction.
   */
  batch?: BatchOptions | false
  /**
   * Most deliveries inside `ingest` at once (default 1000). Past it `ingest` rejects at once with
   * an {@link OverloadedError} (the webhook answers 503 with Retry-After): beyond capacity the
   * excess is refused quickly instead of every delivery slowing toward Telerivet's deadline.
   */
  maxPending?: number
  /**
   * Whether the single-project endpoint (`default`, `POST /webhook`) authenticates (default true).
   * With `false` it is refused like an unknown endpoint, whatever secret its stored row holds.
   */
  singleEndpoint?: boolean
}

export interface IngestResult {
  outcome: 'stored' | 'duplicate'
  eventId: string
  /** The `event` parameter as sent; null when absent. */
  event: string | null
  telerivetId: string | null
  valid: boolean
  /** The reply as stored (read back from jsonb), identical for the first delivery and duplicates. */
  reply: WebhookReply | null
  /** Why the synchronous handler gave no reply on this delivery, or null. */
  handlerError: string | null
  /** Time spent in the synchronous handler (0 when none ran). */
  handlerMs: number
  /** Time of the whole ingest: decode, handler, transaction. */
  durationMs: number
}

export interface Engine {
  /** The endpoint when `secret` matches its current (or unexpired previous) secret; else null. */
  authenticate(endpointId: string, secret: string | undefined): Promise<Endpoint | null>
  /** The same check, saying why there is no endpoint (unknown or disabled id, or wrong secret). */
  verifyEndpoint?(endpointId: string, secret: string | undefined): Promise<EndpointCheck>
  /** Stores one delivery exactly once and returns the reply to send. */
  ingest(endpoint: Endpoint, form: FormObject): Promise<IngestResult>
  /** Drops a cached endpoint (after a rotation or a change made in this process). */
  invalidateEndpoint(id: string): void
  /** Group commit counters (null or absent without batching): a retried batch is a latency spike. */
  readonly batchStats?: Readonly<BatchStats> | null
}

/** What is stored for one delivery, before the database decides whether it is new. */
export interface Prepared {
  decoded: DecodeResult
  eventType: string | null
  telerivetId: string | null
  dedupeKey: string
  payload: Record<string, unknown>
  valid: boolean
  errors: unknown
  projectId: string | null
  /**
   * Why the event is stored but kept out of the mirror (no projections, no handlers, no jobs), or
   * null: `project_mismatch` when the payload names a project other than its endpoint's.
   */
  flag: string | null
}

/** The flag of an event whose payload names a project other than its endpoint's. */
export const PROJECT_MISMATCH = 'project_mismatch'

/**
 * PostgreSQL cannot store U+0000 in `text` or `jsonb`; a form carrying one would fail forever
 * and Telerivet would retry it for a day. It becomes U+FFFD, the replacement character.
 */
export function withoutNul<T>(value: T): T {
  // Nearly every form has none: look first, copy only when there is one.
  return hasNul(value) ? replaceNul(value) : value
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (Array.isArray(value)) return value.some(hasNul)
  if (typeof value === 'object' && value !== null) {
    for (const k in value) {
      if (k.includes('\u0000') || hasNul((value as Record<string, unknown>)[k])) return true
    }
  }
  return false
}

function replaceNul<T>(value: T): T {
  if (typeof value === 'string') {
    return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T
  }
  if (Array.isArray(value)) return value.map(replaceNul) as T
  if (typeof value === 'object' && value !== null) {
    const out = Object.create(null) as Record<string, unknown>
    for (const [k, v] of Object.entries(value)) out[replaceNul(k)] = replaceNul(v)
    return out as T
  }
  return value
}

/** Decodes a delivery and computes its dedupe key: everything but the database's decision. */
export async function prepare(endpoint: Endpoint, raw: FormObject): Promise<Prepared> {
  const form = withoutNul(raw)
  const decoded = decodeEvent(form)
  const payload = (decoded.ok ? decoded.event : decoded.payload) as Record<string, unknown>
  const eventType = decoded.ok ? decoded.event.event : decoded.eventType
  const id = payload.id
  const payloadProject = typeof payload.project_id === 'string' ? payload.project_id : null
  // An endpoint that belongs to a project writes that project only: holding one project's secret
  // must not let a payload rewrite another project's messages, contacts or broadcasts.
  const mismatch =
    endpoint.projectId !== null && payloadProject !== null && payloadProject !== endpoint.projectId
  return {
    decoded,
    eventType,
    telerivetId: typeof id === 'string' ? id : null,
    dedupeKey: await dedupeKey(decoded, form),
    payload,
    valid: decoded.ok,
    errors: !decoded.ok && decoded.reason === 'invalid' ? decoded.errors : null,
    projectId: endpoint.projectId ?? payloadProject,
    flag: mismatch ? PROJECT_MISMATCH : null,
  }
}

/** The event types that have an async handler. */
export function asyncHandlerTypes(handlers: Handlers | undefined): Set<string> {
  return new Set(
    Object.entries(handlers?.async ?? {})
      .filter(([, fn]) => typeof fn === 'function')
      .map(([type]) => type),
  )
}

/**
 * Runs a synchronous handler under a deadline. A throw, an overrun or an invalid reply gives no
 * reply and an error string; the event is stored either way. A handler that returns a value (not
 * a promise) has already finished: no timer, race or AbortController is made for it (its
 * `ctx.signal` is made only if the handler reads it).
 */
async function runSyncHandler(
  handlers: Handlers | undefined,
  event: TelerivetEvent,
  endpoint: Endpoint,
  projectId: string | null,
  timeoutMs: number,
): Promise<{ reply: WebhookReply | null; error: string | null }> {
  const fn = handlers?.sync?.[event.event] as
    | ((e: TelerivetEvent, ctx: unknown) => unknown)
    | undefined
  if (!fn) return { reply: null, error: null }
  let controller: AbortController | undefined
  let overrun: Error | undefined
  const ctx = {
    endpointId: endpoint.id,
    projectId,
    get signal(): AbortSignal {
      if (!controller) {
        controller = new AbortController()
        // Read after the deadline passed: aborted already.
        if (overrun) controller.abort(overrun)
      }
      return controller.signal
    },
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    let out = fn(event, ctx)
    if (isThenable(out)) {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          overrun = new Error(`handler exceeded ${timeoutMs} ms`)
          controller?.abort(overrun)
          reject(overrun)
        }, timeoutMs)
      })
      out = await Promise.race([out, deadline])
    }
    if (out === undefined || out === null) return { reply: null, error: null }
    if (!isValidReply(out)) return { reply: null, error: 'handler returned an invalid reply' }
    return { reply: out, error: null }
  } catch (error) {
    return { reply: null, error: errorMessage(error) }
  } finally {
    clearTimeout(timer)
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') &&
  value !== null &&
  typeof (value as { then?: unknown }).then === 'function'

/**
 * Creates the ingestion engine used by the webhook app (and by anything that stores deliveries).
 * @example
 * const engine = createEngine({ database, handlers })
 * const endpoint = await engine.authenticate(id, form.secret)
 * if (endpoint) return engine.ingest(endpoint, form)
 */
export function createEngine(opts: EngineOptions): Engine {
  const { database, handlers } = opts
  const logger = opts.logger ?? silentLogger
  const timeoutMs = opts.handlerTimeoutMs ?? 3000
  const auth = createEndpointAuthenticator(
    database,
    opts.endpointCacheMs ?? 5000,
    opts.endpointRecheckMs ?? 1000,
  )
  const asyncTypes = asyncHandlerTypes(handlers)
  const native = nativeClient(database.db)
  const postgres = database.driver === 'postgres'
  const batching = opts.batch ?? {}
  // Concurrent writers exist only on PostgreSQL (PGlite runs one transaction at a time), so only
  // there are the rows locked in one order first.
  const lock = postgres
  const batcher =
    batching === false
      ? null
      : createBatcher(database.db, asyncTypes, {
          maxSize: batching.maxSize ?? 64,
          maxInflight: batching.maxInflight ?? (postgres ? 2 : 1),
          gatherMs: batching.gatherMs ?? 2,
          lock,
        })
  const store = batcher ?? ((item: StoreItem) => storeAlone(database.db, item, asyncTypes, lock))
  const maxPending = opts.maxPending ?? 1000
  let pending = 0

  /** Whether this delivery is already stored (then the stored reply answers, not the handler). */
  const isStored = createStoredCheck(native.query, {
    maxInflight: postgres ? 2 : 1,
    maxSize: 256,
  })

  // With the single-project endpoint turned off, `default` is as unknown as a made-up id.
  const verifyEndpoint = async (id: string, secret: string | undefined): Promise<EndpointCheck> => {
    const check = await auth.verify(id, secret)
    if (check.endpoint?.kind === 'single' && opts.singleEndpoint === false) {
      return { endpoint: null, reason: 'unknown_endpoint' }
    }
    return check
  }

  return {
    authenticate: async (id, secret) => (await verifyEndpoint(id, secret)).endpoint,
    verifyEndpoint,
    invalidateEndpoint: (id) => auth.invalidate(id),
    batchStats: batcher?.stats ?? null,

    async ingest(endpoint, form) {
      if (pending >= maxPending) throw new OverloadedError(pending)
      pending++
      // Announced to the batcher now, so that a free slot waits for it (see createBatcher).
      const arrival = batcher?.announce()
      try {
        return await ingestOne(endpoint, form, arrival)
      } finally {
        pending--
        arrival?.drop()
      }
    },
  }

  async function ingestOne(
    endpoint: Endpoint,
    form: FormObject,
    arrival: Arrival | undefined,
  ): Promise<IngestResult> {
    const started = performance.now()
    const p = await prepare(endpoint, form)
    let reply: WebhookReply | null = null
    let handlerError: string | null = null
    let handlerMs = 0
    // A redelivery must not run the handler again: the stored reply is the answer.
    if (p.decoded.ok && p.flag === null && handlers?.sync?.[p.decoded.event.event]) {
      if (!(await isStored(endpoint.id, p.dedupeKey))) {
        const t = performance.now()
        const r = await runSyncHandler(handlers, p.decoded.event, endpoint, p.projectId, timeoutMs)
        handlerMs = performance.now() - t
        reply = r.reply
        handlerError = r.error
        if (handlerError !== null) {
          logger.warn({
            msg: 'sync handler failed',
            endpoint: endpoint.id,
            event: p.eventType,
            telerivet_id: p.telerivetId,
            error: handlerError,
          })
        }
      }
    }
    const item: StoreItem = { endpoint, prepared: p, reply, handlerError }
    // The jobs of a new event, as rows: its type's async handler (more kinds append rows).
    item.jobs = jobsOf(item, asyncTypes)
    const stored = await (arrival ? arrival.store(item) : store(item))
    if (stored.inserted) isStored.grew(1)
    return {
      outcome: stored.inserted ? 'stored' : 'duplicate',
      eventId: stored.id,
      event: p.eventType,
      telerivetId: p.telerivetId,
      valid: p.valid,
      reply: stored.reply,
      handlerError: stored.inserted ? handlerError : null,
      handlerMs,
      durationMs: performance.now() - started,
    }
  }
}

/** `ingest` refused a delivery because too many are already waiting (answer 503, retry later). */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError'
  constructor(readonly pending: number) {
    super(`overloaded: ${pending} deliveries waiting`)
  }
}
