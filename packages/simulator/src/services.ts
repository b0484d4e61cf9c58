/**
 * @module services
 * A project's services: `createService`, `service.save`, `service.delete`, `getConfig` and
 * `setConfig`, validated as Telerivet validates them.
 */
import {
  APPLY_MODES,
  CONTACT_NUMBER_FILTERS,
  SERVICE_DIRECTIONS,
  SERVICE_MESSAGE_TYPES,
  SERVICE_TYPES,
  type ServiceMessageType,
} from '@telehook/protocol'
import { checkVars, checkWebhookUrl, isRecord, mergeVars, toBool } from './checks.ts'
import { invalidParam, SimError } from './errors.ts'
import { newId } from './ids.ts'
import type { Service } from './model.ts'
import { project } from './projects.ts'
import type { ProjectState, ServiceRecord, Store } from './store.ts'

/** Services of a project in Telerivet's order (priority, then creation). */
export function services(store: Store, projectId: string): Service[] {
  return serviceRecords(store, projectId).map(serviceView)
}

/** The project's services in Telerivet's order (priority, then creation), config included. */
export function serviceRecords(store: Store, projectId: string): ServiceRecord[] {
  return [...project(store, projectId).services.values()].sort(
    (a, b) => a.priority - b.priority || a.seq - b.seq,
  )
}

function serviceRecord(store: Store, projectId: string, serviceId: string) {
  const s = project(store, projectId).services.get(serviceId)
  if (s === undefined) throw new SimError(404, 'not_found', `Service ${serviceId} not found`)
  return s
}

/** A service, or `not_found`. */
export function service(store: Store, projectId: string, serviceId: string): Service {
  return serviceView(serviceRecord(store, projectId, serviceId))
}

/** The service's type-specific config (`getConfig`). */
export function serviceConfig(
  store: Store,
  projectId: string,
  serviceId: string,
): Record<string, unknown> {
  return { ...serviceRecord(store, projectId, serviceId).config }
}

/** Replaces the type-specific config (`setConfig`), validated as at creation. */
export function setServiceConfig(
  store: Store,
  projectId: string,
  serviceId: string,
  config: unknown,
): Record<string, unknown> {
  const s = serviceRecord(store, projectId, serviceId)
  const checked = checkConfig(store, s.service_type, config, 'config')
  s.config = checked
  s.webhook_url = typeof checked.url === 'string' ? checked.url : null
  return { ...checked }
}

/** `createService`, validated as Telerivet validates it. */
export function createService(store: Store, projectId: string, input: unknown): Service {
  const p = project(store, projectId)
  if (!isRecord(input)) throw new SimError(400, 'invalid_param', 'Expected a JSON object')
  const type = input.service_type
  if (type === undefined || type === null || type === '') {
    throw invalidParam('service_type', 'service_type is required')
  }
  if (typeof type !== 'string' || !(SERVICE_TYPES as readonly string[]).includes(type)) {
    throw new SimError(
      400,
      'invalid_param',
      `Invalid service_type: ${String(type)}`,
      'service_type',
    )
  }
  if (input.config === undefined || input.config === null) {
    throw invalidParam('config', 'config is required')
  }
  const config = checkConfig(store, type, input.config, 'config')
  const fields = checkServiceFields(p, input, null)
  const seq = ++p.serviceSeq
  const maxPriority = Math.max(0, ...[...p.services.values()].map((s) => s.priority))
  const record = {
    id: newId('SV'),
    name: fields.name ?? generatedName(p, type),
    service_type: type,
    active: fields.active ?? true,
    priority: fields.priority ?? maxPriority + 1,
    contexts: contextsOf(type),
    vars: fields.vars === undefined ? {} : mergeVars({}, fields.vars),
    project_id: p.project.id,
    response_table_id: fields.response_table_id ?? null,
    phone_ids: fields.phone_ids ?? null,
    message_types: fields.message_types ?? null,
    apply_mode: fields.apply_mode ?? 'unhandled',
    contact_number_filter: fields.contact_number_filter ?? 'long_number',
    show_action: fields.show_action ?? true,
    direction: fields.direction ?? (type === 'voice_script' ? 'incoming' : null),
    webhook_url: typeof config.url === 'string' ? config.url : null,
    config,
    seq,
  }
  p.services.set(record.id, record)
  return serviceView(record)
}

