/**
 * @module types
 * The simulator as the HTTP handlers see it. `rest.ts` and `control.ts` take a
 * {@link SimulatorFace}, which `simulator.ts` implements, so neither imports the class that
 * imports them.
 */
import type { BroadcastSent, NewBroadcast } from './broadcasts.ts'
import type { Scheduler } from './clock.ts'
import type { ContactChanges, ContactNotified, NewContact } from './contacts.ts'
import type { IncomingMessageInput, IncomingOutcome } from './incoming.ts'
import type { MessageNotified, MetadataChange } from './messages.ts'
import type {
  Contact,
  ContactServiceState,
  Delivery,
  Group,
  Message,
  Phone,
  ProjectWebhook,
  Service,
} from './model.ts'
import type { NewProject, ProjectWebhookInput } from './projects.ts'
import type { ProjectState } from './store.ts'

/**
 * What `/v1` and `/_sim` call on the simulator; each member is documented on `Simulator`. An id
 * left out means the default project.
 */
export interface SimulatorFace {
  readonly apiKey: string
  readonly projectId: string
  readonly scheduler: Scheduler
  now(): number
  advance(ms: number): Promise<void>
  settle(): Promise<void>
  createProject(input?: NewProject): ProjectState
  project(id?: string): ProjectState
  projectIdsForKey(key: string): string[]
  setProjectWebhook(projectId: string, webhook: ProjectWebhookInput | null): ProjectWebhook | null
  phones(projectId?: string): Phone[]
  services(projectId?: string): Service[]
  service(projectId: string, serviceId: string): Service
  serviceConfig(projectId: string, serviceId: string): Record<string, unknown>
  setServiceConfig(projectId: string, serviceId: string, config: unknown): Record<string, unknown>
  createService(projectId: string, input: unknown): Service
  updateService(projectId: string, serviceId: string, input: unknown): Service
  deleteService(projectId: string, serviceId: string): void
  contacts(projectId?: string): Contact[]
  contact(id: string): Contact
  addContact(projectId: string, input: NewContact): Promise<ContactNotified>
  updateContact(contactId: string, input: ContactChanges): Promise<ContactNotified>
  deleteContact(contactId: string): Promise<ContactNotified>
  group(projectId: string, name: string): Group
  messages(projectId?: string): Message[]
  message(id: string): Message
  messageMetadata(messageId: string, input: MetadataChange): Promise<MessageNotified>
  deliveries(filter?: { event?: string; status?: Delivery['status'] }): Delivery[]
  incomingMessage(input: IncomingMessageInput): Promise<IncomingOutcome>
  serviceState(contactId: string, serviceId: string): ContactServiceState | undefined
  changeStatus(m: Message, status: string, error: string | null): Promise<Delivery | null>
  clickMessage(messageId: string): Promise<Delivery | null>
  sendMessage(projectId: string, input: unknown): Message
  broadcast(projectId: string, input: NewBroadcast): Promise<BroadcastSent>
}
