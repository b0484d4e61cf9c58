/**
 * @module incoming
 * A phone user's message to the project: it goes to the active `incoming_message_webhook`
 * services in Telerivet's order and by its rules (filters, apply_mode, fall-through), and each
 * reply is acted upon (see `replies.ts`).
 */
import type { WebhookReply } from '@telehook/protocol'
import { contactByNumber, newContact, notifyContact } from './contacts.ts'
import type { AttemptResult } from './delivery.ts'
import { invalidParam, SimError } from './errors.ts'
import { newMessage } from './messages.ts'
import type { Contact, Delivery, Media, Message, Phone, Service } from './model.ts'
import { encodePayload, incomingMessageParams } from './payloads.ts'
import { project } from './projects.ts'
import { actOnReply, parseReply, serviceState } from './replies.ts'
import { serviceRecords } from './services.ts'
import type { ProjectState, Store } from './store.ts'

/** An incoming message to simulate. */
export interface IncomingMessageInput {
  /** Default: the simulator's default project. */
  project_id?: string
  from_number: string
  /** Your phone's number (default: the default route's number). */
  to_number?: string
  content: string
  /** sms (default; mms when media is given), mms, ussd, call, chat. */
  message_type?: string
  media?: Media[]
  /** The phone that received it (default: the one whose number is `to_number`, else the default route). */
  phone_id?: string
}

/** What one service's webhook did with an incoming message. */
export interface ServiceOutcome {
  service_id: string
  delivery_id: string
  /** Status of the first attempt (null: no answer). */
  http_status: number | null
  ok: boolean
  error: string | null
  reply_body: string | null
  /** The parsed reply, when the body was a valid webhook reply. */
  reply: WebhookReply | null
  /** Why the body was not acted upon, when it was not a valid reply. */
  reply_errors: string[]
  /** What Telerivet asks for that the reply lacked (acted upon all the same). */
  reply_warnings: string[]
  /** The outgoing messages the reply caused. */
  messages: Message[]
  /** Temporary `$` variables the reply set. */
  temporary_variables: Record<string, unknown>
}

/** The answer of {@link incomingMessage}. */
export interface IncomingOutcome {
  message: Message
  contact: Contact
  /** One entry per service that was invoked, in order. */
  deliveries: ServiceOutcome[]
  /** True when a service handled the message (sent messages without `return_value` false). */
  handled: boolean
}

/** The phone that got it: `phone_id`, else the one numbered `to_number`, else the default route. */
function phoneFor(
  p: ProjectState,
  phoneId: string | undefined,
  toNumber: string | undefined,
): Phone {
  if (phoneId !== undefined) {
    const ph = p.phones.get(phoneId)
    if (ph === undefined) throw invalidParam('phone_id', `Unknown phone id ${phoneId}`)
    return ph
  }
  if (toNumber !== undefined) {
    for (const ph of p.phones.values()) if (ph.phone_number === toNumber) return ph
  }
  const def = p.phones.get(p.project.default_route_id)
  if (def === undefined) throw new SimError(500, 'internal_error', 'Project has no default route')
  return def
}

/**
 * A phone user sends a message to the project: the contact is found or created (notifying
 * `contact_update` `auto_add`), then the active `incoming_message_webhook` services run in
 * priority order with Telerivet's apply_mode and fall-through rules. Resolves once every
 * service's first attempt is answered and its reply acted upon.
 */
