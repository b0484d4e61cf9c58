import { bigserial, boolean, index, jsonb, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { telehook, timestamps, timestamptz } from './telehook'

/**
 * The latest known state of every message seen in any event, keyed by (project, Telerivet id): a
 * delivery writes only the rows of its endpoint's project. `project_id` is '' when the endpoint
 * has no project and the payload names none.
 */
export const messages = telehook.table(
  'messages',
  {
    id: text().notNull(),
    projectId: text().notNull().default(''),
    /** `incoming` or `outgoing`. */
    direction: text(),
    messageType: text(),
    status: text(),
    source: text(),
    fromNumber: text(),
    toNumber: text(),
    content: text(),
    contactId: text(),
    phoneId: text(),
    routeId: text(),
    serviceId: text(),
    broadcastId: text(),
    timeCreated: timestamptz(),
    timeSent: timestamptz(),
    timeUpdated: timestamptz(),
    /** The first click on a short link, when Telerivet reported one. */
    timeClicked: timestamptz(),
    errorMessage: text(),
    starred: boolean(),
    labelIds: text().array(),
    vars: jsonb().$type<Record<string, unknown>>(),
    /** Voice calls: 1 while the call is going on (from `message_metadata`). */
    inProgress: boolean(),
    media: jsonb().$type<unknown[]>(),
    /** The last event that changed this row. */
    lastEventId: uuid(),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: 'messages_project_id_pk', columns: [t.projectId, t.id] }),
    index('messages_project_created_idx').on(t.projectId, t.timeCreated),
    index('messages_contact_idx').on(t.contactId),
  ],
)

/** Every `send_status` notification, in arrival order; (project_id, message_id) is its message. */
export const messageStatusHistory = telehook.table(
  'message_status_history',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    projectId: text().notNull().default(''),
    messageId: text().notNull(),
    status: text().notNull(),
    errorMessage: text(),
    timeClicked: timestamptz(),
    timeSent: timestamptz(),
    eventId: uuid().notNull(),
    receivedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index('message_status_history_message_idx').on(t.projectId, t.messageId, t.id),
    index('message_status_history_event_idx').on(t.eventId),
  ],
)
