/** @module Contacts as Telerivet reported them. */
import { contacts } from '@telehook/db'
import { eq } from 'drizzle-orm'
import type { AdminContext } from '../../context'
import { ApiError } from '../../errors'
import { toWire } from '../../rows'
import type { ContactRow } from './model'

/** One contact; 404 when unknown. */
export async function getContact(ctx: AdminContext, id: string): Promise<typeof ContactRow.static> {
  const [c] = await ctx.db.select().from(contacts).where(eq(contacts.id, id))
  if (!c) throw new ApiError(404, 'not_found', 'No such contact')
  return toWire<typeof ContactRow.static>(c)
}