/** `service.save`: updates the given fields. */
export function updateService(
  store: Store,
  projectId: string,
  serviceId: string,
  input: unknown,
): Service {
  const p = project(store, projectId)
  const s = serviceRecord(store, projectId, serviceId)
  if (!isRecord(input)) throw new SimError(400, 'invalid_param', 'Expected a JSON object')
  const f = checkServiceFields(p, input, s.id)
  if (f.name !== undefined) s.name = f.name
  if (f.active !== undefined) s.active = f.active
  if (f.priority !== undefined) s.priority = f.priority
  if (f.vars !== undefined) s.vars = mergeVars(s.vars, f.vars)
  if (f.response_table_id !== undefined) s.response_table_id = f.response_table_id
  if (f.phone_ids !== undefined) s.phone_ids = f.phone_ids
  if (f.message_types !== undefined) s.message_types = f.message_types
  if (f.apply_mode !== undefined) s.apply_mode = f.apply_mode
  if (f.contact_number_filter !== undefined) s.contact_number_filter = f.contact_number_filter
  if (f.show_action !== undefined) s.show_action = f.show_action
  if (f.direction !== undefined) s.direction = f.direction
  return serviceView(s)
}

/** `service.delete`. */
export function deleteService(store: Store, projectId: string, serviceId: string): void {
  serviceRecord(store, projectId, serviceId)
  project(store, projectId).services.delete(serviceId)
}

