/**
 * @module rest
 * The enumerations of Telerivet's REST API that the client, the simulator and the admin API all
 * need (spec/telerivet-rest-api.md). Plain lists, so each user builds its own schema around them:
 * the client tolerates what Telerivet answers, the simulator validates what it is sent.
 */

/** The `service_type` values `createService` accepts. */
export const SERVICE_TYPES = [
  'incoming_message_webhook',
  'messaging_poll',
  'incoming_message_script',
  'contact_script',
  'message_script',
  'data_row_script',
  'webhook_script',
  'voice_script',
  'ussd_script',
  'project_script',
  'custom_template_instance',
] as const
export type ServiceType = (typeof SERVICE_TYPES)[number]

/** A service's `message_types` filter (`text` covers sms, mms and chat). */
export const SERVICE_MESSAGE_TYPES = ['text', 'call', 'sms', 'mms', 'ussd_session', 'chat'] as const
export type ServiceMessageType = (typeof SERVICE_MESSAGE_TYPES)[number]

/** `apply_mode`: run only on messages no earlier service handled (default), or always. */
export const APPLY_MODES = ['unhandled', 'always'] as const
export type ApplyMode = (typeof APPLY_MODES)[number]

/** `contact_number_filter`: long numbers only (default), or every sender. */
export const CONTACT_NUMBER_FILTERS = ['long_number', 'all'] as const
export type ContactNumberFilter = (typeof CONTACT_NUMBER_FILTERS)[number]

/** A voice service's `direction`. */
export const SERVICE_DIRECTIONS = ['incoming', 'outgoing', 'both'] as const
export type ServiceDirection = (typeof SERVICE_DIRECTIONS)[number]

/** The `context` filter of `queryServices` (the keys of a service's `contexts`). */
export const SERVICE_CONTEXTS = [
  'message',
  'call',
  'ussd_session',
  'row',
  'contact',
  'project',
] as const
export type ServiceContext = (typeof SERVICE_CONTEXTS)[number]

/** The only ports Telerivet delivers webhooks to. */
export const WEBHOOK_PORTS: readonly number[] = [80, 443, 8000, 8080, 8443]

/**
 * The port a webhook URL is delivered to (the scheme's default when none is written), or null
 * when `url` is not an absolute http(s) URL.
 */
export function webhookPort(url: string): number | null {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return null
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
  return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80
}
