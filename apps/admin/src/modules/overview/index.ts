/** @module The overview route: events over time by type, duplicates, queue depth, silent endpoints. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { OverviewOut, OverviewQuery } from './model'
import { overview } from './service'

/** `GET /v1/overview?range=hour|day`. */
export function overviewModule(ctx: Pick<AdminContext, 'database'>) {
  const { database } = ctx
  return new Elysia({ name: 'overview', prefix: '/v1/overview' }).get(
    '',
    ({ query }) => overview(database, query.range ?? 'hour'),
    {
      query: OverviewQuery,
      response: { 200: OverviewOut, ...errorResponses(400, 401, 429) },
      detail: {
        summary:
          'Events per minute (last hour) or per 15 minutes (last day) by type, duplicates, ' +
          'invalid events, handler errors, queue depth, and the last delivery of each endpoint',
        tags: ['overview'],
      },
    },
  )
}
