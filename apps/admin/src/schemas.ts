/** @module Request and response schemas of the admin API (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { contacts, events, messageStatusHistory, messages } from '@telehook/db'
import { ApplyMode, MessageTypeFilter, Service as TelerivetService } from '@telehook/telerivet-api'
import { createSelectSchema } from 'drizzle-typebox'
import { wireSchema } from './rows'

const DateTime = Type.String({ format: 'date-time' })
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const EventRow = wireSchema(createSelectSchema(events), 'EventRow')
export const MessageRow = wireSchema(createSelectSchema(messages), 'MessageRow')
export const StatusHistoryRow = wireSchema(createSelectSchema(messageStatusHistory), 'StatusRow')
export const ContactRow = wireSchema(createSelectSchema(contacts), 'ContactRow')

export const CreateProjectBody = Type.Object({
  project_id: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'Telerivet project id (PJ…)',
  }),
  api_key: Type.String({ minLength: 1, maxLength: 256, description: 'Never returned or logged' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
})

export const ProjectOut = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Project' },
)

export const CreateServiceBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  priority: Type.Optional(Type.Integer()),
  active: Type.Optional(Type.Boolean()),
  message_types: Type.Optional(Type.Array(MessageTypeFilter)),
  phone_ids: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  apply_mode: Type.Optional(ApplyMode),
  vars: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  ),
})

export const ServiceOut = Type.Object(
  {
    id: Type.String({ description: 'Telehook endpoint id: deliveries go to /hooks/<id>' }),
    project_id: Type.String(),
    name: Nullable(Type.String()),
    telerivet_service_id: Nullable(Type.String()),
    url: Type.String(),
    created_at: DateTime,
    disabled_at: Nullable(DateTime),
    previous_secret_expires_at: Nullable(DateTime),
  },
  { $id: 'Service' },
)

/** What the service list shows of Telerivet's own record. */
export const TelerivetServiceState = Type.Pick(TelerivetService, [
  'name',
  'active',
  'priority',
  'webhook_url',
])

export const ServiceListItem = Type.Composite([
  Type.Omit(ServiceOut, ['disabled_at']),
  Type.Object({
    /** pending: created here, Telerivet's answer never recorded (a crash or a lost answer). */
    state: Type.Union([
      Type.Literal('ok'),
      Type.Literal('drift'),
      Type.Literal('missing_on_telerivet'),
      Type.Literal('pending'),
      Type.Literal('unknown'),
    ]),
    drift: Type.Array(Type.String()),
    telerivet: Type.Union([TelerivetServiceState, Type.Null()]),
  }),
])

export const ServiceList = Type.Object({
  data: Type.Array(ServiceListItem),
  /** Telerivet webhook services pointing at this Telehook whose endpoint is unknown here. */
  unmanaged: Type.Array(
    Type.Object({ telerivet_service_id: Type.String(), webhook_url: Nullable(Type.String()) }),
  ),
  telerivet_error: Nullable(Type.String()),
})

export const ProjectWebhookOut = Type.Object({
  id: Type.String(),
  project_id: Type.String(),
  url: Type.String(),
  secret: Type.String({ description: 'Shown once: paste it into Telerivet project settings' }),
  previous_secret_expires_at: Nullable(DateTime),
})

export const EventsQuery = Type.Object({
  project_id: Type.Optional(Type.String()),
  endpoint_id: Type.Optional(Type.String()),
  event: Type.Optional(Type.String()),
  valid: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  since: Type.Optional(Type.String({ description: 'ISO time, inclusive' })),
  until: Type.Optional(Type.String({ description: 'ISO time, exclusive' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  cursor: Type.Optional(Type.String()),
})

export const EventPage = Type.Object({
  data: Type.Array(EventRow),
  next_cursor: Nullable(Type.String()),
})

export const MessageOut = Type.Composite([
  MessageRow,
  Type.Object({ status_history: Type.Array(StatusHistoryRow) }),
])
