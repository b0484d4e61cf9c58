/** @module createWebhookApp: the Elysia app that receives Telerivet's webhook POSTs (no listening). */
import type { Database } from '@telehook/db'
import {
  createJsonLogger,
  type Endpoint,
  type Engine,
  isEndpointId,
  type Logger,
  SINGLE_ENDPOINT_ID,
} from '@telehook/engine'
import { routerPath, TARGET_MESSAGE } from '@telehook/engine/request-guard'
import {
  EVENT_TYPES,
  FormError,
  type FormLimits,
  type FormObject,
  parseForm,
} from '@telehook/protocol'
import { Elysia } from 'elysia'
import { WebhookError } from './errors'
import {
  clientAddressOf,
  createFailureLimiter,
  type FailureLimits,
  rememberClientAddress,
} from './limiter'
import {
  createMetrics,
  type DeliveryOutcome,
  renderBatchStats,
  type WebhookMetrics,
} from './metrics'
import { inspectRequest } from './request-guard'
import { scanSecret } from './secret-scan'

/** Default largest accepted body: 256 KiB. */
export const DEFAULT_BODY_LIMIT = 256 * 1024

/** How much of a chunked body past the limit is read and dropped before the 413 (see readBody). */
const DRAIN_LIMIT = 1024 * 1024
/** Default time to commit before answering 503: well inside Telerivet's 10 s. */
export const DEFAULT_DEADLINE_MS = 8000
/** Seconds Telerivet is asked to wait after a 503. */
export const RETRY_AFTER_SECONDS = 10
/** Endpoint id of the single-project mode (`POST /webhook`), as the engine names it. */
export { SINGLE_ENDPOINT_ID }

/** What the webhook app needs; only `engine` and `database` are required. */
export interface WebhookAppDeps {
  engine: Engine
  database: Database
  /** Largest accepted body in bytes (default 256 KiB). */
  bodyLimit?: number
  /** Time from receipt to a committed store before answering 503 (default 8000 ms). */
  deadlineMs?: number
  /** Serve `POST /webhook` for the endpoint 'default'. */
  singleProject?: boolean
  logger?: Logger
  metrics?: WebhookMetrics
  formLimits?: Partial<FormLimits>
  /** Longest wait for `database.ping()` in `GET /healthz` (default 2000 ms). */
  healthTimeoutMs?: number
  /**
   * Also serve `GET /metrics` on this public port (default false: serve {@link metricsHandler} on
   * the private admin port instead).
   */
  publicMetrics?: boolean
  /**
   * Failed attempts (any 4xx) allowed per client address before it is answered 429 with
   * Retry-After without any work (default: a burst of 30, then 60 a minute); `false` turns it off.
   */
  failureLimits?: Partial<FailureLimits> | false
  /**
   * Peer addresses of reverse proxies whose `X-Forwarded-For` names the client. Behind a proxy
   * that is not listed, every client shares the proxy's address, and its failures count together.
   */
  trustedProxies?: readonly string[]
  /** The client address of a request (default: the peer recorded by {@link rememberClientAddress}). */
  clientAddress?: (request: Request) => string | null
  /** Log lines of refused requests (4xx) written per second at most (default 20). */
  refusalLogLinesPerSecond?: number
}

export { rememberClientAddress }

/** What the log line of one delivery is built from, kept per request until it is answered. */
interface Delivery {
  endpoint: string
  start: number
  event: string | null
  telerivetId: string | null
  secret: string | null
  handlerError: string | null
}

const FORM_TYPE = 'application/x-www-form-urlencoded'
const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_TYPES)
/** Longest endpoint id written to a log line (a refused id may be of any length). */
const MAX_LOGGED_ID_LENGTH = 80
const TEXT = { 'content-type': 'text/plain; charset=utf-8' }
/** `/hooks/<one segment>`: the path of a delivery, whatever its id. */
const DELIVERY_PATH = /^\/hooks\/[^/]+$/
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const ERROR_BODY: Record<WebhookError['code'], string> = {
  invalid_secret: 'Invalid webhook secret',
  // The same answer for all three: a stranger learns nothing about which endpoints exist.
  missing_secret: 'Invalid webhook secret',
  unknown_endpoint: 'Invalid webhook secret',
  bad_endpoint_id: 'Not found',
  body_timeout: 'Request body not received in time',
  rate_limited: 'Too many failed attempts, retry later',
  body_too_large: 'Request body too large',
  unsupported_media_type: `Content-Type must be ${FORM_TYPE}`,
  bad_request: 'Unparseable request body',
  deadline_exceeded: 'Not stored in time, retry later',
  store_failed: 'Storage unavailable, retry later',
}

