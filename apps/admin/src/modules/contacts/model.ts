/** @module Schemas of the contact routes (rows derived with drizzle-typebox). */
import { Type } from '@sinclair/typebox'
import { contacts } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { IdParam } from '../../paging'
import { wireSchema } from '../../rows'

export const ContactIdParams = Type.Object({ id: IdParam })

export const ContactRow = wireSchema(createSelectSchema(contacts), 'ContactRow')
