import { integer, jsonb, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { telehook, timestamps, timestamptz } from './telehook'

/** Broadcasts from `send_broadcast`, keyed by (project, Telerivet id) like messages. */
export const broadcasts = telehook.table(
  'broadcasts',
  {
    id: text().notNull(),
    projectId: text().notNull().default(''),
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
  },
  (t) => [primaryKey({ name: 'broadcasts_project_id_pk', columns: [t.projectId, t.id] })],
)
