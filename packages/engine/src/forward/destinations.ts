/** @module Destinations: create, list, change, rotate the secret, delete; attempts; retries and re-sends. */
import {
  type Database,
  type Db,
  destinations,
  endpoints,
  events,
  forwardAttempts,
  forwardJobs,
  projects,
  queryRows,
} from '@telehook/db'
import { and, desc, eq, lt, sql } from 'drizzle-orm'
import { FORWARD_CHANNEL } from './enqueue'
import { generateSigningSecret, sealSecret } from './secret'

/** A destination as the admin API shows it: never its secrets. */
export interface Destination {
  id: string
  projectId: string | null
  endpointId: string | null
  url: string
  /** Null: every event type. */
  eventTypes: string[] | null
  enabled: boolean
  disabledReason: string | null
  maxInFlight: number
  /** Until then requests are also signed with the secret from before the last rotation. */
  previousSecretExpiresAt: Date | null
  createdAt: Date
  updatedAt: Date
}

/** A request the destination rules refuse (bad URL, both or neither scope, bad bound). */
export class InvalidDestinationError extends Error {
  override name = 'InvalidDestinationError'
}

/** No destination, project, endpoint or event with that id. */
export class ForwardNotFoundError extends Error {
  override name = 'ForwardNotFoundError'
  constructor(
    readonly what: 'destination' | 'project' | 'endpoint' | 'event',
    readonly id: string,
  ) {
    super(`${what} ${id} not found`)
  }
}

const view = {
  id: destinations.id,
  projectId: destinations.projectId,
  endpointId: destinations.endpointId,
  url: destinations.url,
  eventTypes: destinations.eventTypes,
  enabled: destinations.enabled,
  disabledReason: destinations.disabledReason,
  maxInFlight: destinations.maxInFlight,
  previousSecretExpiresAt: destinations.previousSecretExpiresAt,
  createdAt: destinations.createdAt,
  updatedAt: destinations.updatedAt,
}

function checkUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidDestinationError(`url is not a URL: ${url}`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InvalidDestinationError('url must be http: or https:')
  }
  if (parsed.username || parsed.password) {
    throw new InvalidDestinationError('url must not carry credentials; requests are signed')
  }
}

function checkFields(input: { url?: string; eventTypes?: string[] | null; maxInFlight?: number }) {
  if (input.url !== undefined) checkUrl(input.url)
  if (input.eventTypes && input.eventTypes.length === 0) {
    throw new InvalidDestinationError('event_types is empty: give null to send every type')
  }
  const m = input.maxInFlight
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > 1000)) {
    throw new InvalidDestinationError('max_in_flight must be an integer from 1 to 1000')
  }
}

export interface CreateDestinationInput {
  /** The project whose events are sent; or give `endpointId`. */
  projectId?: string
  /** The endpoint whose events are sent (e.g. `default`, the single-project endpoint). */
  endpointId?: string
  url: string
  eventTypes?: string[] | null
  enabled?: boolean
  maxInFlight?: number
}

/**
 * Creates a destination with a new signing secret, stored sealed with `masterKey`.
 * @returns the destination and its secret, which is never shown again
 * @example const { destination, secret } = await createDestination(database, key, { projectId, url })
 */
export async function createDestination(
  database: Pick<Database, 'db'>,
  masterKey: CryptoKey,
  input: CreateDestinationInput,
): Promise<{ destination: Destination; secret: string }> {
  if ((input.projectId === undefined) === (input.endpointId === undefined)) {
    throw new InvalidDestinationError('give exactly one of project_id and endpoint_id')
  }
  checkFields(input)
  const { db } = database
  if (input.projectId !== undefined) {
    const [p] = await db
      .select({ id: projects.id })
      .from(projects)
      .where(eq(projects.id, input.projectId))
    if (!p) throw new ForwardNotFoundError('project', input.projectId)
  } else {
    const id = input.endpointId as string
    const [e] = await db.select({ id: endpoints.id }).from(endpoints).where(eq(endpoints.id, id))
    if (!e) throw new ForwardNotFoundError('endpoint', id)
  }
  const secret = generateSigningSecret()
  const [row] = await db
    .insert(destinations)
    .values({
      id: `dst_${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`,
      projectId: input.projectId ?? null,
      endpointId: input.endpointId ?? null,
      url: input.url,
      eventTypes: input.eventTypes ?? null,
      enabled: input.enabled ?? true,
      disabledReason: input.enabled === false ? 'disabled by an operator' : null,
      maxInFlight: input.maxInFlight ?? 4,
      secretCiphertext: await sealSecret(masterKey, secret),
    })
    .returning(view)
  return { destination: row as Destination, secret }
}

