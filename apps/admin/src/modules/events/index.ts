/** @module Event routes: list with filters and cursor paging, one event, replay. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { EventIdParams, EventPage, EventRow, EventsQuery, ReplayOut } from './model'
import { getEvent, listEvents, replayEvent } from './service'

export const eventsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/events', prefix: '/v1/events' })
    .get('', ({ query }) => listEvents(ctx, query), {
      query: EventsQuery,
      response: { 200: EventPage, ...errorResponses(400, 401, 429) },
      detail: {
        summary:
          'List events, newest first (filters; pass next_cursor as cursor for the next page)',
        tags: ['events'],
      },
    })
    .get('/:id', ({ params }) => getEvent(ctx, params.id), {
      params: EventIdParams,
      response: { 200: EventRow, ...errorResponses(400, 401, 404, 429) },
      detail: { summary: 'Get one event', tags: ['events'] },
    })
    .post('/:id/replay', ({ params }) => replayEvent(ctx, params.id), {
      params: EventIdParams,
      response: { 200: ReplayOut, ...errorResponses(400, 401, 404, 429) },
      detail: {
        summary: 'Re-apply the projections of an event and re-enqueue its async handlers',
        tags: ['events'],
      },
    })
