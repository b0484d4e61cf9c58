/** @module Message routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import {
  MessageIdParams,
  MessageOut,
  MessagePage,
  MessageProjectQuery,
  MessagesQuery,
} from './model'
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
    .get('/:id', ({ params, query }) => getMessage(ctx, params.id, query.project_id), {
      params: MessageIdParams,
      query: MessageProjectQuery,
      response: { 200: MessageOut, ...errorResponses(400, 401, 404, 409, 429) },
      detail: {
        summary:
          'Get a message with its status history (project_id when the id is in several projects)',
        tags: ['messages'],
      },
    })
