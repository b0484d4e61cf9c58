/** @module Broadcast routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { BroadcastPage, BroadcastsQuery } from './model'
import { listBroadcasts } from './service'

export const broadcastsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/broadcasts', prefix: '/v1/broadcasts' }).get(
    '',
    ({ query }) => listBroadcasts(ctx, query),
    {
      query: BroadcastsQuery,
      response: { 200: BroadcastPage, ...errorResponses(400, 401, 429) },
      detail: {
        summary:
          'List broadcasts, newest first (project, status, time range; pass next_cursor as cursor)',
        tags: ['broadcasts'],
      },
    },
  )
