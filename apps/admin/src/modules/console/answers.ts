/**
 * @module The webhook's answers by status class (2xx, 4xx, 5xx), read from the Prometheus text the
 * admin app is given (`metrics`): rejected deliveries are never stored, so the overview counts them
 * from this process's counters.
 */

/** Counts of the webhook's answers since the process started, by status class. */
export interface AnswerClasses {
  '2xx': number
  '4xx': number
  '5xx': number
}

/** The webhook's delivery outcomes (apps/webhook/src/metrics.ts) by the status class they answer. */
const CLASS_OF: Record<string, keyof AnswerClasses> = {
  stored: '2xx',
  duplicate: '2xx',
  forbidden: '4xx',
  not_found: '4xx',
  body_too_large: '4xx',
  unsupported_media_type: '4xx',
  bad_request: '4xx',
  unavailable: '5xx',
  error: '5xx',
}

const LINE = /^telehook_webhook_deliveries_total\{[^}]*outcome="([a-z_]+)"[^}]*\}\s+([0-9.e+]+)\s*$/

/** Sums `telehook_webhook_deliveries_total` by status class; null when there is no such series. */
export function answerClasses(prometheusText: string): AnswerClasses | null {
  const out: AnswerClasses = { '2xx': 0, '4xx': 0, '5xx': 0 }
  let seen = false
  for (const line of prometheusText.split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const cls = CLASS_OF[m[1] as string]
    if (!cls) continue
    out[cls] += Number(m[2])
    seen = true
  }
  return seen ? out : null
}
