/** @module Schemas of the project routes. */
import { Type } from '@sinclair/typebox'
import { IdParam, NO_NUL } from '../../paging'

const DateTime = Type.String({ format: 'date-time' })

export const CreateProjectBody = Type.Object({
  project_id: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: NO_NUL,
    description: 'Telerivet project id (PJ…)',
  }),
  api_key: Type.String({ minLength: 1, maxLength: 256, description: 'Never returned or logged' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
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

export const ProjectIdParams = Type.Object({ id: IdParam })

export const ProjectList = Type.Object({ data: Type.Array(ProjectOut) })

export const ProjectDeleted = Type.Object({
  id: Type.String(),
  deleted: Type.Boolean(),
  services_deleted: Type.Integer(),
})

export const ProjectWebhookOut = Type.Object({
  id: Type.String(),
  project_id: Type.String(),
  url: Type.String(),
  secret: Type.String({ description: 'Shown once: paste it into Telerivet project settings' }),
  previous_secret_expires_at: Type.Union([DateTime, Type.Null()]),
})
