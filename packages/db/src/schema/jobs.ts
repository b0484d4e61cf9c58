import { bigserial, index, integer, text, uuid } from 'drizzle-orm/pg-core'
import { telehook, timestamps, timestamptz } from './telehook'

/** Durable queue of async handler runs, one per (event, handler). */
export const jobs = telehook.table(
  'jobs',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    eventId: uuid().notNull(),
    /** The event type whose async handler runs. */
    handler: text().notNull(),
    status: text({ enum: ['queued', 'running', 'done', 'dead', 'cancelled'] })
      .notNull()
      .default('queued'),
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull().default(8),
    runAt: timestamptz().notNull().defaultNow(),
    /** A `running` job whose lock expired is claimed again (its worker died). */
    lockedUntil: timestamptz(),
    /**
     * Set by each claim to a token of that claim alone, so a worker whose claim statement failed
     * (committed or not, it cannot tell) can give back what it may have claimed, and nothing else.
     */
    claimToken: text(),
    lastError: text(),
    ...timestamps,
  },
  (t) => [
    index('jobs_status_run_at_idx').on(t.status, t.runAt),
    index('jobs_event_idx').on(t.eventId),
  ],
)
