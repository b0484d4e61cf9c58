import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { endpoints } from './endpoints'
import { events } from './events'
import { projects } from './projects'
import { telehook, timestamps, timestamptz } from './telehook'

/**
 * Services of the user's own that receive events as signed JSON (Standard Webhooks). A destination
 * belongs to a project (events whose `project_id` is it) or to an endpoint (every event received on
 * it, e.g. the single-project endpoint `default`), never both.
 */
export const destinations = telehook.table(
  'destinations',
  {
    id: text().primaryKey(),
    projectId: text().references(() => projects.id, { onDelete: 'cascade' }),
    endpointId: text().references(() => endpoints.id, { onDelete: 'cascade' }),
    url: text().notNull(),
    /** Event types sent (Telerivet's `event` names); null sends every type. */
    eventTypes: text().array(),
    enabled: boolean().notNull().default(true),
    /** Why the destination was disabled (by an operator, or by a `410 Gone` answer). */
    disabledReason: text(),
    /**
     * The signing secret (`whsec_…`), AES-GCM encrypted with the master key (base64). Kept
     * decryptable, not hashed: the worker needs it to sign every request.
     */
    secretCiphertext: text().notNull(),
    /** The secret before the last rotation; requests carry both signatures until it expires. */
    previousSecretCiphertext: text(),
    previousSecretExpiresAt: timestamptz(),
    /** Requests in flight to this destination at once, over all workers. */
    maxInFlight: integer().notNull().default(4),
    ...timestamps,
  },
  (t) => [
    check('destinations_one_scope', sql`(${t.projectId} is null) <> (${t.endpointId} is null)`),
    index('destinations_project_idx').on(t.projectId),
    index('destinations_endpoint_idx').on(t.endpointId),
  ],
)

/** One row per (event, destination): the delivery of one event to one destination, retried. */
export const forwardJobs = telehook.table(
  'forward_jobs',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    eventId: uuid()
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    destinationId: text()
      .notNull()
      .references(() => destinations.id, { onDelete: 'cascade' }),
    status: text({ enum: ['queued', 'running', 'done', 'dead'] })
      .notNull()
      .default('queued'),
    /** Attempts started; also the claim's token (a worker only settles the attempt it claimed). */
    attempts: integer().notNull().default(0),
    runAt: timestamptz().notNull().defaultNow(),
    /** A `running` job whose lease expired is claimed again (its worker died). */
    lockedUntil: timestamptz(),
    /** Set by each claim to a token of that claim alone (see `jobs.claim_token`). */
    claimToken: text(),
    /** The retry window starts here (set at enqueue, and again by a manual retry or re-send). */
    firstQueuedAt: timestamptz().notNull().defaultNow(),
    /** HTTP status of the last attempt; null when it got no response. */
    lastStatus: integer(),
    lastError: text(),
    ...timestamps,
  },
  (t) => [
    unique('forward_jobs_event_destination_key').on(t.eventId, t.destinationId),
    index('forward_jobs_destination_status_run_at_idx').on(t.destinationId, t.status, t.runAt),
    index('forward_jobs_status_run_at_idx').on(t.status, t.runAt),
  ],
)

/** Every HTTP attempt of a forward job, for the admin API. */
export const forwardAttempts = telehook.table(
  'forward_attempts',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    jobId: bigint({ mode: 'number' })
      .notNull()
      .references(() => forwardJobs.id, { onDelete: 'cascade' }),
    destinationId: text().notNull(),
    eventId: uuid().notNull(),
    /** 1-based attempt number of the job. */
    attempt: integer().notNull(),
    startedAt: timestamptz().notNull(),
    /** HTTP status; null for a timeout or a connection error. */
    status: integer(),
    /** `done`, `retry`, `dead` or `gone` (410: destination disabled). */
    outcome: text({ enum: ['done', 'retry', 'dead', 'gone'] }).notNull(),
    /** Time to the response headers, or to the failure. */
    latencyMs: integer().notNull(),
    /** The first bytes of the response body (UTF-8, at most 1 KiB). */
    responseBody: text(),
    error: text(),
  },
  (t) => [
    index('forward_attempts_destination_idx').on(t.destinationId, t.id),
    index('forward_attempts_job_idx').on(t.jobId),
  ],
)
