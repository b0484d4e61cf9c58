/** @module Message routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { MessageIdParams, MessageOut } from './model'
import { getMessage } from './service'

export const messagesModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/messages', prefix: '/v1/messages' }).get(
    '/:id',
    ({ params }) => getMessage(ctx, params.id),
    {
      params: MessageIdParams,
      response: { 200: MessageOut, ...errorResponses(400, 401, 404, 429) },
      detail: { summary: 'Get a message with its status history', tags: ['messages'] },
    },
  )
