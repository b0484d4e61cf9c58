/** @module Schemas of the contact routes (rows derived with drizzle-typebox). */
import { contacts } from '@telehook/db'
import { createSelectSchema } from 'drizzle-typebox'
import { wireSchema } from '../../rows'

export const ContactRow = wireSchema(createSelectSchema(contacts), 'ContactRow')
