/**
 * @module simulator
 * A local Telerivet, held in memory, answering through one web-standard `fetch(request)`:
 * the REST subset under `/v1`, the control API under `/_sim`. It delivers webhooks as Telerivet
 * does (see `delivery.ts`) and acts on the replies.
 *
 * The {@link Simulator} is the face: it owns the clock, the deliverer and the {@link Store}, and
 * each method hands its call to the feature module named above its group (projects, services,
 * contacts, messages, incoming and replies, outgoing, broadcasts), where it is documented.
 */
import { WEBHOOK_PORTS } from '@telehook/protocol'
import { type BroadcastSent, broadcast, type NewBroadcast } from './broadcasts.ts'
import { Scheduler } from './clock.ts'
import {
  addContact,
  type ContactChanges,
  type ContactNotified,
  contact,
  contactByNumber,
  contacts,
  deleteContact,
  group,
  type NewContact,
  updateContact,
} from './contacts.ts'
import { handleControl } from './control.ts'
import {
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_RETRY_HORIZON_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  Deliverer,
  type FetchFn,
} from './delivery.ts'
import { jsonError, SimError } from './errors.ts'
import { type IncomingMessageInput, type IncomingOutcome, incomingMessage } from './incoming.ts'
import {
  type MessageNotified,
  type MetadataChange,
  message,
  messageMetadata,
  messages,
} from './messages.ts'
import type {
  Attempt,
  Contact,
  ContactServiceState,
  Delivery,
  Group,
  Message,
  Phone,
  ProjectWebhook,
  Service,
} from './model.ts'
import {
  changeStatus,
  clickMessage,
  type NewOutgoing,
  queueOutgoing,
  sendMessage,
} from './outgoing.ts'
import {
  createProject,
  type NewProject,
  type ProjectWebhookInput,
  phones,
  project,
  projectIdsForKey,
  setProjectWebhook,
  testRoute,
} from './projects.ts'
import { serviceState } from './replies.ts'
import { handleRest } from './rest.ts'
import {
  createService,
  deleteService,
  service,
  serviceConfig,
  services,
  setServiceConfig,
  updateService,
} from './services.ts'
import { createStore, type ProjectState, type Store } from './store.ts'
import type { SimulatorFace } from './types.ts'

/** Options of {@link createSimulator}. */
export interface SimulatorOptions {
  /** API key of the default project (generated when absent). */
  apiKey?: string
  /** Id of the default project (generated when absent). */
  projectId?: string
  /** Name of the default project. */
  projectName?: string
  /** Simulated ms per real ms (default 1). With 3600, one real second is one simulated hour. */
  timeScale?: number
  /** Time moves only through `advance(ms)` (default false: it follows the wall clock). */
  manualClock?: boolean
  /** Simulated start time, ms since the epoch (default: now). */
  startTime?: number
  /** Webhook timeout in simulated ms (default 10 000); the real wait is this / timeScale. */
  webhookTimeoutMs?: number
  /** Delays between delivery attempts in simulated ms; the last repeats (default 1 min … 4 h). */
  retryDelaysMs?: readonly number[]
  /** Give up this long after the first attempt (default 24 h, simulated). */
  retryHorizonMs?: number
  /** Ports allowed in webhook URLs (default 80, 443, 8000, 8080, 8443); 'any' lifts the check. */
  allowedPorts?: readonly number[] | 'any'
  /** The fetch used for webhook requests (default globalThis.fetch). */
  fetch?: FetchFn
  /** Called after every webhook attempt (the CLI logs them). */
  onAttempt?: (delivery: Delivery, attempt: Attempt) => void
}

/** The whole simulated Telerivet. Create with {@link createSimulator}. */
export class Simulator implements SimulatorFace {
  readonly apiKey: string
  readonly projectId: string
  readonly scheduler: Scheduler
  readonly allowedPorts: readonly number[] | 'any'
  private readonly store: Store

