/**
 * @module projects
 * Projects as the simulator keeps them: each with an Android phone as its default route, a test
 * route, and the project webhook that receives project-level notifications.
 */
import { checkHttpUrl } from './checks.ts'
import { invalidParam, SimError } from './errors.ts'
import { newApiKey, newId } from './ids.ts'
import type { Phone, ProjectWebhook, ProjectWebhookEvents } from './model.ts'
import { nowSeconds, type ProjectState, type Store } from './store.ts'

/** A project to add; what is left out is generated. */
export interface NewProject {
  id?: string
  name?: string
  apiKey?: string
}

/** The project webhook to set; `events` left out are on. */
export interface ProjectWebhookInput {
  url: string
  secret?: string | null
  events?: Partial<ProjectWebhookEvents>
}

/** Project Settings as they start: every notification on. */
const ALL_EVENTS: ProjectWebhookEvents = {
  send_status: true,
  send_broadcast: true,
  contact_update: true,
  message_metadata: true,
}

/** Adds a project with a default route and a test route. */
export function createProject(store: Store, input: NewProject = {}): ProjectState {
  const id = input.id ?? newId('PJ')
  if (store.projects.has(id)) throw invalidParam('id', 'Project exists')
  const t = nowSeconds(store)
  const phone = (name: string, number: string, type: string): Phone => ({
    id: newId('PN'),
    name,
    phone_number: number,
    phone_type: type,
    country: 'US',
    send_paused: false,
    time_created: t,
    last_active_time: t,
    vars: {},
    project_id: id,
    battery: type === 'android' ? 87 : null,
    charging: type === 'android' ? false : null,
    internet_type: type === 'android' ? 'wifi' : null,
    app_version: type === 'android' ? '3.14.1' : null,
    android_sdk: type === 'android' ? 34 : null,
    mccmnc: type === 'android' ? '310260' : null,
    manufacturer: type === 'android' ? 'Google' : null,
    model: type === 'android' ? 'Pixel 8' : null,
    send_limit: null,
  })
  const main = phone('Android phone', '+16505550100', 'android')
  const test = phone('Test Number', '+15005550006', 'test')
  const state: ProjectState = {
    project: {
      id,
      name: input.name ?? 'Simulated project',
      timezone_id: 'UTC',
      url_slug: `sim-${id.slice(2, 8).toLowerCase()}`,
      default_route_id: main.id,
      auto_create_contacts: true,
      vars: {},
      organization_id: 'OG0000000000000000',
    },
    apiKeys: new Set([input.apiKey ?? newApiKey()]),
    webhook: null,
    phones: new Map([
      [main.id, main],
      [test.id, test],
    ]),
    services: new Map(),
    groups: new Map(),
    serviceSeq: 0,
  }
  store.projects.set(id, state)
  return state
}

/** The project, or a `not_found` error. */
export function project(store: Store, id: string): ProjectState {
  const p = store.projects.get(id)
  if (p === undefined) throw new SimError(404, 'not_found', `Project ${id} not found`)
  return p
}

/** The project whose key this is, when the key is known at all. */
export function projectIdsForKey(store: Store, key: string): string[] {
  const ids: string[] = []
  for (const p of store.projects.values()) if (p.apiKeys.has(key)) ids.push(p.project.id)
  return ids
}

/** Sets (or clears, with null) the project webhook for project-level notifications. */
export function setProjectWebhook(
  store: Store,
  projectId: string,
  webhook: ProjectWebhookInput | null,
): ProjectWebhook | null {
  const p = project(store, projectId)
  if (webhook === null) {
    p.webhook = null
    return null
  }
  checkHttpUrl(webhook.url, 'url')
  p.webhook = {
    url: webhook.url,
    secret: webhook.secret ?? null,
    events: { ...ALL_EVENTS, ...(webhook.events ?? {}) },
  }
  return p.webhook
}

/** The project's phones and routes. */
export function phones(store: Store, projectId: string): Phone[] {
  return [...project(store, projectId).phones.values()]
}

/** The project's test route (Telerivet's "Test Number"). */
export function testRoute(store: Store, projectId: string): Phone {
  const phone = phones(store, projectId).find((p) => p.phone_type === 'test')
  if (phone === undefined) throw new SimError(404, 'not_found', 'No test route')
  return phone
}