/** The destinations, oldest first; only a project's or an endpoint's when asked. */
export async function listDestinations(
  database: Pick<Database, 'db'>,
  filter: { projectId?: string; endpointId?: string } = {},
): Promise<Destination[]> {
  const where = and(
    filter.projectId !== undefined ? eq(destinations.projectId, filter.projectId) : undefined,
    filter.endpointId !== undefined ? eq(destinations.endpointId, filter.endpointId) : undefined,
  )
  return database.db
    .select(view)
    .from(destinations)
    .where(where)
    .orderBy(destinations.createdAt, destinations.id)
}

export async function getDestination(
  database: Pick<Database, 'db'>,
  id: string,
): Promise<Destination> {
  const [row] = await database.db.select(view).from(destinations).where(eq(destinations.id, id))
  if (!row) throw new ForwardNotFoundError('destination', id)
  return row
}

export interface UpdateDestinationInput {
  url?: string
  eventTypes?: string[] | null
  /** Enabling clears the reason it was disabled (e.g. a 410); queued jobs resume. */
  enabled?: boolean
  maxInFlight?: number
}

export async function updateDestination(
  database: Pick<Database, 'db'>,
  id: string,
  input: UpdateDestinationInput,
): Promise<Destination> {
  checkFields(input)
  const set: Partial<typeof destinations.$inferInsert> = { updatedAt: new Date() }
  if (input.url !== undefined) set.url = input.url
  if (input.eventTypes !== undefined) set.eventTypes = input.eventTypes
  if (input.maxInFlight !== undefined) set.maxInFlight = input.maxInFlight
  if (input.enabled !== undefined) {
    set.enabled = input.enabled
    set.disabledReason = input.enabled ? null : 'disabled by an operator'
  }
  const [row] = await database.db
    .update(destinations)
    .set(set)
    .where(eq(destinations.id, id))
    .returning(view)
  if (!row) throw new ForwardNotFoundError('destination', id)
  return row
}

/**
 * Replaces the signing secret. Until `graceMs` from now (default 24 h) requests carry a signature
 * with the old secret as well, so receivers can switch at their pace.
 * @returns the new secret, never shown again
 */
export async function rotateDestinationSecret(
  database: Pick<Database, 'db'>,
  masterKey: CryptoKey,
  id: string,
  graceMs = 86_400_000,
): Promise<{ destination: Destination; secret: string }> {
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new InvalidDestinationError('grace must be zero or more')
  }
  const secret = generateSigningSecret()
  const sealed = await sealSecret(masterKey, secret)
  const [row] = await database.db
    .update(destinations)
    .set({
      previousSecretCiphertext: graceMs > 0 ? destinations.secretCiphertext : null,
      previousSecretExpiresAt: graceMs > 0 ? new Date(Date.now() + graceMs) : null,
      secretCiphertext: sealed,
      updatedAt: new Date(),
    })
    .where(eq(destinations.id, id))
    .returning(view)
  if (!row) throw new ForwardNotFoundError('destination', id)
  return { destination: row, secret }
}

/** Deletes a destination with its jobs and attempts. */
export async function deleteDestination(database: Pick<Database, 'db'>, id: string): Promise<void> {
  const rows = await database.db
    .delete(destinations)
    .where(eq(destinations.id, id))
    .returning({ id: destinations.id })
  if (rows.length === 0) throw new ForwardNotFoundError('destination', id)
}

export interface ForwardAttempt {
  id: number
  jobId: number
  eventId: string
  attempt: number
  startedAt: Date
  status: number | null
  outcome: 'done' | 'retry' | 'dead' | 'gone'
  latencyMs: number
  responseBody: string | null
  error: string | null
}

