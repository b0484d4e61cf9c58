/** @module Message routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { MessageOut } from './model'
import { getMessage } from './service'

export const messagesModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/messages', prefix: '/v1/messages' }).get(
    '/:id',
    ({ params }) => getMessage(ctx, params.id),
    {
      response: { 200: MessageOut },
      detail: { summary: 'Get a message with its status history', tags: ['messages'] },
    },
  )
