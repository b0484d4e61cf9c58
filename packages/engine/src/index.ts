/**
 * @module @telehook/engine
 * The ingestion core shared by the webhook and admin apps: endpoint authentication, exactly-once
 * storage with projections, the sync-handler deadline, and the durable job queue.
 */
export { dedupeKey } from './dedupe'
export {
  type CreateEndpointInput,
  createEndpoint,
  createEndpointAuthenticator,
  ENDPOINT_ID_PATTERN,
  type Endpoint,
  type EndpointAuthenticator,
  type EndpointCheck,
  ensureSingleEndpoint,
  isEndpointId,
  rotateEndpointSecret,
  SINGLE_ENDPOINT_ID,
} from './endpoints'
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type IngestResult,
  OverloadedError,
} from './ingest'
export {
  createJsonLogger,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  pgliteReportsTo,
  silentLogger,
} from './logger'
export { STATUS_RANK } from './projections'
export {
  createWorker,
  defaultBackoffMs,
  EventNotFoundError,
  replayEvent,
  type Worker,
  type WorkerOptions,
} from './queue'
export {
  createRetention,
  pruneEventsBatch,
  type Retention,
  type RetentionOptions,
} from './retention'
export {
  DEFAULT_STOP_TIMEOUT_MS,
  type DrainableServer,
  drainServer,
  MAX_STOP_TIMEOUT_MS,
  MIN_STOP_TIMEOUT_MS,
  type SignalSource,
  STOP_FINAL_MS,
  STOP_TIMEOUT_RULE,
  type StopBudget,
  type StopOnSignalsOptions,
  type StopSignal,
  signalExitCode,
  stopBudget,
  stopEach,
  stopOnSignals,
  stopTogether,
} from './stop'
export {
  type BatchOptions,
  type BatchStats,
  JOBS_CHANNEL,
  type JobRow,
  type StoreItem,
} from './store'
