/** @module events/contact-update — `event=contact_update`: a contact was added, changed or deleted. */
import { type Static, Type } from '@sinclair/typebox'
import { ContactFields } from './contact.ts'
import { Id, OpenEnum } from './fields.ts'

export const CONTACT_UPDATE_TYPES = [
  'add',
  'auto_add',
  'update',
  'update_field',
  'add_group',
  'remove_group',
  'block_send',
  'unblock_send',
  'delete',
] as const

/**
 * The contact's REST properties at the top level, plus `update_type`. The same contact changes
 * many times, so the engine dedupes on a hash of the canonical payload, not on `id`.
 */
export const ContactUpdate = Type.Object(
  {
    ...ContactFields,
    event: Type.Literal('contact_update'),
    update_type: OpenEnum(CONTACT_UPDATE_TYPES),
    id: Id('contact id, max 34 characters'),
  },
  { $id: 'ContactUpdate' },
)
export type ContactUpdate = Static<typeof ContactUpdate>
