/**
 * @module broadcasts
 * Broadcasts sent from the web app: one outgoing message per recipient, and `send_broadcast`
 * to the project webhook.
 */
import { contact, contacts } from './contacts.ts'
import { invalidParam } from './errors.ts'
import { newId } from './ids.ts'
import { statusCounts } from './messages.ts'
import type { Broadcast, BroadcastRecipient, Delivery, Message } from './model.ts'
import { queueOutgoing } from './outgoing.ts'
import { encodePayload, sendBroadcastParams } from './payloads.ts'
import { project } from './projects.ts'
import { nowSeconds, type Store } from './store.ts'

/** A broadcast to send: the content and its recipients. */
export interface NewBroadcast {
  content: string
  to_numbers?: string[]
  contact_ids?: string[]
  group_ids?: string[]
  title?: string
  route_id?: string
}

/** A broadcast sent, its messages, and the `send_broadcast` notification (null: none was sent). */
export interface BroadcastSent {
  broadcast: Broadcast
  messages: Message[]
  delivery: Delivery | null
}

/**
 * A user sends a broadcast from the web app: messages go to every recipient (phone numbers,
 * contacts, groups) and the project webhook gets `send_broadcast`.
 */
export async function broadcast(
  store: Store,
  projectId: string,
  input: NewBroadcast,
): Promise<BroadcastSent> {
  const p = project(store, projectId)
  if (typeof input.content !== 'string' || input.content === '') {
    throw invalidParam('content', 'content is required')
  }
  const recipients: BroadcastRecipient[] = []
  const numbers = new Set<string>()
  for (const n of input.to_numbers ?? []) {
    recipients.push({ type: 'phone_number', phone_number: n })
    numbers.add(n)
  }
  for (const id of input.contact_ids ?? []) {
    const c = contact(store, id)
    recipients.push({ type: 'contact', id: c.id, name: c.name, phone_number: c.phone_number })
    numbers.add(c.phone_number)
  }
  for (const id of input.group_ids ?? []) {
    const g = p.groups.get(id)
    if (g === undefined) throw invalidParam('group_ids', `Unknown group ${id}`)
    recipients.push({ type: 'group', id: g.id, name: g.name })
    for (const c of contacts(store, projectId))
      if (c.group_ids.includes(g.id)) numbers.add(c.phone_number)
  }
  if (recipients.length === 0) {
    throw invalidParam('to_numbers', 'At least one recipient is required')
  }
  const t = nowSeconds(store)
  const routeId = input.route_id ?? p.project.default_route_id
  const b: Broadcast = {
    id: newId('BR'),
    recipients,
    title: input.title ?? input.content.slice(0, 40),
    time_created: t,
    last_message_time: t,
    last_send_time: t,
    status_counts: {},
    message_count: numbers.size,
    estimated_count: numbers.size,
    num_parts: Math.max(1, Math.ceil(input.content.length / 160)),
    message_type: 'sms',
    content: input.content,
    audio_url: null,
    tts_lang: null,
    tts_voice: null,
    replace_variables: false,
    status: 'queuing',
    source: 'web',
    simulated: true,
    track_clicks: false,
    clicked_count: 0,
    label_ids: [],
    media: [],
    vars: {},
    route_params: {},
    price: null,
    price_currency: null,
    reply_count: 0,
    last_reply_time: null,
    route_id: routeId,
    service_id: null,
    user_id: 'UR0000000000000001',
    project_id: projectId,
  }
  store.broadcastsById.set(b.id, b)
  const messages = [...numbers].map((n) =>
    queueOutgoing(store, {
      projectId,
      toNumber: n,
      content: input.content,
      messageType: 'sms',
      routeId,
      source: 'web',
      broadcastId: b.id,
      notifyQueued: true,
    }),
  )
  b.status_counts = statusCounts(store, b.id)
  b.status = 'complete'
  let delivery: Delivery | null = null
  if (p.webhook?.events.send_broadcast) {
    const body = encodePayload(
      sendBroadcastParams({
        broadcast: b,
        userName: 'Simulator User',
        userEmail: 'user@example.com',
        secret: p.webhook.secret,
      }),
    )
    delivery = (
      await store.deliverer.send({
        event: 'send_broadcast',
        projectId,
        serviceId: null,
        target: 'project',
        url: p.webhook.url,
        objectId: b.id,
        body,
      })
    ).delivery
  }
  return { broadcast: b, messages, delivery }
}
