/**
 * @module @telehook/simulator
 * A local Telerivet: the REST subset under `/v1`, webhook delivery with Telerivet's retry rules,
 * and a control API under `/_sim`. Web standards only; `startSimulator` listens on Bun or Deno.
 */
export { type ClockOptions, Scheduler } from './clock.ts'
export {
  type AttemptResult,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_RETRY_HORIZON_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  postForm,
} from './delivery.ts'
export { SimError } from './errors.ts'
export type { IncomingMessageInput, IncomingOutcome, ServiceOutcome } from './incoming.ts'
export type {
  Attempt,
  Broadcast,
  Contact,
  ContactServiceState,
  Delivery,
  Media,
  Message,
  Phone,
  Project,
  ProjectWebhook,
  Service,
} from './model.ts'
export { statusSequence } from './outgoing.ts'
export { encodePayload, toWire } from './payloads.ts'
export { type RunningSimulator, type StartOptions, startSimulator } from './serve.ts'
export { createSimulator, Simulator, type SimulatorOptions } from './simulator.ts'
export type { ProjectState } from './store.ts'
