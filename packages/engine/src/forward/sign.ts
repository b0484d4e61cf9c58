/** @module Standard Webhooks signatures of forwarded requests, made with the `standardwebhooks` package. */
import { Webhook } from 'standardwebhooks'

export interface SignInput {
  /** `webhook-id`: Telehook's event id, the same on every attempt so receivers can deduplicate. */
  id: string
  /** The exact bytes sent as the body. */
  body: string
  /** The current secret first; during a rotation's grace period also the previous one. */
  secrets: readonly string[]
  /** `webhook-timestamp` (default now): the time of this attempt, checked by verifiers. */
  timestamp?: Date
}

/**
 * The three Standard Webhooks headers. With several secrets, `webhook-signature` carries one
 * `v1,<base64>` per secret, space-separated: a receiver holding either secret accepts the request.
 * @example
 * const headers = signatureHeaders({ id: eventId, body, secrets: ['whsec_…'] })
 */
export function signatureHeaders(input: SignInput): Record<string, string> {
  if (input.secrets.length === 0) throw new Error('no signing secret')
  const timestamp = input.timestamp ?? new Date()
  const signatures = input.secrets.map((s) => new Webhook(s).sign(input.id, timestamp, input.body))
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  }
}
