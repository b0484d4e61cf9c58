/** @module The JSON body forwarded to destinations. */

/** A stored event, as the forwarder reads it. */
export interface ForwardedEvent {
  /** Telehook's event id (also the `webhook-id`). */
  id: string
  endpointId: string
  projectId: string | null
  /** The decoded event as stored: typed values, Telerivet's field names. */
  payload: Record<string, unknown>
  receivedAt: Date
}

/**
 * The body sent to a destination: every field of the decoded event with Telerivet's names and
 * types (numbers, booleans, nested objects; `time_created`, `time_updated` and the other times as
 * Unix seconds), without `secret`, plus `project_id`, `endpoint_id`, `event_id` (Telehook's id
 * of the event) and `received_at` (when Telehook stored it, Unix seconds with milliseconds).
 * @example forwardBody({ id, endpointId: 'default', projectId: 'PJ1', payload, receivedAt })
 */
export function forwardBody(event: ForwardedEvent): string {
  const { secret: _secret, ...fields } = event.payload
  return JSON.stringify({
    ...fields,
    project_id: event.projectId ?? fields.project_id ?? null,
    endpoint_id: event.endpointId,
    event_id: event.id,
    received_at: event.receivedAt.getTime() / 1000,
  })
}
