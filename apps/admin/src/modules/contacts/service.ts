/** @module Contacts as Telerivet reported them. */
import { contacts } from '@telehook/db'
import { and, asc, eq, ilike, type SQL, sql } from 'drizzle-orm'
import type { AdminContext } from '../../context'
import {
  decodeKeyedCursor,
  encodeKeyedCursor,
  likeContains,
  onlyRow,
  pageSize,
} from '../../list-query'
import { toWire } from '../../rows'
import type { ContactPage, ContactRow, ContactsQuery } from './model'

/** One contact; 404 when unknown. */
export async function getContact(
  ctx: AdminContext,
  id: string,
  projectId?: string,
): Promise<typeof ContactRow.static> {
  const rows = await ctx.db
    .select()
    .from(contacts)
    .where(
      projectId === undefined
        ? eq(contacts.id, id)
        : and(eq(contacts.id, id), eq(contacts.projectId, projectId)),
    )
    .limit(2)
  return toWire<typeof ContactRow.static>(onlyRow(rows, 'contact'))
}

/** Contacts by (project, id), filtered by phone digits or name; `next_cursor` for the next page. */
export async function listContacts(
  ctx: AdminContext,
  query: typeof ContactsQuery.static,
): Promise<typeof ContactPage.static> {
  const limit = pageSize(query.limit)
  const conds: SQL[] = []
  if (query.project_id !== undefined) conds.push(eq(contacts.projectId, query.project_id))
  const digits = (query.phone ?? '').replace(/\D/g, '')
  if (digits) {
    conds.push(
      sql`regexp_replace(coalesce(${contacts.phoneNumber}, ''), '[^0-9]', '', 'g') like ${likeContains(digits)}`,
    )
  }
  if (query.name) conds.push(ilike(contacts.name, likeContains(query.name)))
  if (query.cursor) {
    const c = decodeKeyedCursor(query.cursor)
    conds.push(sql`(${contacts.projectId}, ${contacts.id}) > (${c.projectId}, ${c.id})`)
  }
  const rows = await ctx.db
    .select()
    .from(contacts)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(asc(contacts.projectId), asc(contacts.id))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map((c) => toWire<typeof ContactRow.static>(c)),
    next_cursor:
      rows.length > limit && last ? encodeKeyedCursor('', last.projectId, last.id) : null,
  }
}
