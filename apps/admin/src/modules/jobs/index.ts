/** @module The jobs routes: the durable queue listed by state, dead jobs retried, waiting ones cancelled. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { JobIdParams, JobOut, JobPage, JobsQuery, RetriedOut, RetryDeadBody } from './model'
import { cancelJob, listJobs, retryDeadJob, retryDeadJobsOf } from './service'

/** `GET /v1/jobs`, `POST /v1/jobs/:id/retry`, `POST /v1/jobs/:id/cancel`, `POST /v1/jobs/retry-dead`. */
export function jobsModule(ctx: Pick<AdminContext, 'database'>) {
  const { database } = ctx
  return new Elysia({ name: 'jobs', prefix: '/v1/jobs' })
    .get('', ({ query }) => listJobs(database, query), {
      query: JobsQuery,
      response: { 200: JobPage, ...errorResponses(400, 401, 429) },
      detail: {
        summary: 'List jobs, newest first (state, handler, event; pass next_cursor as cursor)',
        tags: ['jobs'],
      },
    })
    .post('/:id/retry', ({ params }) => retryDeadJob(database, Number(params.id)), {
      params: JobIdParams,
      response: { 200: JobOut, ...errorResponses(400, 401, 404, 409, 429) },
      detail: { summary: 'Retry a dead job with a fresh set of attempts', tags: ['jobs'] },
    })
    .post(
      '/retry-dead',
      async ({ body }) => ({ retried: await retryDeadJobsOf(database, body.handler) }),
      {
        body: RetryDeadBody,
        response: { 200: RetriedOut, ...errorResponses(400, 401, 429) },
        detail: { summary: 'Retry every dead job of one handler', tags: ['jobs'] },
      },
    )
    .post('/:id/cancel', ({ params }) => cancelJob(database, Number(params.id)), {
      params: JobIdParams,
      response: { 200: JobOut, ...errorResponses(400, 401, 404, 409, 429) },
      detail: { summary: 'Cancel a pending or retrying job', tags: ['jobs'] },
    })
}
