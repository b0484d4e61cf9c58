/** @module Contact routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { ContactPage, ContactRow, ContactsQuery } from './model'
import { getContact, listContacts } from './service'

export const contactsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/contacts', prefix: '/v1/contacts' })
    .get('', ({ query }) => listContacts(ctx, query), {
      query: ContactsQuery,
      response: { 200: ContactPage },
      detail: {
        summary: 'List contacts by project and id (phone digits, name; pass next_cursor as cursor)',
        tags: ['contacts'],
      },
    })
    .get('/:id', ({ params }) => getContact(ctx, params.id), {
      response: { 200: ContactRow },
      detail: { summary: 'Get a contact', tags: ['contacts'] },
    })
