/** @module Contact routes. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import {
  ContactIdParams,
  ContactPage,
  ContactProjectQuery,
  ContactRow,
  ContactsQuery,
} from './model'
import { getContact, listContacts } from './service'

export const contactsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/contacts', prefix: '/v1/contacts' })
    .get('', ({ query }) => listContacts(ctx, query), {
      query: ContactsQuery,
      response: { 200: ContactPage, ...errorResponses(400, 401, 429) },
      detail: {
        summary: 'List contacts by project and id (phone digits, name; pass next_cursor as cursor)',
        tags: ['contacts'],
      },
    })
    .get('/:id', ({ params, query }) => getContact(ctx, params.id, query.project_id), {
      params: ContactIdParams,
      query: ContactProjectQuery,
      response: { 200: ContactRow, ...errorResponses(400, 401, 404, 409, 429) },
      detail: {
        summary: 'Get a contact (project_id when the id is in several projects)',
        tags: ['contacts'],
      },
    })
