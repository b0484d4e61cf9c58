/** @module TypeBox schemas of the Telerivet REST objects this project reads and writes. */
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox'
import {
  APPLY_MODES,
  CONTACT_NUMBER_FILTERS,
  SERVICE_DIRECTIONS,
  SERVICE_MESSAGE_TYPES,
  type ServiceContext,
} from '@telehook/protocol'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

/** Custom variables: string, number or boolean values (null deletes on write). */
export const Vars = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
)
export type Vars = Static<typeof Vars>

/** A Telerivet project (`GET /projects/{id}`); unknown extra fields are kept. */
export const Project = Type.Object(
  {
    id: Type.String(),
    name: Type.Optional(Type.String()),
    timezone_id: Type.Optional(Nullable(Type.String())),
    url_slug: Type.Optional(Nullable(Type.String())),
    default_route_id: Type.Optional(Nullable(Type.String())),
    auto_create_contacts: Type.Optional(Type.Boolean()),
    vars: Type.Optional(Vars),
    organization_id: Type.Optional(Nullable(Type.String())),
  },
  { $id: 'TelerivetProject' },
)
export type Project = Static<typeof Project>

/** A closed union of literals from one of protocol's value lists. */
function Literals<const T extends readonly string[]>(values: T): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)))
}

/** A service's `message_types` filter. */
export const MessageTypeFilter = Literals(SERVICE_MESSAGE_TYPES)
export type MessageTypeFilter = Static<typeof MessageTypeFilter>

export const ApplyMode = Literals(APPLY_MODES)
export type ApplyMode = Static<typeof ApplyMode>

/** A Telerivet service; `service_type` is kept a string so new types never break decoding. */
export const Service = Type.Object(
  {
    id: Type.String(),
    name: Type.Optional(Type.String()),
    service_type: Type.Optional(Type.String()),
    active: Type.Optional(Type.Boolean()),
    priority: Type.Optional(Type.Number()),
    contexts: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    vars: Type.Optional(Vars),
    project_id: Type.Optional(Type.String()),
    response_table_id: Type.Optional(Nullable(Type.String())),
    phone_ids: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
    apply_mode: Type.Optional(Nullable(Type.String())),
    contact_number_filter: Type.Optional(Nullable(Type.String())),
    show_action: Type.Optional(Type.Boolean()),
    direction: Type.Optional(Nullable(Type.String())),
    webhook_url: Type.Optional(Nullable(Type.String())),
  },
  { $id: 'TelerivetService' },
)
export type Service = Static<typeof Service>

/** The config of an `incoming_message_webhook` service. */
export const WebhookServiceConfig = Type.Object({
  url: Type.String(),
  secret: Type.Optional(Type.String()),
})
export type WebhookServiceConfig = Static<typeof WebhookServiceConfig>

/** Body of `createService`. */
export const CreateServiceBody = Type.Object({
  service_type: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
  name: Type.Optional(Type.String()),
  vars: Type.Optional(Vars),
  active: Type.Optional(Type.Boolean()),
  priority: Type.Optional(Type.Integer()),
  response_table_id: Type.Optional(Type.String()),
  phone_ids: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  message_types: Type.Optional(Type.Array(MessageTypeFilter)),
  show_action: Type.Optional(Type.Boolean()),
  contact_number_filter: Type.Optional(Literals(CONTACT_NUMBER_FILTERS)),
  direction: Type.Optional(Literals(SERVICE_DIRECTIONS)),
  apply_mode: Type.Optional(ApplyMode),
})
export type CreateServiceBody = Static<typeof CreateServiceBody>

/** The updatable fields of a service (`service.save`). */
export const UpdateServiceBody = Type.Partial(
  Type.Omit(CreateServiceBody, ['service_type', 'config', 'response_table_id']),
)
export type UpdateServiceBody = Static<typeof UpdateServiceBody>

/** Parameters of `queryServices`; `name` accepts modifiers like `{ prefix: 'x' }`. */
export interface QueryServicesParams {
  name?: string | Record<string, string>
  active?: boolean
  context?: ServiceContext
  sort?: 'default' | 'priority' | 'name'
  sort_dir?: 'asc' | 'desc'
  page_size?: number
  offset?: number
  marker?: string
}

/** One page of a `query*` call. */
export interface Page<T> {
  data: T[]
  truncated: boolean
  next_marker: string | null
}

export const PageEnvelope = Type.Object({
  data: Type.Array(Type.Unknown()),
  truncated: Type.Optional(Type.Boolean()),
  next_marker: Type.Optional(Nullable(Type.String())),
})

/** Body of `sendMessage`. */
export const SendMessageBody = Type.Object({
  content: Type.Optional(Type.String()),
  to_number: Type.Optional(Type.String()),
  contact_id: Type.Optional(Type.String()),
  route_id: Type.Optional(Type.String()),
  message_type: Type.Optional(Type.String()),
  status_url: Type.Optional(Type.String()),
  status_secret: Type.Optional(Type.String()),
  vars: Type.Optional(Vars),
})
export type SendMessageBody = Static<typeof SendMessageBody>

/** A message as Telerivet returns it; only `id` is relied upon. */
export const Message = Type.Object(
  {
    id: Type.String(),
    status: Type.Optional(Type.String()),
    direction: Type.Optional(Type.String()),
    content: Type.Optional(Nullable(Type.String())),
    to_number: Type.Optional(Nullable(Type.String())),
    from_number: Type.Optional(Nullable(Type.String())),
    project_id: Type.Optional(Type.String()),
  },
  { $id: 'TelerivetMessage' },
)
export type Message = Static<typeof Message>
