/**
 * @module messages
 * The messages of every project, incoming and outgoing, and the changes a web-app user makes to
 * their metadata (notified to the project webhook as `message_metadata`).
 */

import { invalidParam, SimError } from './errors.ts'
import { newId } from './ids.ts'
import type { Delivery, Message } from './model.ts'
import { encodePayload, type MetadataUpdateType, messageMetadataParams } from './payloads.ts'
import { project } from './projects.ts'
import { nowSeconds, type Store } from './store.ts'

/** A change to a message's metadata. */
export interface MetadataChange {
  update_type: MetadataUpdateType
  label_id?: string
  name?: string
  value?: string | number | boolean | null
}

/** A message after a change, and the notification sent about it (null: none was sent). */
export interface MessageNotified {
  message: Message
  delivery: Delivery | null
}

/** Messages (of one project, or all), oldest first. */
export function messages(store: Store, projectId?: string): Message[] {
  const all = [...store.messagesById.values()]
  return projectId === undefined ? all : all.filter((m) => m.project_id === projectId)
}

/** A message by id, or `not_found`. */
export function message(store: Store, id: string): Message {
  const m = store.messagesById.get(id)
  if (m === undefined) throw new SimError(404, 'not_found', `Message ${id} not found`)
  return m
}

/** A new message record, counted on its contact; no notification. */
export function newMessage(
  store: Store,
  fields: Pick<
    Message,
    | 'direction'
    | 'status'
    | 'message_type'
    | 'source'
    | 'from_number'
    | 'to_number'
    | 'content'
    | 'phone_id'
    | 'contact_id'
    | 'project_id'
  > &
    Partial<Message>,
): Message {
  const t = nowSeconds(store)
  // Keys in Telerivet's documented order; `fields` then overrides values, not positions.
  const m: Message = {
    id: newId('SM'),
    direction: fields.direction,
    status: fields.status,
    message_type: fields.message_type,
    source: fields.source,
    time_created: t,
    time_sent: null,
    time_updated: t,
    time_clicked: null,
    from_number: fields.from_number,
    to_number: fields.to_number,
    content: fields.content,
    starred: false,
    simulated: true,
    label_ids: [],
    route_params: {},
    vars: {},
    priority: 1,
    send_attempts: 0,
    error_message: null,
    error_code: null,
    external_id: null,
    num_parts: Math.max(1, Math.ceil(fields.content.length / 160)),
    price: null,
    price_currency: null,
    duration: null,
    ring_time: null,
    audio_url: null,
    tts_lang: null,
    tts_voice: null,
    track_clicks: false,
    short_urls: [],
    network_code: null,
    media: [],
    mms_parts: [],
    service_id: null,
    phone_id: fields.phone_id,
    contact_id: fields.contact_id,
    route_id: fields.phone_id,
    broadcast_id: null,
    scheduled_id: null,
    user_id: null,
    project_id: fields.project_id,
  }
  Object.assign(m, fields)
  store.messagesById.set(m.id, m)
  const c = store.contactsById.get(m.contact_id)
  if (c !== undefined) {
    c.message_count++
    c.last_message_time = t
    c.last_message_id = m.id
    if (m.direction === 'incoming') {
      c.incoming_message_count++
      c.last_incoming_message_time = t
      c.conversation_status = 'active'
    } else {
      c.outgoing_message_count++
      c.last_outgoing_message_time = t
    }
  }
  return m
}

/** How many of a broadcast's messages are in each status. */
export function statusCounts(store: Store, broadcastId: string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const m of store.messagesById.values()) {
    if (m.broadcast_id === broadcastId) counts[m.status] = (counts[m.status] ?? 0) + 1
  }
  return counts
}

/** A user changes a message's metadata in the web app (or a call saves a variable or ends). */
export async function messageMetadata(
  store: Store,
  messageId: string,
  input: MetadataChange,
): Promise<MessageNotified> {
  const m = message(store, messageId)
  switch (input.update_type) {
    case 'star':
      m.starred = true
      break
    case 'unstar':
      m.starred = false
      break
    case 'add_label':
      if (typeof input.label_id !== 'string') throw invalidParam('label_id', 'label_id is required')
      if (!m.label_ids.includes(input.label_id)) m.label_ids.push(input.label_id)
      break
    case 'remove_label':
      if (typeof input.label_id !== 'string') throw invalidParam('label_id', 'label_id is required')
      m.label_ids = m.label_ids.filter((l) => l !== input.label_id)
      break
    case 'set_variable':
      if (typeof input.name !== 'string' || input.name === '')
        throw invalidParam('name', 'name is required')
      if (input.value === null || input.value === undefined) delete m.vars[input.name]
      else m.vars[input.name] = input.value
      break
    case 'call_complete':
      if (m.message_type !== 'call')
        throw invalidParam('update_type', 'call_complete applies to calls')
      m.status = m.direction === 'incoming' ? 'received' : 'sent'
      break
    default:
      throw invalidParam('update_type', `Invalid update_type: ${String(input.update_type)}`)
  }
  m.time_updated = nowSeconds(store)
  const hook = project(store, m.project_id).webhook
  if (hook === null || !hook.events.message_metadata) return { message: m, delivery: null }
  const isCall = m.message_type === 'call'
  const body = encodePayload(
    messageMetadataParams({
      message: m,
      contact: store.contactsById.get(m.contact_id) ?? null,
      updateType: input.update_type,
      inProgress: isCall ? input.update_type !== 'call_complete' : null,
      secret: hook.secret,
    }),
  )
  const { delivery } = await store.deliverer.send({
    event: 'message_metadata',
    projectId: m.project_id,
    serviceId: null,
    target: 'project',
    url: hook.url,
    objectId: m.id,
    body,
  })
  return { message: m, delivery }
}