/** A destination's attempts, newest first; `before` (an attempt id) pages back. */
export async function listAttempts(
  database: Pick<Database, 'db'>,
  destinationId: string,
  opts: { limit?: number; before?: number; eventId?: string } = {},
): Promise<ForwardAttempt[]> {
  await getDestination(database, destinationId)
  const limit = Math.min(Math.max(1, opts.limit ?? 50), 500)
  return database.db
    .select({
      id: forwardAttempts.id,
      jobId: forwardAttempts.jobId,
      eventId: forwardAttempts.eventId,
      attempt: forwardAttempts.attempt,
      startedAt: forwardAttempts.startedAt,
      status: forwardAttempts.status,
      outcome: forwardAttempts.outcome,
      latencyMs: forwardAttempts.latencyMs,
      responseBody: forwardAttempts.responseBody,
      error: forwardAttempts.error,
    })
    .from(forwardAttempts)
    .where(
      and(
        eq(forwardAttempts.destinationId, destinationId),
        opts.before !== undefined ? lt(forwardAttempts.id, opts.before) : undefined,
        opts.eventId !== undefined ? eq(forwardAttempts.eventId, opts.eventId) : undefined,
      ),
    )
    .orderBy(desc(forwardAttempts.id))
    .limit(limit)
}

/** How many of a destination's jobs are in each state. */
export async function countJobs(
  database: Pick<Database, 'db'>,
  destinationId: string,
): Promise<Record<'queued' | 'running' | 'done' | 'dead', number>> {
  const rows = await queryRows<{ status: string; n: number }>(
    database.db,
    sql`select status, count(*)::int as n from telehook.forward_jobs
        where destination_id = ${destinationId} group by status`,
  )
  const out = { queued: 0, running: 0, done: 0, dead: 0 }
  for (const r of rows) if (r.status in out) out[r.status as keyof typeof out] = r.n
  return out
}

/**
 * Puts a destination's dead jobs back in the queue, due now, with a fresh retry window and
 * attempt count (earlier attempts stay listed).
 * @returns how many jobs were requeued
 */
export async function retryDeadJobs(
  database: Pick<Database, 'db'>,
  destinationId: string,
): Promise<number> {
  await getDestination(database, destinationId)
  return database.db.transaction(async (txn) => {
    const tx = txn as unknown as Db
    const rows = await tx
      .update(forwardJobs)
      .set({
        status: 'queued',
        attempts: 0,
        runAt: sql`now()`,
        firstQueuedAt: sql`now()`,
        lockedUntil: null,
        updatedAt: new Date(),
      })
      .where(and(eq(forwardJobs.destinationId, destinationId), eq(forwardJobs.status, 'dead')))
      .returning({ id: forwardJobs.id })
    if (rows.length > 0) await tx.execute(sql`select pg_notify(${FORWARD_CHANNEL}, '')`)
    return rows.length
  })
}

/**
 * Sends one stored event to one destination again (or for the first time, e.g. to a destination
 * created after it), whatever its type and whether the destination matches it. The request
 * carries the same `webhook-id` (the event id) as before. A job already running is left alone.
 * @returns `queued`, or `running` when an attempt is in flight now
 */
export async function resendEvent(
  database: Pick<Database, 'db'>,
  destinationId: string,
  eventId: string,
): Promise<'queued' | 'running'> {
  await getDestination(database, destinationId)
  const [event] = await database.db
    .select({ id: events.id })
    .from(events)
    .where(sql`${events.id}::text = ${eventId}`)
  if (!event) throw new ForwardNotFoundError('event', eventId)
  return database.db.transaction(async (txn) => {
    const tx = txn as unknown as Db
    const rows = await queryRows<{ id: number }>(
      tx,
      sql`insert into telehook.forward_jobs (event_id, destination_id)
          values (${event.id}::uuid, ${destinationId})
          on conflict (event_id, destination_id) do update set status = 'queued', attempts = 0,
            run_at = now(), first_queued_at = now(), locked_until = null, updated_at = now()
          where telehook.forward_jobs.status <> 'running'
          returning id::int as id`,
    )
    if (rows.length === 0) return 'running'
    await tx.execute(sql`select pg_notify(${FORWARD_CHANNEL}, '')`)
    return 'queued'
  })
}
