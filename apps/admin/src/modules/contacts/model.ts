/** @module Schemas of the contact routes (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { contacts } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { IdParam, LimitParam } from '../../paging'
import { wireSchema } from '../../rows'

export const ContactIdParams = Type.Object({ id: IdParam })

/** Mirror rows are keyed by (project, id): `project_id` picks one when an id is in several. */
export const ContactProjectQuery = Type.Object({ project_id: Type.Optional(IdParam) })

export const ContactRow = wireSchema(createSelectSchema(contacts), 'ContactRow')

export const ContactsQuery = Type.Object({
  project_id: Type.Optional(Type.String({ maxLength: 64 })),
  phone: Type.Optional(
    Type.String({ maxLength: 40, description: 'Digits the phone number contains' }),
  ),
  name: Type.Optional(Type.String({ maxLength: 200, description: 'Text the name contains' })),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
})

export const ContactPage = Type.Object({
  data: Type.Array(ContactRow),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})
