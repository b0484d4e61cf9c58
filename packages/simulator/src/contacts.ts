/**
 * @module contacts
 * A project's contacts and groups, changed as a user would in the web app (each change notified
 * to the project webhook as `contact_update`).
 */
import { checkVars, mergeVars } from './checks.ts'
import { invalidParam, SimError } from './errors.ts'
import { newId } from './ids.ts'
import type { Contact, Delivery, Group, Vars } from './model.ts'
import { type ContactUpdateType, contactUpdateParams, encodePayload } from './payloads.ts'
import { project } from './projects.ts'
import { nowSeconds, type Store } from './store.ts'

/** A contact to add. */
export interface NewContact {
  phone_number: string
  name?: string | null
  vars?: Vars
  group_ids?: string[]
}

/** Changes to a contact, as {@link updateContact} takes them. */
export interface ContactChanges {
  name?: string | null
  phone_number?: string
  vars?: Record<string, unknown>
  send_blocked?: boolean
  add_group_ids?: string[]
  remove_group_ids?: string[]
  update_type?: ContactUpdateType
}

/** A contact after a change, and the `contact_update` notification (null: none was sent). */
export interface ContactNotified {
  contact: Contact
  delivery: Delivery | null
}

/** Contacts of a project. */
export function contacts(store: Store, projectId: string): Contact[] {
  return [...store.contactsById.values()].filter((c) => c.project_id === projectId)
}

/** A contact by id, or `not_found`. */
export function contact(store: Store, id: string): Contact {
  const c = store.contactsById.get(id)
  if (c === undefined) throw new SimError(404, 'not_found', `Contact ${id} not found`)
  return c
}

/** The project's contact with this phone number, if any. */
export function contactByNumber(
  store: Store,
  projectId: string,
  phoneNumber: string,
): Contact | undefined {
  return contacts(store, projectId).find((c) => c.phone_number === phoneNumber)
}

/** A new contact of the project, with no messages yet; no notification. */
export function newContact(
  store: Store,
  projectId: string,
  phoneNumber: string,
  name: string | null = null,
): Contact {
  const t = nowSeconds(store)
  const c: Contact = {
    id: newId('CT'),
    name,
    phone_number: phoneNumber,
    time_created: t,
    time_updated: t,
    send_blocked: false,
    conversation_status: 'closed',
    last_message_time: null,
    last_incoming_message_time: null,
    last_outgoing_message_time: null,
    message_count: 0,
    incoming_message_count: 0,
    outgoing_message_count: 0,
    last_message_id: null,
    default_route_id: null,
    group_ids: [],
    vars: {},
    project_id: projectId,
  }
  store.contactsById.set(c.id, c)
  return c
}

/**
 * Adds a contact as a user would in the web app, and notifies the project webhook
 * (`contact_update`, `add`).
 */
export async function addContact(
  store: Store,
  projectId: string,
  input: NewContact,
): Promise<ContactNotified> {
  if (contactByNumber(store, projectId, input.phone_number) !== undefined) {
    throw new SimError(
      400,
      'invalid_param',
      'A contact with this phone number exists',
      'phone_number',
    )
  }
  project(store, projectId)
  const c = newContact(store, projectId, input.phone_number, input.name ?? null)
  if (input.vars) c.vars = mergeVars({}, checkVars(input.vars, 'vars'))
  if (input.group_ids) c.group_ids = checkGroupIds(store, projectId, input.group_ids)
  const delivery = await notifyContact(store, c, 'add')
  return { contact: c, delivery }
}

/**
 * Updates a contact as a user would in the web app and notifies the project webhook.
 * `update_type` defaults to `update`.
 */
export async function updateContact(
  store: Store,
  contactId: string,
  input: ContactChanges,
): Promise<ContactNotified> {
  const c = contact(store, contactId)
  let type: ContactUpdateType = input.update_type ?? 'update'
  if (input.name !== undefined) c.name = input.name
  if (input.phone_number !== undefined) c.phone_number = input.phone_number
  if (input.vars !== undefined) {
    c.vars = mergeVars(c.vars, checkVars(input.vars, 'vars'))
    if (input.update_type === undefined && input.name === undefined) type = 'update_field'
  }
  if (input.send_blocked !== undefined) {
    c.send_blocked = input.send_blocked
    if (input.update_type === undefined) type = input.send_blocked ? 'block_send' : 'unblock_send'
  }
  if (input.add_group_ids !== undefined) {
    for (const g of checkGroupIds(store, c.project_id, input.add_group_ids)) {
      if (!c.group_ids.includes(g)) c.group_ids.push(g)
    }
    if (input.update_type === undefined) type = 'add_group'
  }
  if (input.remove_group_ids !== undefined) {
    c.group_ids = c.group_ids.filter((g) => !input.remove_group_ids?.includes(g))
    if (input.update_type === undefined) type = 'remove_group'
  }
  c.time_updated = nowSeconds(store)
  const delivery = await notifyContact(store, c, type)
  return { contact: c, delivery }
}

/** Deletes a contact and notifies the project webhook (`delete`). */
export async function deleteContact(store: Store, contactId: string): Promise<ContactNotified> {
  const c = contact(store, contactId)
  store.contactsById.delete(contactId)
  const delivery = await notifyContact(store, c, 'delete')
  return { contact: c, delivery }
}

/** Creates a group (or returns the one with this name). */
export function group(store: Store, projectId: string, name: string): Group {
  const p = project(store, projectId)
  for (const g of p.groups.values()) if (g.name === name) return g
  const g: Group = { id: newId('GR'), name, project_id: projectId }
  p.groups.set(g.id, g)
  return g
}

function checkGroupIds(store: Store, projectId: string, ids: unknown): string[] {
  const p = project(store, projectId)
  if (!Array.isArray(ids)) throw invalidParam('group_ids', 'group_ids must be an array')
  for (const id of ids) {
    if (typeof id !== 'string' || !p.groups.has(id)) {
      throw invalidParam('group_ids', `Unknown group id: ${String(id)}`)
    }
  }
  return [...(ids as string[])]
}

/** Sends `contact_update` to the project webhook, when it has one that wants it. */
export async function notifyContact(
  store: Store,
  c: Contact,
  type: ContactUpdateType,
): Promise<Delivery | null> {
  const hook = project(store, c.project_id).webhook
  if (hook === null || !hook.events.contact_update) return null
  const body = encodePayload(
    contactUpdateParams({ contact: c, updateType: type, secret: hook.secret }),
  )
  const { delivery } = await store.deliverer.send({
    event: 'contact_update',
    projectId: c.project_id,
    serviceId: null,
    target: 'project',
    url: hook.url,
    objectId: c.id,
    body,
  })
  return delivery
}
