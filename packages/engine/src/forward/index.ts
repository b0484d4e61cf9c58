/**
 * @module Forwarding: stored events delivered to the user's own services as JSON signed the
 * Standard Webhooks way, from a durable queue with retries.
 */
export { FORWARD_ENV, ForwardConfigError, loadForwarderConfig } from './config'
export {
  type AttemptInput,
  type AttemptResult,
  attemptDelivery,
  classify,
  defaultForwardBackoffMs,
  forwardBackoff,
  nextAttemptAt,
  type Outcome,
  parseRetryAfter,
  RESPONSE_PREVIEW_BYTES,
} from './deliver'
export {
  type CreateDestinationInput,
  countJobs,
  createDestination,
  type Destination,
  deleteDestination,
  type ForwardAttempt,
  ForwardNotFoundError,
  getDestination,
  InvalidDestinationError,
  listAttempts,
  listDestinations,
  resendEvent,
  retryDeadJobs,
  rotateDestinationSecret,
  type UpdateDestinationInput,
  updateDestination,
} from './destinations'
export {
  enqueueForwards,
  enqueueForwardsQuery,
  FORWARD_CHANNEL,
  type ForwardSource,
} from './enqueue'
export { type ForwardedEvent, forwardBody } from './payload'
export { generateSigningSecret, openSecret, SECRET_PREFIX, sealSecret } from './secret'
export { signatureHeaders } from './sign'
export { createForwarder, type Forwarder, type ForwarderOptions } from './worker'
