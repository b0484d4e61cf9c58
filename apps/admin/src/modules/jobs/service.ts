/** @module Queries and rules of the job queue as operators see it: list, retry, cancel. */
import { type Database, jobs } from '@telehook/db'
import { JOBS_CHANNEL } from '@telehook/engine'
import { and, desc, eq, gt, lt, type SQL, sql } from 'drizzle-orm'
import { ApiError } from '../../errors'
import { pageSize } from '../../paging'
import type { JobOut, JobState, JobsQuery } from './model'

type JobRow = typeof jobs.$inferSelect

/** The operator's state of a stored job. */
export function jobState(row: Pick<JobRow, 'status' | 'attempts'>): JobState {
  if (row.status === 'queued') return row.attempts > 0 ? 'retrying' : 'pending'
  return row.status
}

function stateCondition(state: JobState): SQL | undefined {
  switch (state) {
    case 'pending':
      return and(eq(jobs.status, 'queued'), eq(jobs.attempts, 0))
    case 'retrying':
      return and(eq(jobs.status, 'queued'), gt(jobs.attempts, 0))
    default:
      return eq(jobs.status, state)
  }
}

export function jobOut(row: JobRow): JobOut {
  return {
    id: row.id,
    event_id: row.eventId,
    handler: row.handler,
    state: jobState(row),
    attempts: row.attempts,
    max_attempts: row.maxAttempts,
    run_at: row.runAt.toISOString(),
    last_error: row.lastError,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

/** Jobs newest first, filtered; `next_cursor` is the last id of the page when more remain. */
export async function listJobs(
  database: Database,
  query: JobsQuery,
): Promise<{ data: JobOut[]; next_cursor: string | null }> {
  const limit = pageSize(query.limit)
  const conds: (SQL | undefined)[] = []
  if (query.state) conds.push(stateCondition(query.state))
  if (query.handler) conds.push(eq(jobs.handler, query.handler))
  if (query.event_id) conds.push(eq(jobs.eventId, query.event_id))
  if (query.cursor) conds.push(lt(jobs.id, Number(query.cursor)))
  const rows = await database.db
    .select()
    .from(jobs)
    .where(and(...conds))
    .orderBy(desc(jobs.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map(jobOut),
    next_cursor: rows.length > limit && last ? String(last.id) : null,
  }
}

/** Dead jobs per handler (reads the status index only), for "retry all dead jobs of a handler". */
export async function deadJobsByHandler(
  database: Database,
): Promise<{ handler: string; dead: number }[]> {
  return database.db
    .select({ handler: jobs.handler, dead: sql<number>`count(*)::int` })
    .from(jobs)
    .where(eq(jobs.status, 'dead'))
    .groupBy(jobs.handler)
    .orderBy(jobs.handler)
}

/** Wakes the workers (LISTEN on the jobs channel); polling finds the jobs anyway. */
async function wakeWorkers(database: Database, handler: string): Promise<void> {
  await database.db.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${handler})`)
}

const requeue = {
  status: 'queued' as const,
  attempts: 0,
  runAt: sql`now()`,
  lockedUntil: null,
}

async function getJob(database: Database, id: number): Promise<JobRow> {
  const [row] = await database.db.select().from(jobs).where(eq(jobs.id, id))
  if (!row) throw new ApiError(404, 'not_found', 'No such job')
  return row
}

/** Gives a dead job a fresh set of attempts, due now. 409 when it is not dead. */
export async function retryDeadJob(database: Database, id: number): Promise<JobOut> {
  const [row] = await database.db
    .update(jobs)
    .set(requeue)
    .where(and(eq(jobs.id, id), eq(jobs.status, 'dead')))
    .returning()
  if (!row) {
    const job = await getJob(database, id)
    throw new ApiError(409, 'not_dead', `Job ${id} is ${jobState(job)}: only a dead job is retried`)
  }
  await wakeWorkers(database, row.handler)
  return jobOut(row)
}

/** Retries every dead job of one handler; returns how many. */
export async function retryDeadJobsOf(database: Database, handler: string): Promise<number> {
  const rows = await database.db
    .update(jobs)
    .set(requeue)
    .where(and(eq(jobs.handler, handler), eq(jobs.status, 'dead')))
    .returning({ id: jobs.id })
  if (rows.length > 0) await wakeWorkers(database, handler)
  return rows.length
}

/** Cancels a job that waits to run (pending or retrying): no worker claims it again. */
export async function cancelJob(database: Database, id: number): Promise<JobOut> {
  const [row] = await database.db
    .update(jobs)
    .set({ status: 'cancelled', lockedUntil: null })
    .where(and(eq(jobs.id, id), eq(jobs.status, 'queued')))
    .returning()
  if (!row) {
    const job = await getJob(database, id)
    throw new ApiError(
      409,
      'not_pending',
      `Job ${id} is ${jobState(job)}: only a pending or retrying job is cancelled`,
    )
  }
  return jobOut(row)
}
