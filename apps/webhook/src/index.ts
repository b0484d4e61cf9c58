/** @module @telehook/webhook: the app that receives Telerivet's webhooks, and its runtime pieces. */
export {
  createWebhookApp,
  DEFAULT_BODY_LIMIT,
  DEFAULT_DEADLINE_MS,
  type MetricsSource,
  metricsHandler,
  RETRY_AFTER_SECONDS,
  rememberClientAddress,
  SINGLE_ENDPOINT_ID,
  type WebhookApp,
  type WebhookAppDeps,
} from './app'
export { assembleWebhook, handlersFor, type WebhookParts } from './compose'
export {
  ConfigError,
  loadWebhookConfig,
  MIN_SECRET_LENGTH,
  type WebhookConfig,
  WebhookEnv,
} from './config'
export { WebhookError, type WebhookErrorCode } from './errors'
export { default as exampleHandlers } from './example-handlers'
export { createFailureLimiter, DEFAULT_FAILURE_LIMITS, type FailureLimits } from './limiter'
export { createMetrics, type DeliveryOutcome, type WebhookMetrics } from './metrics'
export {
  displayOrigin,
  resolveSingleSecret,
  SINGLE_PROJECT_OFF,
  type SingleSecret,
  sampleCurl,
  startBanner,
} from './secret'
export {
  bootWebhook,
  loadHandlers,
  type RunningServer,
  startWebhookServer,
  type WebhookService,
} from './server'
