import { canonicalPayload, type DecodeResult, type FormObject, sha256Hex } from '@telehook/protocol'

/**
 * The key that makes a delivery a duplicate of an earlier one (unique per endpoint), as DESIGN.md
 * says: `incoming_message` and `send_broadcast` by id; `send_status` by (id, status, time_clicked)
 * since one message notifies once per status and once more on the first click; `contact_update`,
 * `message_metadata` and anything unknown or invalid by the SHA-256 of the canonical payload
 * (without `secret`), because the same object legitimately changes many times.
 */
export async function dedupeKey(decoded: DecodeResult, form: FormObject): Promise<string> {
  if (decoded.ok) {
    const e = decoded.event
    switch (e.event) {
      case 'incoming_message':
        return `incoming_message:${e.id}`
      case 'send_broadcast':
        return `send_broadcast:${e.id}`
      case 'send_status':
        return `send_status:${e.id}:${e.status}:${e.time_clicked ?? ''}`
      case 'contact_update':
      case 'message_metadata':
        return `${e.event}:sha256:${await sha256Hex(canonicalPayload(form))}`
    }
  }
  const hash = await sha256Hex(canonicalPayload(form))
  if (!decoded.ok && decoded.reason === 'invalid')
    return `invalid:${decoded.eventType}:sha256:${hash}`
  return `unknown_event:sha256:${hash}`
}
