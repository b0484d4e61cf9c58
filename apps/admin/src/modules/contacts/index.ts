/** @module Contact routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { ContactRow } from './model'
import { getContact } from './service'

export const contactsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/contacts', prefix: '/v1/contacts' }).get(
    '/:id',
    ({ params }) => getContact(ctx, params.id),
    {
      response: { 200: ContactRow },
      detail: { summary: 'Get a contact', tags: ['contacts'] },
    },
  )
