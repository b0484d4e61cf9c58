/**
 * @module replies
 * What a webhook's reply to an incoming message does: its `messages` become outgoing messages,
 * its `variables` update the contact, the conversation state (per contact and service), the
 * message, phone, project and service; its `$` variables last for the message's later services.
 */
import { isValidReply, replyErrors, type WebhookReply } from '@telehook/protocol'
import type { Contact, ContactServiceState, Message, Phone, Service, Vars } from './model.ts'
import { queueOutgoing } from './outgoing.ts'
import { project } from './projects.ts'
import { nowSeconds, type Store } from './store.ts'

/** The reply in a webhook's response body, or why it is none (an empty body is no reply). */
export function parseReply(body: string | null): { reply: WebhookReply | null; errors: string[] } {
  if (body === null || body.trim() === '') return { reply: null, errors: [] }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { reply: null, errors: ['response body is not JSON'] }
  }
  if (isValidReply(json)) return { reply: json, errors: [] }
  return { reply: null, errors: replyErrors(json) }
}

/** The contact's state in a service, if any. */
export function serviceState(
  store: Store,
  contactId: string,
  serviceId: string,
): ContactServiceState | undefined {
  return store.states.get(`${contactId}/${serviceId}`)
}

/** Acts on a valid reply: applies its variables, then queues its messages (returned). */
export async function actOnReply(
  store: Store,
  reply: WebhookReply,
  incoming: Message,
  contact: Contact,
  phone: Phone,
  svc: Service,
  tempVars: Record<string, unknown>,
): Promise<Message[]> {
  if (reply.variables)
    applyVariables(store, reply.variables, incoming, contact, phone, svc, tempVars)
  const sent: Message[] = []
  for (const m of reply.messages ?? []) {
    const type = m.message_type ?? 'sms'
    sent.push(
      queueOutgoing(store, {
        projectId: incoming.project_id,
        toNumber: m.to_number ?? incoming.from_number,
        content: type === 'ussd' ? '' : (m.content ?? ''),
        messageType: type,
        routeId: m.route_id ?? phone.id,
        source: 'webhook',
        serviceId: svc.id,
        statusUrl: m.status_url ?? null,
        statusSecret: m.status_secret ?? null,
        notifyQueued: true,
      }),
    )
  }
  return sent
}

/** Applies a reply's `variables` by name as Telerivet does; other names are ignored. */
function applyVariables(
  store: Store,
  variables: Record<string, string | number | boolean | null>,
  incoming: Message,
  contact: Contact,
  phone: Phone,
  svc: Service,
  tempVars: Record<string, unknown>,
): void {
  const now = nowSeconds(store)
  const setVar = (vars: Vars, key: string, value: string | number | boolean | null) => {
    if (value === null) delete vars[key]
    else vars[key] = value
  }
  for (const [name, value] of Object.entries(variables)) {
    if (name.startsWith('$')) {
      tempVars[name] = value
    } else if (name === 'contact.name') {
      contact.name = value === null ? null : String(value)
      contact.time_updated = now
    } else if (name === 'contact.phone_number' && typeof value === 'string') {
      contact.phone_number = value
      contact.time_updated = now
    } else if (name === 'contact.send_blocked' && typeof value === 'boolean') {
      contact.send_blocked = value
      contact.time_updated = now
    } else if (name === 'contact.conversation_status' && typeof value === 'string') {
      if (value === 'closed' || value === 'active' || value === 'handled') {
        contact.conversation_status = value
      }
    } else if (name.startsWith('contact.vars.')) {
      setVar(contact.vars, name.slice('contact.vars.'.length), value)
      contact.time_updated = now
    } else if (name === 'state.id') {
      const key = `${contact.id}/${svc.id}`
      if (value === null) store.states.delete(key)
      else upsertState(store, contact, svc, now).id = String(value)
    } else if (name.startsWith('state.vars.')) {
      setVar(upsertState(store, contact, svc, now).vars, name.slice('state.vars.'.length), value)
    } else if (name.startsWith('message.vars.')) {
      setVar(incoming.vars, name.slice('message.vars.'.length), value)
    } else if (name.startsWith('phone.vars.')) {
      setVar(phone.vars, name.slice('phone.vars.'.length), value)
    } else if (name.startsWith('project.vars.')) {
      setVar(project(store, incoming.project_id).project.vars, name.slice(13), value)
    } else if (name.startsWith('service.vars.')) {
      setVar(svc.vars, name.slice('service.vars.'.length), value)
    }
  }
}

/** The contact's state in the service, created empty when there is none; touched now. */
function upsertState(
  store: Store,
  contact: Contact,
  svc: Service,
  now: number,
): ContactServiceState {
  const key = `${contact.id}/${svc.id}`
  let s = store.states.get(key)
  if (s === undefined) {
    s = {
      id: '',
      contact_id: contact.id,
      service_id: svc.id,
      vars: {},
      time_created: now,
      time_updated: now,
      project_id: contact.project_id,
    }
    store.states.set(key, s)
  }
  s.time_updated = now
  return s
}
