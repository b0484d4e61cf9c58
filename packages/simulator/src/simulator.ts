/**
 * @module simulator
 * A local Telerivet, held in memory, answering through one web-standard `fetch(request)`:
 * the REST subset under `/v1`, the control API under `/_sim`. It delivers webhooks as Telerivet
 * does (see `delivery.ts`) and acts on the replies.
 */
import { isValidReply, replyErrors, WEBHOOK_PORTS, type WebhookReply } from '@telehook/protocol'
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
  newContact,
  notifyContact,
  serviceState,
  updateContact,
} from './contacts.ts'
import { handleControl } from './control.ts'
import {
  type AttemptResult,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_RETRY_HORIZON_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  Deliverer,
  type FetchFn,
} from './delivery.ts'
import { jsonError, SimError } from './errors.ts'
import {
  type MessageNotified,
  type MetadataChange,
  message,
  messageMetadata,
  messages,
  newMessage,
} from './messages.ts'
import type {
  Attempt,
  Contact,
  ContactServiceState,
  Delivery,
  Group,
  Media,
  Message,
  Phone,
  ProjectWebhook,
  ProjectWebhookEvents,
  Service,
  Vars,
} from './model.ts'
import {
  changeStatus,
  clickMessage,
  type NewOutgoing,
  queueOutgoing,
  sendMessage,
} from './outgoing.ts'
import { encodePayload, incomingMessageParams } from './payloads.ts'
import {
  createProject,
  phones,
  project,
  projectIdsForKey,
  setProjectWebhook,
  testRoute,
} from './projects.ts'
import { handleRest } from './rest.ts'
import {
  createService,
  deleteService,
  service,
  serviceConfig,
  serviceRecords,
  services,
  setServiceConfig,
  updateService,
} from './services.ts'
import { createStore, nowSeconds, type ProjectState, type Store } from './store.ts'

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

/** An incoming message to simulate. */
export interface IncomingMessageInput {
  /** Default: the simulator's default project. */
  project_id?: string
  from_number: string
  /** Your phone's number (default: the default route's number). */
  to_number?: string
  content: string
  /** sms (default; mms when media is given), mms, ussd, call, chat. */
  message_type?: string
  media?: Media[]
  /** The phone that received it (default: the one whose number is `to_number`, else the default route). */
  phone_id?: string
}

/** What one service's webhook did with an incoming message. */
export interface ServiceOutcome {
  service_id: string
  delivery_id: string
  /** Status of the first attempt (null: no answer). */
  http_status: number | null
  ok: boolean
  error: string | null
  reply_body: string | null
  /** The parsed reply, when the body was a valid webhook reply. */
  reply: WebhookReply | null
  /** Why the body was not acted upon, when it was not a valid reply. */
  reply_errors: string[]
  /** What Telerivet asks for that the reply lacked (acted upon all the same). */
  reply_warnings: string[]
  /** The outgoing messages the reply caused. */
  messages: Message[]
  /** Temporary `$` variables the reply set. */
  temporary_variables: Record<string, unknown>
}

/** The answer of {@link Simulator.incomingMessage}. */
export interface IncomingOutcome {
  message: Message
  contact: Contact
  /** One entry per service that was invoked, in order. */
  deliveries: ServiceOutcome[]
  /** True when a service handled the message (sent messages without `return_value` false). */
  handled: boolean
}

/** The whole simulated Telerivet. Create with {@link createSimulator}. */
export class Simulator {
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
    const project = this.createProject({
      ...(opts.projectId === undefined ? {} : { id: opts.projectId }),
      ...(opts.projectName === undefined ? {} : { name: opts.projectName }),
      ...(opts.apiKey === undefined ? {} : { apiKey: opts.apiKey }),
    })
    this.projectId = project.project.id
    this.apiKey = opts.apiKey ?? [...project.apiKeys][0] ?? ''
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

  // ---- clock -------------------------------------------------------------------------------

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

  // ---- projects: projects.ts ------------------------------------------------------------------

