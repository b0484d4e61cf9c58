/**
 * @module store
 * What the simulator holds in memory, shared by its feature modules (projects, services, contacts,
 * messages, broadcasts): one {@link Store} per `Simulator`, passed as the first argument.
 */
import type { Scheduler } from './clock.ts'
import type { Deliverer } from './delivery.ts'
import type {
  Broadcast,
  Contact,
  ContactServiceState,
  Group,
  Message,
  Phone,
  Project,
  ProjectWebhook,
  Service,
} from './model.ts'

/** A service with what the REST view leaves out: its type-specific config and creation order. */
export type ServiceRecord = Service & { config: Record<string, unknown>; seq: number }

/** Everything the simulator keeps per project. */
export interface ProjectState {
  project: Project
  apiKeys: Set<string>
  webhook: ProjectWebhook | null
  phones: Map<string, Phone>
  services: Map<string, ServiceRecord>
  groups: Map<string, Group>
  serviceSeq: number
}

/** The simulator's objects, its clock and its webhook deliverer. */
export interface Store {
  readonly scheduler: Scheduler
  readonly deliverer: Deliverer
  /** Ports allowed in webhook URLs; 'any' lifts the check. */
  readonly allowedPorts: readonly number[] | 'any'
  readonly projects: Map<string, ProjectState>
  readonly contactsById: Map<string, Contact>
  readonly messagesById: Map<string, Message>
  readonly broadcastsById: Map<string, Broadcast>
  /** Each contact's state per service, by `contactId/serviceId`. */
  readonly states: Map<string, ContactServiceState>
  /** Where an outgoing message's statuses go when it was sent with a `status_url`. */
  readonly statusTargets: Map<string, { url: string; secret: string | null }>
}

/** A store with no project yet. */
export function createStore(a: {
  scheduler: Scheduler
  deliverer: Deliverer
  allowedPorts: readonly number[] | 'any'
}): Store {
  return {
    ...a,
    projects: new Map(),
    contactsById: new Map(),
    messagesById: new Map(),
    broadcastsById: new Map(),
    states: new Map(),
    statusTargets: new Map(),
  }
}

/** Simulated time in UNIX seconds, as Telerivet's timestamps are. */
export function nowSeconds(store: Store): number {
  return Math.floor(store.scheduler.now() / 1000)
}
