/** @module Schemas of the webhook-service routes. */
import { Type } from '@sinclair/typebox'
import { ApplyMode, MessageTypeFilter, Service as TelerivetService } from '@telehook/telerivet-api'
import { IdParam, NO_NUL } from '../../paging'

const DateTime = Type.String({ format: 'date-time' })
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const CreateServiceBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
  priority: Type.Optional(Type.Integer()),
  active: Type.Optional(Type.Boolean()),
  message_types: Type.Optional(Type.Array(MessageTypeFilter)),
  phone_ids: Type.Optional(Type.Union([Type.Array(Type.String({ pattern: NO_NUL })), Type.Null()])),
  apply_mode: Type.Optional(ApplyMode),
  vars: Type.Optional(
    Type.Record(
      Type.String(),
      Type.Union([Type.String({ pattern: NO_NUL }), Type.Number(), Type.Boolean()]),
    ),
  ),
})

export const ServicesParams = Type.Object({ id: IdParam })
export const ServiceParams = Type.Object({ id: IdParam, sid: IdParam })

export const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String()) })

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

export const ServiceState = Type.Union([
  Type.Literal('ok'),
  Type.Literal('drift'),
  Type.Literal('missing_on_telerivet'),
  Type.Literal('pending'),
  Type.Literal('unknown'),
])

export const ServiceListItem = Type.Composite([
  Type.Omit(ServiceOut, ['disabled_at']),
  Type.Object({
    /** pending: created here, Telerivet's answer never recorded (a crash or a lost answer). */
    state: ServiceState,
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
  /** Pending services Telerivet never created: their endpoints were removed here. */
  removed_pending: Type.Array(
    Type.Object({ id: Type.String(), name: Nullable(Type.String()), created_at: DateTime }),
  ),
  telerivet_error: Nullable(Type.String()),
})

export const RotateSecretBody = Type.Optional(
  Type.Object({
    grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
  }),
)
