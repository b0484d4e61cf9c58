/** @module Message routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { MessageIdParams, MessageOut, MessagePage, MessagesQuery } from './model'
import { getMessage, listMessages } from './service'

export const messagesModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/messages', prefix: '/v1/messages' })
    .get('', ({ query }) => listMessages(ctx, query), {
      query: MessagesQuery,
      response: { 200: MessagePage, ...errorResponses(400, 401, 429) },
      detail: {
        summary:
          'List messages, newest first (project, contact, direction, status, time range, text ' +
          'in the content; pass next_cursor as cursor for the next page)',
        tags: ['messages'],
      },
    })
    .get('/:id', ({ params }) => getMessage(ctx, params.id), {
      params: MessageIdParams,
      response: { 200: MessageOut, ...errorResponses(400, 401, 404, 429) },
      detail: { summary: 'Get a message with its status history', tags: ['messages'] },
    })