  constructor(opts: SimulatorOptions = {}) {
    this.scheduler = new Scheduler({
      ...(opts.timeScale === undefined ? {} : { timeScale: opts.timeScale }),
      manual: opts.manualClock ?? false,
      ...(opts.startTime === undefined ? {} : { start: opts.startTime }),
    })
    this.allowedPorts = opts.allowedPorts ?? WEBHOOK_PORTS
    const deliverer = new Deliverer({
      scheduler: this.scheduler,
      fetch: opts.fetch ?? ((input: string, init: RequestInit) => fetch(input, init)),
      timeoutMs: opts.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      retryDelaysMs: opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      retryHorizonMs: opts.retryHorizonMs ?? DEFAULT_RETRY_HORIZON_MS,
      ...(opts.onAttempt === undefined ? {} : { onAttempt: opts.onAttempt }),
    })
    this.store = createStore({
      scheduler: this.scheduler,
      deliverer,
      allowedPorts: this.allowedPorts,
    })
    const first = this.createProject({
      ...(opts.projectId === undefined ? {} : { id: opts.projectId }),
      ...(opts.projectName === undefined ? {} : { name: opts.projectName }),
      ...(opts.apiKey === undefined ? {} : { apiKey: opts.apiKey }),
    })
    this.projectId = first.project.id
    this.apiKey = opts.apiKey ?? [...first.apiKeys][0] ?? ''
  }

