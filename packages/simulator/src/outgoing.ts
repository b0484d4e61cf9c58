/**
 * @module outgoing
 * Outgoing messages: queued from a webhook reply, a broadcast or the REST `messages/send`, then
 * moved through their status sequence in simulated time, each status notified as `send_status`.
 */
import { checkHttpUrl, checkVars, isRecord, mergeVars } from './checks.ts'
import { contactByNumber, newContact } from './contacts.ts'
import { invalidParam, SimError } from './errors.ts'
import { message, newMessage, statusCounts } from './messages.ts'
import type { Delivery, Message, Vars } from './model.ts'
import { encodePayload, sendStatusParams } from './payloads.ts'
import { project } from './projects.ts'
import { nowSeconds, type Store } from './store.ts'

/** An outgoing message to queue, and where its statuses go. */
export interface NewOutgoing {
  projectId: string
  toNumber: string
  content: string
  messageType: string
  routeId: string
  source: string
  serviceId?: string | null
  broadcastId?: string | null
  statusUrl?: string | null
  statusSecret?: string | null
  /** Notify `queued` too (Telerivet does, except for a single REST send). */
  notifyQueued: boolean
  vars?: Vars
  labelIds?: string[]
  priority?: number
}

/** Status sequences of Telerivet's test numbers (after `queued`). */
const TEST_NUMBER_SEQUENCES: Record<string, { status: string; error?: string; delayMs: number }[]> =
  {
    '+15005550011': [{ status: 'failed', error: 'Example error message.', delayMs: 1000 }],
    '+15005550012': [
      { status: 'sent', delayMs: 1000 },
      { status: 'delivered', delayMs: 2000 },
    ],
    '+15005550013': [
      { status: 'sent', delayMs: 1000 },
      { status: 'not_delivered', error: 'Example delivery failure message.', delayMs: 2000 },
    ],
    '+15005550014': [
      { status: 'failed_queued', error: 'Example temporary failure message.', delayMs: 1000 },
      { status: 'sent', delayMs: 60_000 },
    ],
  }
const DEFAULT_SEQUENCE = [{ status: 'sent', delayMs: 1000 }]

/** The status sequence an outgoing message to `toNumber` goes through after `queued`. */
export function statusSequence(
  toNumber: string,
): { status: string; error?: string; delayMs: number }[] {
  return TEST_NUMBER_SEQUENCES[toNumber] ?? DEFAULT_SEQUENCE
}

/**
 * Creates an outgoing message and schedules its status changes (the test numbers' sequences),
 * each one notified to the message's `status_url` or to the project webhook.
 */
export function queueOutgoing(store: Store, a: NewOutgoing): Message {
  const p = project(store, a.projectId)
  const route = p.phones.get(a.routeId)
  if (route === undefined) throw invalidParam('route_id', `Unknown route ${a.routeId}`)
  const contact =
    contactByNumber(store, a.projectId, a.toNumber) ?? newContact(store, a.projectId, a.toNumber)
  const m = newMessage(store, {
    direction: 'outgoing',
    status: 'queued',
    message_type: a.messageType,
    source: a.source,
    from_number: route.phone_number,
    to_number: a.toNumber,
    content: a.content,
    phone_id: route.id,
    contact_id: contact.id,
    project_id: a.projectId,
    service_id: a.serviceId ?? null,
    broadcast_id: a.broadcastId ?? null,
    vars: a.vars ?? {},
    label_ids: a.labelIds ?? [],
    priority: a.priority ?? 1,
  })
  if (a.statusUrl)
    store.statusTargets.set(m.id, { url: a.statusUrl, secret: a.statusSecret ?? null })
  if (a.notifyQueued) {
    store.scheduler.schedule(0, async () => {
      await notifyStatus(store, m)
    })
  }
  if (contact.send_blocked) {
    store.scheduler.schedule(1000, async () => {
      await changeStatus(store, m, 'failed', 'Contact has blocked messages from this project')
    })
    return m
  }
  let at = 0
  for (const step of statusSequence(a.toNumber)) {
    at += step.delayMs
    store.scheduler.schedule(at, async () => {
      // A message the user cancelled is not sent any more.
      if (m.status !== 'cancelled') await changeStatus(store, m, step.status, step.error ?? null)
    })
  }
  return m
}