function generatedName(p: ProjectState, type: string): string {
  const base = type === 'incoming_message_webhook' ? 'Webhook API' : type.replaceAll('_', ' ')
  const taken = new Set([...p.services.values()].map((s) => s.name))
  if (!taken.has(base)) return base
  for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`
}

function checkConfig(
  store: Store,
  type: string,
  config: unknown,
  param: string,
): Record<string, unknown> {
  if (!isRecord(config)) throw invalidParam(param, 'config must be an object')
  if (type !== 'incoming_message_webhook') return { ...config }
  const url = config.url
  if (url === undefined || url === null || url === '') {
    throw invalidParam(`${param}.url`, 'config.url is required')
  }
  if (typeof url !== 'string') {
    throw invalidParam(`${param}.url`, 'config.url must be a string')
  }
  checkWebhookUrl(url, `${param}.url`, store.allowedPorts)
  const secret = config.secret
  if (secret !== undefined && secret !== null && typeof secret !== 'string') {
    throw invalidParam(`${param}.secret`, 'config.secret must be a string')
  }
  return { url, ...(typeof secret === 'string' ? { secret } : {}) }
}

function checkServiceFields(
  p: ProjectState,
  input: Record<string, unknown>,
  selfId: string | null,
) {
  const out: { vars?: Record<string, string | number | boolean | null> } & Partial<
    Pick<
      Service,
      | 'name'
      | 'active'
      | 'priority'
      | 'response_table_id'
      | 'phone_ids'
      | 'message_types'
      | 'apply_mode'
      | 'contact_number_filter'
      | 'show_action'
      | 'direction'
    >
  > = {}
  if (input.name !== undefined && input.name !== null) {
    if (typeof input.name !== 'string' || input.name.trim() === '') {
      throw invalidParam('name', 'name must be a non-empty string')
    }
    for (const s of p.services.values()) {
      if (s.id !== selfId && s.name === input.name) {
        throw invalidParam('name', `A service named '${input.name}' already exists`)
      }
    }
    out.name = input.name
  }
  if (input.active !== undefined) {
    const b = toBool(input.active)
    if (b === null) throw invalidParam('active', 'active must be a boolean')
    out.active = b
  }
  if (input.priority !== undefined) {
    if (typeof input.priority !== 'number' || !Number.isInteger(input.priority)) {
      throw invalidParam('priority', 'priority must be an integer')
    }
    out.priority = input.priority
  }
  if (input.vars !== undefined) out.vars = checkVars(input.vars, 'vars')
  if (input.response_table_id !== undefined) {
    if (input.response_table_id !== null && typeof input.response_table_id !== 'string') {
      throw invalidParam('response_table_id', 'response_table_id must be a string')
    }
    out.response_table_id = input.response_table_id
  }
  if (input.phone_ids !== undefined) {
    if (input.phone_ids === null) out.phone_ids = null
    else {
      if (!Array.isArray(input.phone_ids))
        throw invalidParam('phone_ids', 'phone_ids must be an array')
      for (const id of input.phone_ids) {
        if (typeof id !== 'string' || !p.phones.has(id)) {
          throw invalidParam('phone_ids', `Unknown phone id: ${String(id)}`)
        }
      }
      out.phone_ids = [...(input.phone_ids as string[])]
    }
  }
  if (input.message_types !== undefined) {
    const known: readonly string[] = SERVICE_MESSAGE_TYPES
    if (input.message_types === null) out.message_types = null
    else {
      if (!Array.isArray(input.message_types)) {
        throw invalidParam('message_types', 'message_types must be an array')
      }
      for (const t of input.message_types) {
        if (typeof t !== 'string' || !known.includes(t)) {
          throw invalidParam('message_types', `Invalid message type: ${String(t)}`)
        }
      }
      out.message_types = [...(input.message_types as ServiceMessageType[])]
    }
  }
  if (input.apply_mode !== undefined) {
    const mode = APPLY_MODES.find((m) => m === input.apply_mode)
    if (mode === undefined)
      throw invalidParam('apply_mode', "apply_mode must be 'unhandled' or 'always'")
    out.apply_mode = mode
  }
  if (input.contact_number_filter !== undefined) {
    const filter = CONTACT_NUMBER_FILTERS.find((f) => f === input.contact_number_filter)
    if (filter === undefined) {
      throw invalidParam(
        'contact_number_filter',
        "contact_number_filter must be 'long_number' or 'all'",
      )
    }
    out.contact_number_filter = filter
  }
  if (input.show_action !== undefined) {
    const b = toBool(input.show_action)
    if (b === null) throw invalidParam('show_action', 'show_action must be a boolean')
    out.show_action = b
  }
  if (input.direction !== undefined) {
    const direction = SERVICE_DIRECTIONS.find((d) => d === input.direction)
    if (direction === undefined) {
      throw invalidParam('direction', "direction must be 'incoming', 'outgoing' or 'both'")
    }
    out.direction = direction
  }
  return out
}

function serviceView(s: Service & { config?: unknown; seq?: unknown }): Service {
  return {
    id: s.id,
    name: s.name,
    service_type: s.service_type,
    active: s.active,
    priority: s.priority,
    contexts: s.contexts,
    vars: { ...s.vars },
    project_id: s.project_id,
    response_table_id: s.response_table_id,
    phone_ids: s.phone_ids === null ? null : [...s.phone_ids],
    message_types: s.message_types === null ? null : [...s.message_types],
    apply_mode: s.apply_mode,
    contact_number_filter: s.contact_number_filter,
    show_action: s.show_action,
    direction: s.direction,
    webhook_url: s.webhook_url,
  }
}

function contextsOf(type: string): Record<string, Record<string, true>> {
  switch (type) {
    case 'incoming_message_webhook':
    case 'incoming_message_script':
    case 'messaging_poll':
      return { message: { incoming_message: true } }
    case 'message_script':
      return { message: { default: true } }
    case 'contact_script':
      return { contact: { default: true } }
    case 'data_row_script':
      return { row: { default: true } }
    case 'voice_script':
      return { call: { incoming_call: true } }
    case 'ussd_script':
      return { ussd_session: { incoming_ussd_session: true } }
    case 'webhook_script':
    case 'project_script':
      return { project: { default: true } }
    default:
      return {}
  }
}
