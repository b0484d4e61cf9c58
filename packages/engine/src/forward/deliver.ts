/** @module One HTTP attempt to a destination, and what its outcome means for the job. */
import { errorMessage } from '../logger'

/** How many bytes of a response body are kept with the attempt. */
export const RESPONSE_PREVIEW_BYTES = 1024

export interface AttemptInput {
  url: string
  body: string
  headers: Record<string, string>
  /** The whole attempt (connect, send, response headers, first bytes) is bounded by this. */
  timeoutMs: number
  /** Aborts the attempt from outside (the worker stops). */
  signal?: AbortSignal
}

/** What happened on the wire. */
export interface AttemptResult {
  /** HTTP status; null when no response arrived (timeout, refused connection, DNS, TLS…). */
  status: number | null
  /** Time to the response headers, or to the failure. */
  latencyMs: number
  /** The first {@link RESPONSE_PREVIEW_BYTES} bytes of the body, decoded as UTF-8. */
  responseBody: string | null
  /** Why no usable response came; null when a response came. */
  error: string | null
  /** The `Retry-After` header as sent (429 and 503 usually carry it). */
  retryAfter: string | null
}

/** Thrown by an attempt aborted through its `signal` (not a failure of the destination). */
export class AttemptAborted extends Error {
  override name = 'AttemptAborted'
}

/**
 * Posts `body` once: no redirect is followed, nothing is retried here. Never throws for a failure
 * of the destination (it is in the result); throws {@link AttemptAborted} when `signal` aborts.
 * @example
 * const r = await attemptDelivery({ url, body, headers, timeoutMs: 15_000 })
 */
export async function attemptDelivery(input: AttemptInput): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(input.timeoutMs)
  const signal = input.signal ? AbortSignal.any([timeout, input.signal]) : timeout
  const started = performance.now()
  let response: Response
  try {
    response = await fetch(input.url, {
      method: 'POST',
      body: input.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Telehook',
        ...input.headers,
      },
      redirect: 'manual',
      signal,
    })
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started)
    if (input.signal?.aborted) throw new AttemptAborted(errorMessage(input.signal.reason))
    const message = timeout.aborted
      ? `no response within ${input.timeoutMs} ms`
      : `request failed: ${errorMessage(error)}`
    return { status: null, latencyMs, responseBody: null, error: message, retryAfter: null }
  }
  const latencyMs = Math.round(performance.now() - started)
  const responseBody = await readPreview(response)
  if (input.signal?.aborted) throw new AttemptAborted(errorMessage(input.signal.reason))
  return {
    status: response.status,
    latencyMs,
    responseBody,
    error: null,
    retryAfter: response.headers.get('retry-after'),
  }
}

/** Reads at most the first bytes of the body, then lets go of the rest. */
async function readPreview(response: Response): Promise<string | null> {
  if (!response.body) return null
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < RESPONSE_PREVIEW_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.length
    }
  } catch {
    // A body cut short (timeout, reset) still leaves the status, which decides the outcome.
  } finally {
    reader.cancel().catch(() => {})
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    bytes.set(c, at)
    at += c.length
  }
  // A multi-byte character cut at the limit becomes U+FFFD rather than an error.
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_PREVIEW_BYTES))
}

/**
 * What an attempt means: `done` (2xx); `retry` (no response, 408, 429, 5xx); `gone` (410: the
 * destination is disabled, the job dead); `dead` (any other status: 3xx, since redirects are not
 * followed, and 4xx, which sending the same request again cannot fix).
 */
export type Outcome = 'done' | 'retry' | 'dead' | 'gone'

export function classify(result: Pick<AttemptResult, 'status'>): Outcome {
  const s = result.status
  if (s === null) return 'retry'
  if (s >= 200 && s < 300) return 'done'
  if (s === 410) return 'gone'
  if (s === 408 || s === 429 || s >= 500) return 'retry'
  return 'dead'
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; null when absent or
 * unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  if (Number.isNaN(at)) return null
  return Math.max(0, at - now)
}

/**
 * Exponential backoff with jitter: `baseMs` doubling per attempt up to `capMs`, with jitter
 * taking 0–50 % off, so retries of many jobs that failed together spread out.
 */
export function forwardBackoff(baseMs = 2000, capMs = 3_600_000): (attempt: number) => number {
  return (attempt) => {
    const full = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1))
    return Math.round(full * (1 - Math.random() * 0.5))
  }
}

/** The default delay before retry number `attempt` (1-based): 2 s doubling up to 1 h, jittered. */
export const defaultForwardBackoffMs = forwardBackoff()

export interface RetryPlan {
  /** The attempt number that just failed (1-based). */
  attempt: number
  /** When the retry window of the job started. */
  firstQueuedAt: Date
  /** How long after `firstQueuedAt` retries stop. */
  maxAgeMs: number
  /** The destination's `Retry-After`, in ms, when it sent one. */
  retryAfterMs: number | null
  backoffMs: (attempt: number) => number
  now?: number
}

/**
 * When to try again: the backoff delay, or the destination's `Retry-After` when that is later.
 * Null when that time falls past the retry window: the job is dead.
 */
export function nextAttemptAt(plan: RetryPlan): Date | null {
  const now = plan.now ?? Date.now()
  const delay = Math.max(plan.backoffMs(plan.attempt), plan.retryAfterMs ?? 0)
  const at = now + delay
  if (at > plan.firstQueuedAt.getTime() + plan.maxAgeMs) return null
  return new Date(at)
}
