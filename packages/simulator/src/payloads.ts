/**
 * @module payloads
 * Builds the parameter objects of each webhook event exactly as Telerivet sends them: the
 * documented parameters plus every other REST property of the object, then flattened for the
 * form encoder (booleans as `1`/`0`, numbers as decimal strings, null and empty arrays absent).
 */
import {
  type CONTACT_UPDATE_TYPES,
  encodeForm,
  type METADATA_UPDATE_TYPES,
} from '@telehook/protocol'
import type {
  Broadcast,
  Contact,
  ContactServiceState,
  Message,
  Phone,
  Project,
  Service,
} from './model.ts'

/** A value as the form encoder receives it: strings, nested in arrays and objects. */
export type WireValue = string | WireValue[] | { [key: string]: WireValue }

/**
 * Turns a record into what Telerivet's form encoding carries: `true`/`false` -> `1`/`0`, numbers
 * -> decimal strings, `null`/`undefined`, empty arrays and empty objects dropped.
 */
export function toWire(value: unknown): WireValue | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
  if (typeof value === 'string') return value
  if (Array.isArray(value)) {
    const out: WireValue[] = []
    for (const v of value) {
      const w = toWire(v)
      if (w !== undefined) out.push(w)
    }
    return out.length > 0 ? out : undefined
  }
  if (typeof value === 'object') {
    const out: { [key: string]: WireValue } = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const w = toWire(v)
      if (w !== undefined) out[k] = w
    }
    return Object.keys(out).length > 0 ? out : undefined
  }
  return String(value)
}

/** The form body of an event's parameters. */
export function encodePayload(params: Record<string, unknown>): string {
  const wire = toWire(params)
  return encodeForm(
    wire !== undefined && typeof wire === 'object' && !Array.isArray(wire) ? wire : {},
  )
}

/** E.164 form of a number when it looks like one (Telerivet omits it for short codes and names). */
export function e164(number: string): string | null {
  const digits = number.replace(/[\s().-]/g, '')
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return digits
  return null
}

/** `incoming_message` sent by `service` (the message was handled by `handlerServiceId`). */
export function incomingMessageParams(a: {
  message: Message
  contact: Contact
  phone: Phone
  state: ContactServiceState | null
  service: Service
  handlerServiceId: string
  secret: string | null
}): Record<string, unknown> {
  const m = a.message
  return {
    event: 'incoming_message',
    ...m,
    from_number_e164: e164(m.from_number),
    service_id: a.service.id,
    message_service_id: a.handlerServiceId,
    project_id: m.project_id,
    contact: a.contact,
    phone: a.phone,
    state: a.state,
    secret: a.secret,
  }
}

/** `send_status` for an outgoing message. */
export function sendStatusParams(a: {
  message: Message
  contact: Contact | null
  secret: string | null
}): Record<string, unknown> {
  return {
    event: 'send_status',
    ...a.message,
    contact: a.contact,
    secret: a.secret,
  }
}

/** A human-readable summary of the first few recipients, as `recipients_str` carries. */
export function recipientsString(b: Broadcast): string {
  const names = b.recipients.map((r) =>
    r.type === 'phone_number'
      ? r.phone_number
      : r.type === 'group'
        ? r.name
        : (r.name ?? r.phone_number),
  )
  const shown = names.slice(0, 3).join(', ')
  return names.length > 3 ? `${shown}, and ${names.length - 3} more` : shown
}

/** `send_broadcast`. */
export function sendBroadcastParams(a: {
  broadcast: Broadcast
  userName: string
  userEmail: string
  secret: string | null
}): Record<string, unknown> {
  return {
    event: 'send_broadcast',
    ...a.broadcast,
    recipients_str: recipientsString(a.broadcast),
    user_name: a.userName,
    user_email: a.userEmail,
    secret: a.secret,
  }
}

export type ContactUpdateType = (typeof CONTACT_UPDATE_TYPES)[number]

/** `contact_update`. */
export function contactUpdateParams(a: {
  contact: Contact
  updateType: ContactUpdateType
  secret: string | null
}): Record<string, unknown> {
  return {
    event: 'contact_update',
    update_type: a.updateType,
    ...a.contact,
    secret: a.secret,
  }
}

export type MetadataUpdateType = (typeof METADATA_UPDATE_TYPES)[number]

/** `message_metadata`. */
export function messageMetadataParams(a: {
  message: Message
  contact: Contact | null
  updateType: MetadataUpdateType
  inProgress: boolean | null
  secret: string | null
}): Record<string, unknown> {
  return {
    event: 'message_metadata',
    update_type: a.updateType,
    ...a.message,
    in_progress: a.inProgress,
    contact: a.contact,
    secret: a.secret,
  }
}

/** The project as `GET /v1/projects/:id` returns it. */
export function projectView(p: Project): Project {
  return { ...p, vars: { ...p.vars } }
}