const OUTCOME: Record<WebhookError['code'], DeliveryOutcome> = {
  invalid_secret: 'forbidden',
  missing_secret: 'forbidden',
  unknown_endpoint: 'forbidden',
  bad_endpoint_id: 'not_found',
  body_timeout: 'bad_request',
  rate_limited: 'forbidden',
  body_too_large: 'body_too_large',
  unsupported_media_type: 'unsupported_media_type',
  bad_request: 'bad_request',
  deadline_exceeded: 'unavailable',
  store_failed: 'unavailable',
}

/** Keeps the metrics label set bounded whatever `event` a sender makes up. */
function eventLabel(event: string | null): string {
  if (event === null) return 'none'
  return KNOWN_EVENTS.has(event) ? event : 'unknown'
}

function isFormContentType(header: string | null): boolean {
  if (!header) return false
  const [type, ...params] = header.split(';')
  if (type?.trim().toLowerCase() !== FORM_TYPE) return false
  for (const param of params) {
    const [name, value] = param.split('=')
    if (name?.trim().toLowerCase() !== 'charset') continue
    const charset = value?.trim().replace(/^"|"$/g, '').toLowerCase()
    if (charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') return false
  }
  return true
}

/**
 * Reads at most `limit` bytes, whatever Content-Length claims (it may be absent or wrong), within
 * `timeoutMs` (past the limit, a chunked body is read on and dropped, at most `DRAIN_LIMIT` more,
 * so that its 413 reaches the client): a body that stops arriving (a slow-loris, a Content-Length larger than what is
 * sent) is a 408, and a connection closed mid-body a 400, never a request held open for ever.
 */
async function readBody(request: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WebhookError('body_timeout', `body not received within ${timeoutMs} ms`)),
      Math.max(0, timeoutMs),
    )
  })
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    if (request.headers.has('content-length')) {
      // Declared and within the limit (checked before): one read, then the actual size.
      let buffer: ArrayBuffer
      try {
        buffer = await Promise.race([request.arrayBuffer(), timeout])
      } catch (error) {
        if (error instanceof WebhookError) throw error
        throw new WebhookError('bad_request', 'body not received in full', { cause: error })
      }
      if (buffer.byteLength > limit) {
        throw new WebhookError('body_too_large', `body over ${limit} bytes`)
      }
      return new Uint8Array(buffer)
    }
    const stream = request.body
    if (!stream) return new Uint8Array(0)
    const tooLarge = () => new WebhookError('body_too_large', `body over ${limit} bytes`)
    for (;;) {
      reader ??= stream.getReader()
      let next: Awaited<ReturnType<typeof reader.read>>
      try {
        next = await Promise.race([reader.read(), timeout])
      } catch (error) {
        // Past the limit, a body that stops or breaks off is still too large, not late.
        if (total > limit) throw tooLarge()
        if (error instanceof WebhookError) throw error
        throw new WebhookError('bad_request', 'body not received in full', { cause: error })
      }
      if (next.done) break
      total += next.value.byteLength
      // Past the limit the rest is read and dropped, up to DRAIN_LIMIT more: answered while the
      // client is still sending, the 413 was lost in the reset of the connection closed on unread
      // bytes (seen by the hostile drill as "closed").
      if (total > limit + DRAIN_LIMIT) throw tooLarge()
      if (total <= limit) chunks.push(next.value)
    }
    if (total > limit) throw tooLarge()
  } catch (error) {
    reader?.cancel().catch(() => {})
    throw error
  } finally {
    clearTimeout(timer)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

function stringField(form: FormObject, key: string): string | null {
  const value = form[key]
  return typeof value === 'string' ? value : null
}

/** Shorter `secret` values are not scrubbed: they would garble every line they occur in. */
const MIN_SCRUBBED_SECRET = 6

/** Removes the secret from text that may echo the request (error messages of user code). */
function scrub(text: string, secret: string | null): string {
  return secret && secret.length >= MIN_SCRUBBED_SECRET && text.includes(secret)
    ? text.split(secret).join('[redacted]')
    : text
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What `GET /metrics` answers: the app's counters and the engine's group-commit counters. */
export interface MetricsSource {
  metrics: WebhookMetrics
  engine: Pick<Engine, 'batchStats'>
}

/**
 * The `GET /metrics` handler of a webhook service, to be served where only operators reach it
 * (the admin port); the public port serves it only with `publicMetrics`.
 * @example adminApp.get('/metrics', metricsHandler(parts))
 */
export function metricsHandler(source: MetricsSource): () => Response {
  return () =>
    new Response(source.metrics.render() + renderBatchStats(source.engine.batchStats), {
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
    })
}

/**
 * Builds the webhook app: `POST /hooks/:endpointId`, `POST /webhook` (single-project mode),
 * `GET /healthz`, and `GET /metrics` when `publicMetrics`. A 200 is answered only once the engine
 * has committed.
 *
 * Before any work, a request is refused when its client address has used up its failed attempts
 * (429), when it has no usable Host or its path is ambiguous (400). A delivery's endpoint id must
 * have the endpoint shape (else 404) and its top-level `secret`, found by a scan of the raw body,
 * must match before the body is parsed (else 403).
 * @example
 * const app = createWebhookApp({ engine, database, singleProject: true })
 * const res = await app.handle(new Request('http://x/webhook', { method: 'POST', headers, body }))
 */
export function createWebhookApp(deps: WebhookAppDeps) {
  const { engine, database } = deps
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT
  const deadlineMs = deps.deadlineMs ?? DEFAULT_DEADLINE_MS
  const healthTimeoutMs = deps.healthTimeoutMs ?? 2000
  const logger = deps.logger ?? createJsonLogger()
  const metrics = deps.metrics ?? createMetrics()
  const limiter = deps.failureLimits === false ? null : createFailureLimiter(deps.failureLimits)
  const trusted = new Set(deps.trustedProxies ?? [])
  const clientAddress = deps.clientAddress ?? ((r: Request) => clientAddressOf(r, trusted))
  const deliveries = new WeakMap<Request, Delivery>()
  const clients = new WeakMap<Request, string>()
  // Refusals (4xx) are logged up to a number per second, so that a flood of them cannot turn
  // into a flood of log lines; the metrics count every one, and the gap is logged as a count.
  const refusalLines = { second: 0, left: 0, suppressed: 0 }
  const refusalLinesPerSecond = deps.refusalLogLinesPerSecond ?? 20
  function logRefusal(line: Record<string, unknown>): void {
    const second = Math.floor(Date.now() / 1000)
    if (second !== refusalLines.second) {
      if (refusalLines.suppressed > 0) {
        logger.warn({ msg: 'refusals not logged', count: refusalLines.suppressed })
      }
      refusalLines.second = second
      refusalLines.left = refusalLinesPerSecond
      refusalLines.suppressed = 0
    }
    if (refusalLines.left > 0) {
      refusalLines.left -= 1
      logger.warn(line)
    } else {
      refusalLines.suppressed += 1
    }
  }

  /** Counts one failed attempt of the request's client; logs once when it reaches its limit. */
  function failed(request: Request): void {
    const address = clients.get(request)
    if (!limiter || address === undefined) return
    if (limiter.fail(address)) {
      logger.warn({
        msg: 'client rate-limited',
        client: address,
        retry_after_s: limiter.retryAfter(address),
      })
    }
  }

  function finish(
    delivery: Delivery,
    outcome: DeliveryOutcome,
    status: number,
    extra: Record<string, unknown> = {},
  ): void {
    const seconds = (performance.now() - delivery.start) / 1000
    metrics.observeDelivery({ event: eventLabel(delivery.event), outcome, seconds })
    const line: Record<string, unknown> = {
      msg: 'delivery',
      endpoint: delivery.endpoint,
      event: delivery.event,
      telerivet_id: delivery.telerivetId,
      outcome,
      status,
      duration_ms: Math.round(seconds * 1e5) / 100,
      ...extra,
    }
    if (typeof delivery.handlerError === 'string') line.handler_error = delivery.handlerError
    for (const [key, value] of Object.entries(line)) {
      if (typeof value === 'string') line[key] = scrub(value, delivery.secret)
    }
    if (status >= 500) logger.error(line)
    else if (status >= 400) logRefusal(line)
    else if (line.handler_error !== undefined) logger.warn(line)
    else logger.info(line)
  }

  /** `work` or a 503 once `remainingMs` have passed; a database failure is a 503 too. */
  async function withinDeadline<T>(work: Promise<T>, remainingMs: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new WebhookError('deadline_exceeded', `not committed within ${deadlineMs} ms`)),
        Math.max(0, remainingMs),
      )
    })
    // The store may still commit after the 503; Telerivet's retry then reads as a duplicate.
    work.catch(() => {})
    try {
      return await Promise.race([work, deadline])
    } catch (error) {
      if (error instanceof WebhookError) throw error
      throw new WebhookError('store_failed', messageOf(error), { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  const remaining = (delivery: Delivery) => deadlineMs - (performance.now() - delivery.start)

  /** The endpoint when `secret` is its secret; else a 403 that says (in the log) why. */
  async function authenticate(delivery: Delivery, secret: string): Promise<Endpoint> {
    if (engine.verifyEndpoint) {
      const check = await engine.verifyEndpoint(delivery.endpoint, secret)
      if (check.endpoint) return check.endpoint
      throw check.reason === 'unknown_endpoint'
        ? new WebhookError('unknown_endpoint', 'no such endpoint, or disabled')
        : new WebhookError('invalid_secret', 'wrong secret')
    }
    const endpoint = await engine.authenticate(delivery.endpoint, secret)
    if (!endpoint) throw new WebhookError('invalid_secret', 'wrong secret or unknown endpoint')
    return endpoint
  }

  async function receive(request: Request, endpointId: string): Promise<Response> {
    const delivery: Delivery = {
      endpoint: endpointId.slice(0, MAX_LOGGED_ID_LENGTH),
      start: performance.now(),
      event: null,
      telerivetId: null,
      secret: null,
      handlerError: null,
    }
    deliveries.set(request, delivery)
    // Not of the shape Telehook gives its ids (a NUL byte, a slash, 500 characters): no such
    // endpoint can exist, and the database is not asked.
    if (!isEndpointId(endpointId)) {
      throw new WebhookError('bad_endpoint_id', 'not an endpoint id')
    }

    const declared = request.headers.get('content-length')
    if (declared !== null && Number(declared) > bodyLimit) {
      throw new WebhookError('body_too_large', `Content-Length ${declared} over ${bodyLimit}`)
    }
    if (!isFormContentType(request.headers.get('content-type'))) {
      throw new WebhookError('unsupported_media_type', 'not a form body')
    }
    const bytes = await readBody(request, bodyLimit, remaining(delivery))
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      throw new WebhookError('bad_request', 'body is not valid UTF-8')
    }
    // The secret first, from a scan of the raw body: a stranger's body is never parsed.
    const secret = scanSecret(text)
    delivery.secret = secret
    if (!secret) throw new WebhookError('missing_secret', 'no secret parameter')
    const endpoint = await withinDeadline(authenticate(delivery, secret), remaining(delivery))

    let form: FormObject
    try {
      form = parseForm(text, deps.formLimits)
    } catch (error) {
      if (!(error instanceof FormError)) throw error
      throw new WebhookError(error.status === 413 ? 'body_too_large' : 'bad_request', error.code)
    }
    delivery.event = stringField(form, 'event')?.slice(0, 64) ?? null
    delivery.telerivetId = stringField(form, 'id')?.slice(0, 64) ?? null
    // The parsed secret must be the one checked (a later `s%65cret=` or `secret[]=` differs).
    if (stringField(form, 'secret') !== secret) {
      throw new WebhookError('invalid_secret', 'the parsed secret is not the one checked')
    }

    const result = await withinDeadline(engine.ingest(endpoint, form), remaining(delivery))
    delivery.event = result.event ?? delivery.event
    delivery.telerivetId = result.telerivetId ?? delivery.telerivetId
    delivery.handlerError = result.handlerError ?? null
    if (delivery.handlerError !== null) metrics.handlerError(eventLabel(delivery.event))
    if (!result.valid && result.outcome === 'stored')
      metrics.invalidEvent(eventLabel(delivery.event))
    const response =
      result.reply === null || result.reply === undefined
        ? new Response(null, { status: 200 })
        : new Response(JSON.stringify(result.reply), {
            status: 200,
            headers: { 'content-type': 'application/json' },
          })
    deliveries.delete(request)
    finish(delivery, result.outcome, 200, {
      valid: result.valid,
      event_id: result.eventId,
      ...(typeof result.handlerMs === 'number' && result.handlerMs > 0
        ? { handler_ms: Math.round(result.handlerMs * 100) / 100 }
        : {}),
    })
    return response
  }

  const app = new Elysia({ name: 'telehook-webhook' })
    // Before routing: a client out of failed attempts, and requests with no single meaning.
    .onRequest(({ request }) => {
      const address = clientAddress(request)
      if (address !== null) clients.set(request, address)
      if (limiter && address !== null) {
        const wait = limiter.retryAfter(address)
        if (wait !== null) {
          metrics.refused('rate_limited')
          return new Response(ERROR_BODY.rate_limited, {
            status: 429,
            headers: { ...TEXT, 'retry-after': String(wait) },
          })
        }
      }
      const verdict = inspectRequest(request)
      if (verdict.kind === 'refuse') {
        metrics.refused(verdict.code)
        failed(request)
        logRefusal({
          msg: 'request refused',
          code: verdict.code,
          status: verdict.status,
          path: verdict.path.slice(0, 200),
          ...(address === null ? {} : { client: address }),
        })
        return new Response(TARGET_MESSAGE[verdict.code], { status: verdict.status, headers: TEXT })
      }
    })
    // Elysia takes a thrown error's own `code` as the code it reports; ours are WebhookErrorCode.
    .onError(({ code, error, request }) => {
      const delivery = deliveries.get(request)
      if (error instanceof WebhookError) {
        const headers: Record<string, string> = { ...TEXT }
        if (error.status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS)
        if (error.status < 500) failed(request)
        if (delivery) {
          deliveries.delete(request)
          finish(delivery, OUTCOME[error.code], error.status, {
            code: error.code,
            ...(error.status >= 500 || error.code === 'bad_request'
              ? { error: error.message }
              : {}),
          })
        }
        return new Response(ERROR_BODY[error.code], { status: error.status, headers })
      }
      if (code === 'NOT_FOUND') {
        failed(request)
        // A delivery path asked with another method: say which one it takes.
        const path = routerPath(request.url)
        if (
          request.method !== 'POST' &&
          (DELIVERY_PATH.test(path) || (deps.singleProject && path === '/webhook'))
        ) {
          metrics.refused('method_not_allowed')
          return new Response('Method not allowed', {
            status: 405,
            headers: { ...TEXT, allow: 'POST' },
          })
        }
        metrics.refused('not_found')
        return new Response('Not found', { status: 404, headers: TEXT })
      }
      // Anything else is a bug: log the message (never the stack), answer without details.
      if (delivery) {
        deliveries.delete(request)
        finish(delivery, 'error', 500, { code: 'internal', error: messageOf(error) })
      } else {
        logger.error({ msg: 'request failed', code: String(code), error: messageOf(error) })
      }
      return new Response('Internal error', { status: 500, headers: TEXT })
    })
    // Elysia hands over null for a parameter that is not valid percent-encoding: no such endpoint.
    .post(
      '/hooks/:endpointId',
      ({ request, params }) => receive(request, (params.endpointId as string | null) ?? ''),
      { parse: 'none' },
    )
    .get('/healthz', async () => {
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        await Promise.race([
          database.ping(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('ping timed out')), healthTimeoutMs)
          }),
        ])
        return Response.json({ status: 'ok', driver: database.driver })
      } catch (error) {
        logger.warn({ msg: 'health check failed', error: messageOf(error) })
        return Response.json({ status: 'unavailable', driver: database.driver }, { status: 503 })
      } finally {
        clearTimeout(timer)
      }
    })
  if (deps.publicMetrics) app.get('/metrics', metricsHandler({ metrics, engine }))
  if (deps.singleProject) {
    app.post('/webhook', ({ request }) => receive(request, SINGLE_ENDPOINT_ID), { parse: 'none' })
  }
  return app
}

/** The type of the app createWebhookApp returns. */
export type WebhookApp = ReturnType<typeof createWebhookApp>