  /** The web-standard request handler: REST under `/v1`, control API under `/_sim`. */
  fetch = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    try {
      if (url.pathname.startsWith('/v1/')) return await handleRest(this, req, url)
      if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
        return await handleControl(this, req, url)
      }
      if (url.pathname === '/' && req.method === 'GET') {
        return Response.json({
          name: 'telehook simulator',
          api_url: `${url.origin}/v1`,
          project_id: this.projectId,
        })
      }
      throw new SimError(404, 'not_found', `No route for ${req.method} ${url.pathname}`)
    } catch (e) {
      if (e instanceof SimError) return jsonError(e)
      return jsonError(
        new SimError(500, 'internal_error', e instanceof Error ? e.message : String(e)),
      )
    }
  }

  // ---- clock ------------------------------------------------------------------------------------

  /** Simulated time, ms since the epoch. */
  now(): number {
    return this.scheduler.now()
  }

  /** Moves simulated time forward, running every retry and status change that falls due. */
  advance(ms: number): Promise<void> {
    return this.scheduler.advance(ms)
  }

  /** Runs whatever is due now and waits for work in flight (status notifications, retries). */
  settle(): Promise<void> {
    return this.scheduler.advance(0)
  }

  /** Stops timers; pending retries are dropped. */
  close(): void {
    this.scheduler.close()
  }

  // ---- projects: projects.ts --------------------------------------------------------------------

  /** {@link createProject} */
  createProject(input: NewProject = {}): ProjectState {
    return createProject(this.store, input)
  }

  /** {@link project}; the default project when no id is given. */
  project(id: string = this.projectId): ProjectState {
    return project(this.store, id)
  }

  /** {@link projectIdsForKey} */
  projectIdsForKey(key: string): string[] {
    return projectIdsForKey(this.store, key)
  }

  /** {@link setProjectWebhook} */
  setProjectWebhook(projectId: string, webhook: ProjectWebhookInput | null): ProjectWebhook | null {
    return setProjectWebhook(this.store, projectId, webhook)
  }

  /** {@link phones}; of the default project when no id is given. */
  phones(projectId: string = this.projectId): Phone[] {
    return phones(this.store, projectId)
  }

  /** {@link testRoute}; of the default project when no id is given. */
  testRoute(projectId: string = this.projectId): Phone {
    return testRoute(this.store, projectId)
  }

  // ---- services: services.ts --------------------------------------------------------------------

  /** {@link services}; of the default project when no id is given. */
  services(projectId: string = this.projectId): Service[] {
    return services(this.store, projectId)
  }

  /** {@link service} */
  service(projectId: string, serviceId: string): Service {
    return service(this.store, projectId, serviceId)
  }

  /** {@link serviceConfig} */
  serviceConfig(projectId: string, serviceId: string): Record<string, unknown> {
    return serviceConfig(this.store, projectId, serviceId)
  }

  /** {@link setServiceConfig} */
  setServiceConfig(projectId: string, serviceId: string, config: unknown): Record<string, unknown> {
    return setServiceConfig(this.store, projectId, serviceId, config)
  }

  /** {@link createService} */
  createService(projectId: string, input: unknown): Service {
    return createService(this.store, projectId, input)
  }

  /** {@link updateService} */
  updateService(projectId: string, serviceId: string, input: unknown): Service {
    return updateService(this.store, projectId, serviceId, input)
  }

  /** {@link deleteService} */
  deleteService(projectId: string, serviceId: string): void {
    deleteService(this.store, projectId, serviceId)
  }

  // ---- contacts: contacts.ts --------------------------------------------------------------------

  /** {@link contacts}; of the default project when no id is given. */
  contacts(projectId: string = this.projectId): Contact[] {
    return contacts(this.store, projectId)
  }

  /** {@link contact} */
  contact(id: string): Contact {
    return contact(this.store, id)
  }

  /** {@link contactByNumber} */
  contactByNumber(projectId: string, phoneNumber: string): Contact | undefined {
    return contactByNumber(this.store, projectId, phoneNumber)
  }

  /** {@link addContact} */
  addContact(projectId: string, input: NewContact): Promise<ContactNotified> {
    return addContact(this.store, projectId, input)
  }

  /** {@link updateContact} */
  updateContact(contactId: string, input: ContactChanges): Promise<ContactNotified> {
    return updateContact(this.store, contactId, input)
  }

  /** {@link deleteContact} */
  deleteContact(contactId: string): Promise<ContactNotified> {
    return deleteContact(this.store, contactId)
  }

  /** {@link group} */
  group(projectId: string, name: string): Group {
    return group(this.store, projectId, name)
  }

  // ---- messages: messages.ts --------------------------------------------------------------------

  /** {@link messages} */
  messages(projectId?: string): Message[] {
    return messages(this.store, projectId)
  }

  /** {@link message} */
  message(id: string): Message {
    return message(this.store, id)
  }

  /** {@link messageMetadata} */
  messageMetadata(messageId: string, input: MetadataChange): Promise<MessageNotified> {
    return messageMetadata(this.store, messageId, input)
  }

  // ---- webhook deliveries: delivery.ts ----------------------------------------------------------

  /** Every webhook delivery with its attempts, oldest first. */
  deliveries(filter: { event?: string; status?: Delivery['status'] } = {}): Delivery[] {
    return this.store.deliverer.all.filter(
      (d) =>
        (filter.event === undefined || d.event === filter.event) &&
        (filter.status === undefined || d.status === filter.status),
    )
  }

  // ---- incoming messages and replies: incoming.ts, replies.ts -----------------------------------

  /** {@link incomingMessage}; to the default project when the input names none. */
  incomingMessage(input: IncomingMessageInput): Promise<IncomingOutcome> {
    return incomingMessage(this.store, input.project_id ?? this.projectId, input)
  }

  /** {@link serviceState} */
  serviceState(contactId: string, serviceId: string): ContactServiceState | undefined {
    return serviceState(this.store, contactId, serviceId)
  }

  // ---- outgoing messages: outgoing.ts -----------------------------------------------------------

  /** {@link queueOutgoing} */
  queueOutgoing(a: NewOutgoing): Message {
    return queueOutgoing(this.store, a)
  }

  /** {@link changeStatus} */
  changeStatus(m: Message, status: string, error: string | null): Promise<Delivery | null> {
    return changeStatus(this.store, m, status, error)
  }

  /** {@link clickMessage} */
  clickMessage(messageId: string): Promise<Delivery | null> {
    return clickMessage(this.store, messageId)
  }

  /** {@link sendMessage} */
  sendMessage(projectId: string, input: unknown): Message {
    return sendMessage(this.store, projectId, input)
  }

  // ---- broadcasts: broadcasts.ts ----------------------------------------------------------------

  /** {@link broadcast} */
  broadcast(projectId: string, input: NewBroadcast): Promise<BroadcastSent> {
    return broadcast(this.store, projectId, input)
  }
}

/** Creates a simulator without listening: `sim.fetch(request)` serves REST and control calls. */
export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  return new Simulator(opts)
}