  /** {@link createProject} */
  createProject(input: { id?: string; name?: string; apiKey?: string } = {}): ProjectState {
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
  setProjectWebhook(
    projectId: string,
    webhook: { url: string; secret?: string | null; events?: Partial<ProjectWebhookEvents> } | null,
  ): ProjectWebhook | null {
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

  // ---- services: services.ts ------------------------------------------------------------------

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

  // ---- contacts: contacts.ts ------------------------------------------------------------------

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

  /** {@link serviceState} */
  serviceState(contactId: string, serviceId: string): ContactServiceState | undefined {
    return serviceState(this.store, contactId, serviceId)
  }

  // ---- messages: messages.ts ------------------------------------------------------------------

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

  // ---- webhook deliveries: delivery.ts -------------------------------------------------------

  /** Every webhook delivery with its attempts, oldest first. */
  deliveries(filter: { event?: string; status?: Delivery['status'] } = {}): Delivery[] {
    return this.store.deliverer.all.filter(
      (d) =>
        (filter.event === undefined || d.event === filter.event) &&
        (filter.status === undefined || d.status === filter.status),
    )
  }

  private phoneFor(
    p: ProjectState,
    phoneId: string | undefined,
    toNumber: string | undefined,
  ): Phone {
    if (phoneId !== undefined) {
      const ph = p.phones.get(phoneId)
      if (ph === undefined)
        throw new SimError(400, 'invalid_param', `Unknown phone id ${phoneId}`, 'phone_id')
      return ph
    }
    if (toNumber !== undefined) {
      for (const ph of p.phones.values()) if (ph.phone_number === toNumber) return ph
    }
    const def = p.phones.get(p.project.default_route_id)
    if (def === undefined) throw new SimError(500, 'internal_error', 'Project has no default route')
    return def
  }

  /**
   * A phone user sends a message to the project: the contact is found or created (notifying
   * `contact_update` `auto_add`), then the active `incoming_message_webhook` services run in
   * priority order with Telerivet's apply_mode and fall-through rules. Resolves once every
   * service's first attempt is answered and its reply acted upon.
   */
  async incomingMessage(input: IncomingMessageInput): Promise<IncomingOutcome> {
    const p = this.project(input.project_id ?? this.projectId)
    const projectId = p.project.id
    if (typeof input.from_number !== 'string' || input.from_number === '') {
      throw new SimError(400, 'invalid_param', 'from_number is required', 'from_number')
    }
    if (typeof input.content !== 'string') {
      throw new SimError(400, 'invalid_param', 'content must be a string', 'content')
    }
    const phone = this.phoneFor(p, input.phone_id, input.to_number)
    let contact = this.contactByNumber(projectId, input.from_number)
    let created = false
    if (contact === undefined) {
      contact = newContact(this.store, projectId, input.from_number)
      created = true
    }
    const media = input.media ?? []
    const message = newMessage(this.store, {
      direction: 'incoming',
      status: 'received',
      message_type: input.message_type ?? (media.length > 0 ? 'mms' : 'sms'),
      source: 'phone',
      from_number: input.from_number,
      to_number: input.to_number ?? phone.phone_number,
      content: input.content,
      phone_id: phone.id,
      contact_id: contact.id,
      project_id: projectId,
      media,
    })
    message.time_sent = message.time_created
    phone.last_active_time = message.time_created
    if (created) await notifyContact(this.store, contact, 'auto_add')

    const outcomes: ServiceOutcome[] = []
    let handled = false
    const tempVars: Record<string, unknown> = {}
    for (const svc of serviceRecords(this.store, projectId)) {
      if (!svc.active || svc.service_type !== 'incoming_message_webhook') continue
      if (!serviceApplies(svc, message)) continue
      if (svc.apply_mode === 'unhandled' && handled) continue
      message.service_id ??= svc.id
      const outcome = await this.invokeService(svc, message, contact, phone, tempVars)
      outcomes.push(outcome)
      if (
        outcome.ok &&
        outcome.messages.length > 0 &&
        outcome.reply?.variables?.return_value !== false
      ) {
        handled = true
      }
    }
    return { message, contact, deliveries: outcomes, handled }
  }

  private async invokeService(
    svc: Service & { config: Record<string, unknown> },
    message: Message,
    contact: Contact,
    phone: Phone,
    tempVars: Record<string, unknown>,
  ): Promise<ServiceOutcome> {
    const secret = typeof svc.config.secret === 'string' ? svc.config.secret : null
    const handlerServiceId = message.service_id ?? svc.id
    const body = encodePayload(
      incomingMessageParams({
        message,
        contact,
        phone,
        state: this.serviceState(contact.id, svc.id) ?? null,
        service: svc,
        handlerServiceId,
        secret,
      }),
    )
    const outcome: ServiceOutcome = {
      service_id: svc.id,
      delivery_id: '',
      http_status: null,
      ok: false,
      error: null,
      reply_body: null,
      reply: null,
      reply_errors: [],
      reply_warnings: [],
      messages: [],
      temporary_variables: tempVars,
    }
    // Telerivet acts on the reply of whichever attempt succeeds, the first or a retry.
    const onDelivered = async (_d: Delivery, result: AttemptResult) => {
      const parsed = parseReply(result.response_body)
      outcome.reply = parsed.reply
      outcome.reply_errors = parsed.errors
      const type = (result.response_content_type ?? '').split(';')[0]?.trim().toLowerCase()
      if (parsed.reply !== null && type !== 'application/json') {
        outcome.reply_warnings.push(
          `the reply has Content-Type ${result.response_content_type ?? '(none)'}; Telerivet asks for application/json`,
        )
      }
      if (parsed.reply !== null) {
        outcome.messages = await this.actOnReply(
          parsed.reply,
          message,
          contact,
          phone,
          svc,
          tempVars,
        )
      }
    }
    const { delivery, result } = await this.store.deliverer.send(
      {
        event: 'incoming_message',
        projectId: message.project_id,
        serviceId: svc.id,
        target: 'service',
        url: String(svc.config.url),
        objectId: message.id,
        body,
      },
      onDelivered,
    )
    outcome.delivery_id = delivery.id
    outcome.http_status = result.http_status
    outcome.ok = result.ok
    outcome.error = result.error
    outcome.reply_body = result.response_body
    return outcome
  }

  private async actOnReply(
    reply: WebhookReply,
    incoming: Message,
    contact: Contact,
    phone: Phone,
    svc: Service,
    tempVars: Record<string, unknown>,
  ): Promise<Message[]> {
    if (reply.variables)
      this.applyVariables(reply.variables, incoming, contact, phone, svc, tempVars)
    const sent: Message[] = []
    for (const m of reply.messages ?? []) {
      const type = m.message_type ?? 'sms'
      sent.push(
        this.queueOutgoing({
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

  private applyVariables(
    variables: Record<string, string | number | boolean | null>,
    incoming: Message,
    contact: Contact,
    phone: Phone,
    svc: Service,
    tempVars: Record<string, unknown>,
  ): void {
    const now = nowSeconds(this.store)
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
        if (value === null) this.store.states.delete(key)
        else this.upsertState(contact, svc, now).id = String(value)
      } else if (name.startsWith('state.vars.')) {
        setVar(this.upsertState(contact, svc, now).vars, name.slice('state.vars.'.length), value)
      } else if (name.startsWith('message.vars.')) {
        setVar(incoming.vars, name.slice('message.vars.'.length), value)
      } else if (name.startsWith('phone.vars.')) {
        setVar(phone.vars, name.slice('phone.vars.'.length), value)
      } else if (name.startsWith('project.vars.')) {
        setVar(this.project(incoming.project_id).project.vars, name.slice(13), value)
      } else if (name.startsWith('service.vars.')) {
        setVar(svc.vars, name.slice('service.vars.'.length), value)
      }
    }
  }

  private upsertState(contact: Contact, svc: Service, now: number): ContactServiceState {
    const key = `${contact.id}/${svc.id}`
    let s = this.store.states.get(key)
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
      this.store.states.set(key, s)
    }
    s.time_updated = now
    return s
  }

  // ---- outgoing messages: outgoing.ts -------------------------------------------------------

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

  // ---- broadcasts: broadcasts.ts -------------------------------------------------------------

  /** {@link broadcast} */
  broadcast(projectId: string, input: NewBroadcast): Promise<BroadcastSent> {
    return broadcast(this.store, projectId, input)
  }
}

/** Creates a simulator without listening: `sim.fetch(request)` serves REST and control calls. */
export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  return new Simulator(opts)
}

// ---- helpers -----------------------------------------------------------------------------------

/** Whether a service's filters admit this incoming message. */
function serviceApplies(svc: Service, m: Message): boolean {
  if (svc.phone_ids !== null && !svc.phone_ids.includes(m.phone_id)) return false
  if (svc.message_types !== null) {
    const t = m.message_type
    const kinds = new Set([t === 'ussd' ? 'ussd_session' : t])
    if (t === 'sms' || t === 'mms' || t === 'chat') kinds.add('text')
    if (!svc.message_types.some((k) => kinds.has(k))) return false
  }
  // long_number: Telerivet skips short codes and alphanumeric sender ids. A USSD response's
  // from_number is the USSD code, never a contact's number, so the filter does not apply to it.
  if (svc.contact_number_filter === 'long_number' && m.message_type !== 'ussd') {
    return /^\+?\d{7,}$/.test(m.from_number.replace(/[\s().-]/g, ''))
  }
  return true
}

function parseReply(body: string | null): { reply: WebhookReply | null; errors: string[] } {
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
