/**
 * @module model
 * The simulator's in-memory objects. Each is kept in Telerivet's REST shape (snake_case fields,
 * timestamps in UNIX seconds), so REST answers and webhook bodies are views of the same record.
 */
import type {
  ApplyMode,
  ContactNumberFilter,
  ServiceDirection,
  ServiceMessageType,
} from '@telehook/protocol'

/** Custom variables as Telerivet stores them. */
export type Vars = Record<string, string | number | boolean>

/** A Telerivet project (`GET /v1/projects/:id`). */
export interface Project {
  id: string
  name: string
  timezone_id: string
  url_slug: string
  default_route_id: string
  auto_create_contacts: boolean
  vars: Vars
  organization_id: string
}

/** Which project-level notifications the project webhook receives (Project Settings). */
export interface ProjectWebhookEvents {
  send_status: boolean
  send_broadcast: boolean
  contact_update: boolean
  message_metadata: boolean
}

/** The project's webhook URL and secret for project-level notifications. */
export interface ProjectWebhook {
  url: string
  secret: string | null
  events: ProjectWebhookEvents
}

/** A phone or route. */
export interface Phone {
  id: string
  name: string
  phone_number: string
  phone_type: string
  country: string
  send_paused: boolean
  time_created: number
  last_active_time: number
  vars: Vars
  project_id: string
  battery: number | null
  charging: boolean | null
  internet_type: string | null
  app_version: string | null
  android_sdk: number | null
  mccmnc: string | null
  manufacturer: string | null
  model: string | null
  send_limit: number | null
}

/** A contact. */
export interface Contact {
  id: string
  name: string | null
  phone_number: string
  time_created: number
  time_updated: number
  send_blocked: boolean
  conversation_status: 'closed' | 'active' | 'handled'
  last_message_time: number | null
  last_incoming_message_time: number | null
  last_outgoing_message_time: number | null
  message_count: number
  incoming_message_count: number
  outgoing_message_count: number
  last_message_id: string | null
  default_route_id: string | null
  group_ids: string[]
  vars: Vars
  project_id: string
}

/** A contact's state within one service (`state[...]`). */
export interface ContactServiceState {
  id: string
  contact_id: string
  service_id: string
  vars: Vars
  time_created: number
  time_updated: number
  project_id: string
}

/** A service, as the REST API returns it. */
export interface Service {
  id: string
  name: string
  service_type: string
  active: boolean
  priority: number
  contexts: Record<string, Record<string, true>>
  vars: Vars
  project_id: string
  response_table_id: string | null
  phone_ids: string[] | null
  message_types: ServiceMessageType[] | null
  apply_mode: ApplyMode
  contact_number_filter: ContactNumberFilter
  show_action: boolean
  direction: ServiceDirection | null
  webhook_url: string | null
}

/** A media attachment of an MMS. */
export interface Media {
  url: string
  type?: string
  filename?: string
  size?: number
}

/** A message, incoming or outgoing. */
export interface Message {
  id: string
  direction: 'incoming' | 'outgoing'
  status: string
  message_type: string
  source: string
  time_created: number
  time_sent: number | null
  time_updated: number
  time_clicked: number | null
  from_number: string
  to_number: string
  content: string
  starred: boolean
  simulated: boolean
  label_ids: string[]
  route_params: Record<string, unknown>
  vars: Vars
  priority: number
  send_attempts: number
  error_message: string | null
  error_code: string | null
  external_id: string | null
  num_parts: number
  price: number | null
  price_currency: string | null
  duration: number | null
  ring_time: number | null
  audio_url: string | null
  tts_lang: string | null
  tts_voice: string | null
  track_clicks: boolean
  short_urls: string[]
  network_code: string | null
  media: Media[]
  mms_parts: Record<string, unknown>[]
  service_id: string | null
  phone_id: string
  contact_id: string
  route_id: string
  broadcast_id: string | null
  scheduled_id: string | null
  user_id: string | null
  project_id: string
}

/** A broadcast recipient description. */
export type BroadcastRecipient =
  | { type: 'phone_number'; phone_number: string }
  | { type: 'contact'; id: string; name: string | null; phone_number: string }
  | { type: 'group'; id: string; name: string }

/** A broadcast. */
export interface Broadcast {
  id: string
  recipients: BroadcastRecipient[]
  title: string
  time_created: number
  last_message_time: number | null
  last_send_time: number | null
  status_counts: Record<string, number>
  message_count: number
  estimated_count: number
  num_parts: number
  message_type: string
  content: string
  audio_url: string | null
  tts_lang: string | null
  tts_voice: string | null
  replace_variables: boolean
  status: string
  source: string
  simulated: boolean
  track_clicks: boolean
  clicked_count: number
  label_ids: string[]
  media: Media[]
  vars: Vars
  route_params: Record<string, unknown>
  price: number | null
  price_currency: string | null
  reply_count: number
  last_reply_time: number | null
  route_id: string
  service_id: string | null
  user_id: string | null
  project_id: string
}

/** A group of contacts. */
export interface Group {
  id: string
  name: string
  project_id: string
}

/** One HTTP attempt of a webhook delivery. */
export interface Attempt {
  /** 1 for the first attempt. */
  number: number
  /** Simulated time of the attempt, ms since the epoch. */
  time: number
  /** HTTP status, or null when no response arrived (timeout, refused connection). */
  http_status: number | null
  /** Real duration of the request in ms. */
  duration_ms: number
  /** The response body (first 64 KiB), or null when no response arrived. */
  response_body: string | null
  /** The response's Content-Type, or null. */
  response_content_type: string | null
  /** Why the attempt failed, or null when it succeeded (200). */
  error: string | null
}

/** A webhook notification and every attempt made to deliver it. */
export interface Delivery {
  id: string
  event: string
  project_id: string
  /** The service that sent it (incoming_message), else null. */
  service_id: string | null
  /** Where the URL came from. */
  target: 'service' | 'project' | 'status_url'
  url: string
  /** The Telerivet object the event is about (message, contact, broadcast id). */
  object_id: string
  /** The form body sent, exactly as sent (including `secret`). */
  body: string
  /** pending: a retry is scheduled; delivered: a 200 arrived; failed: given up after 24 h. */
  status: 'pending' | 'delivered' | 'failed'
  attempts: Attempt[]
  /** Simulated time of the first attempt. */
  created_at: number
  /** Simulated time of the next attempt, or null. */
  next_attempt_at: number | null
}