/** Changes an outgoing message's status and notifies it (as the network would). */
export async function changeStatus(
  store: Store,
  m: Message,
  status: string,
  error: string | null,
): Promise<Delivery | null> {
  const t = nowSeconds(store)
  m.status = status
  m.time_updated = t
  m.error_message = error
  if (status === 'sent' || status === 'failed' || status === 'failed_queued') m.send_attempts++
  if (status === 'sent' && m.time_sent === null) m.time_sent = t
  if (m.broadcast_id !== null) {
    const b = store.broadcastsById.get(m.broadcast_id)
    if (b !== undefined) b.status_counts = statusCounts(store, b.id)
  }
  return notifyStatus(store, m)
}

/**
 * The recipient clicks a short link in an outgoing message for the first time: Telerivet sets
 * `time_clicked` and notifies the status URL once (later clicks notify nothing).
 */
export async function clickMessage(store: Store, messageId: string): Promise<Delivery | null> {
  const m = message(store, messageId)
  if (m.direction !== 'outgoing') {
    throw invalidParam('id', 'Only outgoing messages have short links')
  }
  if (m.time_clicked !== null) return null
  m.track_clicks = true
  m.time_clicked = nowSeconds(store)
  m.time_updated = m.time_clicked
  return notifyStatus(store, m)
}

/** Sends `send_status` to the `status_url`, else to the project webhook if it takes them. */
async function notifyStatus(store: Store, m: Message): Promise<Delivery | null> {
  const own = store.statusTargets.get(m.id)
  const hook = project(store, m.project_id).webhook
  const target =
    own !== undefined
      ? { url: own.url, secret: own.secret, kind: 'status_url' as const }
      : hook?.events.send_status
        ? { url: hook.url, secret: hook.secret, kind: 'project' as const }
        : null
  if (target === null) return null
  const body = encodePayload(
    sendStatusParams({
      message: m,
      contact: store.contactsById.get(m.contact_id) ?? null,
      secret: target.secret,
    }),
  )
  const { delivery } = await store.deliverer.send({
    event: 'send_status',
    projectId: m.project_id,
    serviceId: null,
    target: target.kind,
    url: target.url,
    objectId: m.id,
    body,
  })
  return delivery
}

/** REST `messages/send`: one message, no `queued` notification (as Telerivet does for the API). */
export function sendMessage(store: Store, projectId: string, input: unknown): Message {
  const p = project(store, projectId)
  if (!isRecord(input)) throw new SimError(400, 'invalid_param', 'Expected a JSON object')
  const type = input.message_type ?? 'sms'
  if (!['sms', 'mms', 'ussd', 'call', 'chat', 'service'].includes(type as string)) {
    throw invalidParam('message_type', `Invalid message_type: ${String(type)}`)
  }
  let toNumber = input.to_number
  if (input.contact_id !== undefined) {
    const c = store.contactsById.get(String(input.contact_id))
    if (c === undefined || c.project_id !== projectId)
      throw invalidParam('contact_id', 'Unknown contact_id')
    toNumber ??= c.phone_number
  }
  if (typeof toNumber !== 'string' || toNumber.trim() === '') {
    throw invalidParam('to_number', 'to_number or contact_id is required')
  }
  if (type !== 'ussd' && (typeof input.content !== 'string' || input.content === '')) {
    throw invalidParam('content', 'content is required')
  }
  const routeId = input.route_id ?? p.project.default_route_id
  if (typeof routeId !== 'string' || !p.phones.has(routeId))
    throw invalidParam('route_id', 'Unknown route_id')
  if (input.status_url !== undefined && input.status_url !== null) {
    if (typeof input.status_url !== 'string')
      throw invalidParam('status_url', 'status_url must be a string')
    checkHttpUrl(input.status_url, 'status_url')
  }
  return queueOutgoing(store, {
    projectId,
    toNumber,
    content: typeof input.content === 'string' ? input.content : '',
    messageType: type as string,
    routeId,
    source: 'api',
    statusUrl: (input.status_url as string | undefined) ?? null,
    statusSecret: typeof input.status_secret === 'string' ? input.status_secret : null,
    notifyQueued: false,
    ...(input.vars === undefined ? {} : { vars: mergeVars({}, checkVars(input.vars, 'vars')) }),
    ...(Array.isArray(input.label_ids) ? { labelIds: input.label_ids.map(String) } : {}),
    ...(typeof input.priority === 'number' ? { priority: input.priority } : {}),
  })
}
