/** @module Contact routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { ContactIdParams, ContactRow } from './model'
import { getContact } from './service'

export const contactsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/contacts', prefix: '/v1/contacts' }).get(
    '/:id',
    ({ params }) => getContact(ctx, params.id),
    {
      params: ContactIdParams,
      response: { 200: ContactRow, ...errorResponses(400, 401, 404, 429) },
      detail: { summary: 'Get a contact', tags: ['contacts'] },
    },
  )