export async function incomingMessage(
  store: Store,
  projectId: string,
  input: IncomingMessageInput,
): Promise<IncomingOutcome> {
  const p = project(store, projectId)
  if (typeof input.from_number !== 'string' || input.from_number === '') {
    throw invalidParam('from_number', 'from_number is required')
  }
  if (typeof input.content !== 'string') {
    throw invalidParam('content', 'content must be a string')
  }
  const phone = phoneFor(p, input.phone_id, input.to_number)
  let contact = contactByNumber(store, projectId, input.from_number)
  let created = false
  if (contact === undefined) {
    contact = newContact(store, projectId, input.from_number)
    created = true
  }
  const media = input.media ?? []
  const message = newMessage(store, {
    direction: 'incoming',
    status: 'received',
    message_type: input.message_type ?? (media.length > 0 ? 'mms' : 'sms'),
    source: 'phone',
    from_number: input.from_number,
    to_number: input.to_number ?? phone.phone_number,
    content: input.content,
    phone_id: phone.id,
    contact_id: contact.id,
    project_id: projectId,
    media,
  })
  message.time_sent = message.time_created
  phone.last_active_time = message.time_created
  if (created) await notifyContact(store, contact, 'auto_add')

  const outcomes: ServiceOutcome[] = []
  let handled = false
  const tempVars: Record<string, unknown> = {}
  for (const svc of serviceRecords(store, projectId)) {
    if (!svc.active || svc.service_type !== 'incoming_message_webhook') continue
    if (!serviceApplies(svc, message)) continue
    if (svc.apply_mode === 'unhandled' && handled) continue
    message.service_id ??= svc.id
    const outcome = await invokeService(store, svc, message, contact, phone, tempVars)
    outcomes.push(outcome)
    if (
      outcome.ok &&
      outcome.messages.length > 0 &&
      outcome.reply?.variables?.return_value !== false
    ) {
      handled = true
    }
  }
  return { message, contact, deliveries: outcomes, handled }
}

/** Delivers the message to one service's webhook and acts on the reply that comes back. */
async function invokeService(
  store: Store,
  svc: Service & { config: Record<string, unknown> },
  message: Message,
  contact: Contact,
  phone: Phone,
  tempVars: Record<string, unknown>,
): Promise<ServiceOutcome> {
  const secret = typeof svc.config.secret === 'string' ? svc.config.secret : null
  const handlerServiceId = message.service_id ?? svc.id
  const body = encodePayload(
    incomingMessageParams({
      message,
      contact,
      phone,
      state: serviceState(store, contact.id, svc.id) ?? null,
      service: svc,
      handlerServiceId,
      secret,
    }),
  )
  const outcome: ServiceOutcome = {
    service_id: svc.id,
    delivery_id: '',
    http_status: null,
    ok: false,
    error: null,
    reply_body: null,
    reply: null,
    reply_errors: [],
    reply_warnings: [],
    messages: [],
    temporary_variables: tempVars,
  }
  // Telerivet acts on the reply of whichever attempt succeeds, the first or a retry.
  const onDelivered = async (_d: Delivery, result: AttemptResult) => {
    const parsed = parseReply(result.response_body)
    outcome.reply = parsed.reply
    outcome.reply_errors = parsed.errors
    const type = (result.response_content_type ?? '').split(';')[0]?.trim().toLowerCase()
    if (parsed.reply !== null && type !== 'application/json') {
      outcome.reply_warnings.push(
        `the reply has Content-Type ${result.response_content_type ?? '(none)'}; Telerivet asks for application/json`,
      )
    }
    if (parsed.reply !== null) {
      outcome.messages = await actOnReply(
        store,
        parsed.reply,
        message,
        contact,
        phone,
        svc,
        tempVars,
      )
    }
  }
  const { delivery, result } = await store.deliverer.send(
    {
      event: 'incoming_message',
      projectId: message.project_id,
      serviceId: svc.id,
      target: 'service',
      url: String(svc.config.url),
      objectId: message.id,
      body,
    },
    onDelivered,
  )
  outcome.delivery_id = delivery.id
  outcome.http_status = result.http_status
  outcome.ok = result.ok
  outcome.error = result.error
  outcome.reply_body = result.response_body
  return outcome
}

/** Whether a service's filters admit this incoming message. */
function serviceApplies(svc: Service, m: Message): boolean {
  if (svc.phone_ids !== null && !svc.phone_ids.includes(m.phone_id)) return false
  if (svc.message_types !== null) {
    const t = m.message_type
    const kinds = new Set([t === 'ussd' ? 'ussd_session' : t])
    if (t === 'sms' || t === 'mms' || t === 'chat') kinds.add('text')
    if (!svc.message_types.some((k) => kinds.has(k))) return false
  }
  // long_number: Telerivet skips short codes and alphanumeric sender ids. A USSD response's
  // from_number is the USSD code, never a contact's number, so the filter does not apply to it.
  if (svc.contact_number_filter === 'long_number' && m.message_type !== 'ussd') {
    return /^\+?\d{7,}$/.test(m.from_number.replace(/[\s().-]/g, ''))
  }
  return true
}
