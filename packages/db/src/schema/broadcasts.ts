import { integer, jsonb, text, uuid } from 'drizzle-orm/pg-core'
import { telehook, timestamps, timestamptz } from './telehook'

/** Broadcasts from `send_broadcast`. */
export const broadcasts = telehook.table('broadcasts', {
  id: text().primaryKey(),
  projectId: text(),
  title: text(),
  content: text(),
  messageType: text(),
  status: text(),
  source: text(),
  recipientsStr: text(),
  recipients: jsonb().$type<unknown[]>(),
  estimatedCount: integer(),
  routeId: text(),
  serviceId: text(),
  userId: text(),
  userName: text(),
  userEmail: text(),
  timeCreated: timestamptz(),
  vars: jsonb().$type<Record<string, unknown>>(),
  lastEventId: uuid(),
  ...timestamps,
})
