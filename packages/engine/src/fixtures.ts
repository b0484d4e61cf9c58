/** Form builders for the engine's tests: what Telerivet would post, parsed by the protocol. */
import { encodeForm, type FormObject, parseForm } from '@telehook/protocol'

export const SECRET = 'test-secret-0123456789'

const now = 1_760_000_000

/** Parses the form-encoding of `fields`, as the webhook app does with a request body. */
export function form(fields: Record<string, unknown>): FormObject {
  return parseForm(encodeForm({ secret: SECRET, ...fields }))
}

export function incomingMessage(id: string, extra: Record<string, unknown> = {}): FormObject {
  return form({
    event: 'incoming_message',
    id,
    message_type: 'sms',
    direction: 'incoming',
    status: 'received',
    content: 'hello',
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: now,
    contact_id: `CT${id}`,
    phone_id: 'PN1',
    project_id: 'PJ1',
    contact: { name: 'Ada', vars: { lang: 'en' }, message_count: 3, phone_number: '+16505550123' },
    state: { id: 'start' },
    ...extra,
  })
}

export function sendStatus(
  id: string,
  status: string,
  extra: Record<string, unknown> = {},
): FormObject {
  return form({
    event: 'send_status',
    id,
    status,
    message_type: 'sms',
    from_number: '+16505550100',
    to_number: '+16505550123',
    content: 'hi there',
    contact_id: 'CT9',
    phone_id: 'PN1',
    time_created: now,
    project_id: 'PJ1',
    ...extra,
  })
}
