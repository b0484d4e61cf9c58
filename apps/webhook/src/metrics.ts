/**
 * @module Prometheus metrics of the webhook app, rendered in the text exposition format 0.0.4.
 *
 * Hand-written rather than prom-client: four counters and one histogram are ~100 lines, need no
 * Node-only APIs (the app must also serve under Deno), and keep no process-global registry that
 * two apps in one process (tests, `telehook serve`) would share by accident.
 */
import type { BatchStats } from '@telehook/engine'

/** Seconds; tight at the low end where commits land, and up to Telerivet's 10 s limit. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 8, 10] as const

/** What happened to one POST, as a metrics label and a log field. */
export type DeliveryOutcome =
  | 'stored'
  | 'duplicate'
  | 'forbidden'
  | 'not_found'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'bad_request'
  | 'unavailable'
  | 'error'

/** Counters and the latency histogram of one webhook app. */
export interface WebhookMetrics {
  /** Records one delivery; `event` must already be a bounded label (see eventLabel). */
  observeDelivery(d: { event: string; outcome: DeliveryOutcome; seconds: number }): void
  /** Counts a synchronous handler that threw or overran its deadline. */
  handlerError(event: string): void
  /** Counts an event stored with valid = false. */
  invalidEvent(event: string): void
  /** Counts a request refused before it became a delivery (rate-limited, bad Host, no route…). */
  refused(code: string): void
  /** The exposition text. */
  render(): string
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function labels(obj: Record<string, string>): string {
  const parts = Object.entries(obj).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length ? `{${parts.join(',')}}` : ''
}

class Counter {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(l: Record<string, string> = {}, by = 1): void {
    const key = JSON.stringify(l)
    const entry = this.values.get(key)
    if (entry) entry.value += by
    else this.values.set(key, { labels: l, value: by })
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const { labels: l, value } of this.values.values()) {
      lines.push(`${this.name}${labels(l)} ${value}`)
    }
    return lines.join('\n')
  }
}

class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0)
  private sum = 0
  private count = 0
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  observe(seconds: number): void {
    this.sum += seconds
    this.count += 1
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= (LATENCY_BUCKETS[i] as number)) this.counts[i] = (this.counts[i] as number) + 1
    }
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    LATENCY_BUCKETS.forEach((le, i) => {
      lines.push(`${this.name}_bucket{le="${le}"} ${this.counts[i]}`)
    })
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`)
    lines.push(`${this.name}_sum ${this.sum}`)
    lines.push(`${this.name}_count ${this.count}`)
    return lines.join('\n')
  }
}

/**
 * Renders the engine's group-commit counters; empty when the engine does not batch (PGlite).
 * @example renderBatchStats(engine.batchStats) // '# HELP telehook_engine_batches_total …'
 */
export function renderBatchStats(stats: Readonly<BatchStats> | null | undefined): string {
  if (!stats) return ''
  return [
    '# HELP telehook_engine_batches_total Transactions that committed two or more deliveries together.',
    '# TYPE telehook_engine_batches_total counter',
    `telehook_engine_batches_total ${stats.batches}`,
    '# HELP telehook_engine_batch_retries_total Batches rolled back and retried delivery by delivery.',
    '# TYPE telehook_engine_batch_retries_total counter',
    `telehook_engine_batch_retries_total ${stats.retried}`,
    '',
  ].join('\n')
}

/**
 * Creates an empty metrics registry for one webhook app.
 * @example const metrics = createMetrics(); createWebhookApp({ engine, database, metrics })
 */
export function createMetrics(): WebhookMetrics {
  const deliveries = new Counter(
    'telehook_webhook_deliveries_total',
    'Webhook POSTs answered, by event type and outcome.',
  )
  const duplicates = new Counter(
    'telehook_webhook_duplicates_total',
    'Deliveries of an event that was already stored, by event type.',
  )
  const forbidden = new Counter(
    'telehook_webhook_forbidden_total',
    'Deliveries refused with 403 (wrong or missing secret, unknown or disabled endpoint).',
  )
  const handlerErrors = new Counter(
    'telehook_webhook_handler_errors_total',
    'Synchronous handlers that threw or overran their deadline, by event type.',
  )
  const invalid = new Counter(
    'telehook_webhook_invalid_events_total',
    'Events stored with valid = false (unknown type or failed validation), by event type.',
  )
  const refused = new Counter(
    'telehook_webhook_refused_requests_total',
    'Requests refused before they became a delivery, by code (rate_limited, bad_host, ambiguous_path, bad_url, not_found, method_not_allowed).',
  )
  const latency = new Histogram(
    'telehook_webhook_request_duration_seconds',
    'Time from receiving a webhook POST to answering it.',
  )
  // Declared up front so that a scrape shows zeroes rather than missing series.
  forbidden.inc({}, 0)
  return {
    observeDelivery({ event, outcome, seconds }) {
      deliveries.inc({ event, outcome })
      if (outcome === 'duplicate') duplicates.inc({ event })
      if (outcome === 'forbidden') forbidden.inc()
      latency.observe(seconds)
    },
    handlerError(event) {
      handlerErrors.inc({ event })
    },
    invalidEvent(event) {
      invalid.inc({ event })
    },
    refused(code) {
      refused.inc({ code })
    },
    render() {
      return `${[deliveries, duplicates, forbidden, handlerErrors, invalid, refused, latency].map((m) => m.render()).join('\n')}\n`
    },
  }
}
