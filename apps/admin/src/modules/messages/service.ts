/** @module Messages as Telerivet reported them, with their status history. */
import { messageStatusHistory, messages } from '@telehook/db'
import { asc, eq } from 'drizzle-orm'
import type { AdminContext } from '../../context'
import { ApiError } from '../../errors'
import { toWire } from '../../rows'
import type { MessageOut } from './model'

type Out = typeof MessageOut.static

/** The message's latest state and its status history; 404 when unknown. */
export async function getMessage(ctx: AdminContext, id: string): Promise<Out> {
  const [m] = await ctx.db.select().from(messages).where(eq(messages.id, id))
  if (!m) throw new ApiError(404, 'not_found', 'No such message')
  const history = await ctx.db
    .select()
    .from(messageStatusHistory)
    .where(eq(messageStatusHistory.messageId, m.id))
    .orderBy(asc(messageStatusHistory.id))
  return {
    ...toWire<Out>(m),
    status_history: history.map((h) => toWire<Out['status_history'][number]>(h)),
  }
}
