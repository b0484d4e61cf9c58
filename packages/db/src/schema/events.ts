import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, text, unique, uuid } from 'drizzle-orm/pg-core'
import { telehook, timestamptz } from './telehook'

/** One row per distinct delivery (duplicates only bump `delivery_count`). */
export const events = telehook.table(
  'events',
  {
    id: uuid().primaryKey().default(sql`gen_random_uuid()`),
    endpointId: text().notNull(),
    projectId: text(),
    /** The `event` parameter as sent (also for unknown event types); '' when absent. */
    event: text().notNull(),
    /** Telerivet's id of the object (message, contact, broadcast), when present. */
    telerivetId: text(),
    dedupeKey: text().notNull(),
    /** The decoded payload without `secret`. */
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    /** The reply sent with the first delivery, returned byte-for-byte to duplicates. */
    reply: jsonb().$type<Record<string, unknown>>(),
    valid: boolean().notNull(),
    errors: jsonb().$type<unknown>(),
    /**
     * Why this event was stored but kept out of the mirror, or null: `project_mismatch` when the
     * payload names a project other than its endpoint's.
     */
    flag: text(),
    /** Why the synchronous handler produced no reply (threw or overran its deadline). */
    handlerError: text(),
    deliveryCount: integer().notNull().default(1),
    receivedAt: timestamptz().notNull().defaultNow(),
    lastReceivedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    unique('events_endpoint_dedupe_key').on(t.endpointId, t.dedupeKey),
    index('events_project_received_idx').on(t.projectId, t.receivedAt),
    index('events_event_received_idx').on(t.event, t.receivedAt),
    index('events_telerivet_id_idx').on(t.telerivetId),
    // The console's counts over time read only this index (an index-only scan by time).
    index('events_received_idx').on(t.receivedAt, t.event, t.valid, t.deliveryCount),
    // An endpoint's last delivery: one index probe per endpoint.
    index('events_endpoint_received_idx').on(t.endpointId, t.receivedAt),
    // Handler errors over time: few rows, so a partial index.
    index('events_handler_error_received_idx')
      .on(t.receivedAt)
      .where(sql`handler_error is not null`),
  ],
)
