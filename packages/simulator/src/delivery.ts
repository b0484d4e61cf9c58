/**
 * @module delivery
 * Webhook delivery with Telerivet's rules: a POST of the form body; only a 200 counts; no answer
 * within 10 s is a failure; redirects are failures (never followed); a failed notification is
 * retried on a back-off schedule for up to 24 h after the first attempt, then given up. Every
 * attempt is recorded.
 */
import type { Scheduler } from './clock.ts'
import { newId } from './ids.ts'
import type { Attempt, Delivery } from './model.ts'

/** Delays between attempts (simulated ms); the last one repeats until the horizon. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  60_000, // 1 min
  5 * 60_000,
  15 * 60_000,
  30 * 60_000,
  60 * 60_000,
  2 * 3_600_000,
  4 * 3_600_000,
]

/** How long Telerivet keeps retrying after the first attempt. */
export const DEFAULT_RETRY_HORIZON_MS = 24 * 3_600_000

/** Telerivet's webhook timeout. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000

const MAX_RECORDED_BODY = 64 * 1024

/** What one attempt produced; `ok` only for a 200. */
export interface AttemptResult extends Attempt {
  ok: boolean
}

/** The fetch the deliverer calls (any web-standard fetch). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>

/** Options of {@link Deliverer}. */
export interface DelivererOptions {
  scheduler: Scheduler
  fetch: FetchFn
  timeoutMs: number
  retryDelaysMs: readonly number[]
  retryHorizonMs: number
  /** Called after every attempt (for logs). */
  onAttempt?: (delivery: Delivery, attempt: Attempt) => void
}

/** Called after each successful (200) attempt, with the response body. */
export type OnDelivered = (delivery: Delivery, result: AttemptResult) => Promise<void>

/** What to deliver. */
export interface DeliveryRequest {
  event: string
  projectId: string
  serviceId: string | null
  target: Delivery['target']
  url: string
  objectId: string
  body: string
}

/** Sends webhook notifications and retries them. */
export class Deliverer {
  readonly all: Delivery[] = []
  private readonly hooks = new Map<string, OnDelivered>()

  constructor(private readonly opts: DelivererOptions) {}

  /**
   * Makes the first attempt now and answers with its result; failures are retried in simulated
   * time. `onDelivered` runs after whichever attempt gets the 200.
   */
  async send(
    req: DeliveryRequest,
    onDelivered?: OnDelivered,
  ): Promise<{ delivery: Delivery; result: AttemptResult }> {
    const delivery: Delivery = {
      id: newId('DL'),
      event: req.event,
      project_id: req.projectId,
      service_id: req.serviceId,
      target: req.target,
      url: req.url,
      object_id: req.objectId,
      body: req.body,
      status: 'pending',
      attempts: [],
      created_at: this.opts.scheduler.now(),
      next_attempt_at: null,
    }
    this.all.push(delivery)
    if (onDelivered !== undefined) this.hooks.set(delivery.id, onDelivered)
    const result = await this.attempt(delivery)
    return { delivery, result }
  }

  private async attempt(delivery: Delivery): Promise<AttemptResult> {
    const time = this.opts.scheduler.now()
    const result = await postForm(
      this.opts.fetch,
      delivery.url,
      delivery.body,
      this.opts.scheduler.toReal(this.opts.timeoutMs),
    )
    const attempt: Attempt = {
      number: delivery.attempts.length + 1,
      time,
      http_status: result.http_status,
      duration_ms: result.duration_ms,
      response_body: result.response_body,
      response_content_type: result.response_content_type,
      error: result.error,
    }
    delivery.attempts.push(attempt)
    const full: AttemptResult = { ...attempt, ok: result.ok }
    if (result.ok) {
      delivery.status = 'delivered'
      delivery.next_attempt_at = null
      // Told after the delivery's state is updated, so that a log line shows this attempt's outcome.
      this.opts.onAttempt?.(delivery, attempt)
      const hook = this.hooks.get(delivery.id)
      this.hooks.delete(delivery.id)
      if (hook !== undefined) await hook(delivery, full)
      return full
    }
    const delays = this.opts.retryDelaysMs
    const delay = delays[Math.min(delivery.attempts.length - 1, delays.length - 1)] ?? 60_000
    const nextAt = time + delay
    if (nextAt - delivery.created_at > this.opts.retryHorizonMs) {
      delivery.status = 'failed'
      delivery.next_attempt_at = null
      this.hooks.delete(delivery.id)
    } else {
      delivery.next_attempt_at = nextAt
      this.opts.scheduler.schedule(nextAt - this.opts.scheduler.now(), async () => {
        if (delivery.status === 'pending') await this.attempt(delivery)
      })
    }
    this.opts.onAttempt?.(delivery, attempt)
    return full
  }
}

/** One POST with Telerivet's success rule. Never throws. */
export async function postForm(
  fetchFn: FetchFn,
  url: string,
  body: string,
  timeoutRealMs: number,
): Promise<Omit<AttemptResult, 'number' | 'time'>> {
  const started = performance.now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutRealMs)
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Telerivet-Webhook (telehook simulator)',
      },
      body,
      redirect: 'manual',
      signal: controller.signal,
    })
    const text = await res.text()
    const responseBody = text.length > MAX_RECORDED_BODY ? text.slice(0, MAX_RECORDED_BODY) : text
    const ok = res.status === 200
    let error: string | null = null
    if (!ok) {
      const location = res.headers.get('location')
      error =
        res.status >= 300 && res.status < 400
          ? `redirect (HTTP ${res.status}${location ? ` to ${location}` : ''}) is not followed`
          : `HTTP ${res.status}`
    }
    return {
      ok,
      http_status: res.status,
      duration_ms: elapsed(),
      response_body: responseBody,
      response_content_type: res.headers.get('content-type'),
      error,
    }
  } catch (e) {
    const timedOut = controller.signal.aborted
    return {
      ok: false,
      http_status: null,
      duration_ms: elapsed(),
      response_body: null,
      response_content_type: null,
      error: timedOut
        ? 'timed out'
        : `request failed: ${e instanceof Error ? e.message : String(e)}`,
    }
  } finally {
    clearTimeout(timer)
  }
}
