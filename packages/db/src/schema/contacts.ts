import { boolean, index, integer, jsonb, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { telehook, timestamps, timestamptz } from './telehook'

/**
 * Contacts mirrored from `contact_update` and from the `contact[...]` of incoming messages, keyed
 * by (project, Telerivet id) like messages.
 */
export const contacts = telehook.table(
  'contacts',
  {
    id: text().notNull(),
    projectId: text().notNull().default(''),
    name: text(),
    phoneNumber: text(),
    sendBlocked: boolean().notNull().default(false),
    /** Set by a `contact_update` with `update_type=delete`; the row is kept. */
    deleted: boolean().notNull().default(false),
    groupIds: text().array().notNull().default([]),
    vars: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    conversationStatus: text(),
    messageCount: integer(),
    timeCreated: timestamptz(),
    timeUpdated: timestamptz(),
    lastMessageTime: timestamptz(),
    /** The `update_type` of the last `contact_update` applied. */
    lastUpdateType: text(),
    lastEventId: uuid(),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: 'contacts_project_id_pk', columns: [t.projectId, t.id] }),
    index('contacts_project_idx').on(t.projectId),
    index('contacts_phone_idx').on(t.phoneNumber),
  ],
)
