/** @module Destination rules live in the engine; this maps them to the admin API's shapes and errors. */
import {
  type Destination,
  type ForwardAttempt,
  ForwardNotFoundError,
  InvalidDestinationError,
} from '@telehook/engine/forward'
import { iso } from '../../context'
import { ApiError } from '../../errors'

export function destinationOut(d: Destination) {
  return {
    id: d.id,
    project_id: d.projectId,
    endpoint_id: d.endpointId,
    url: d.url,
    event_types: d.eventTypes,
    enabled: d.enabled,
    disabled_reason: d.disabledReason,
    max_in_flight: d.maxInFlight,
    previous_secret_expires_at: iso(d.previousSecretExpiresAt),
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  }
}

export function attemptOut(a: ForwardAttempt) {
  return {
    id: a.id,
    job_id: a.jobId,
    event_id: a.eventId,
    attempt: a.attempt,
    started_at: a.startedAt.toISOString(),
    status: a.status,
    outcome: a.outcome,
    latency_ms: a.latencyMs,
    response_body: a.responseBody,
    error: a.error,
  }
}

/** Runs an engine call, turning its refusals into 400 and 404 answers. */
export async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof InvalidDestinationError) {
      throw new ApiError(400, 'invalid_destination', error.message)
    }
    if (error instanceof ForwardNotFoundError) {
      throw new ApiError(404, 'not_found', `No such ${error.what}: ${error.id}`, {
        param: error.what === 'destination' ? 'id' : `${error.what}_id`,
      })
    }
    throw error
  }
}
