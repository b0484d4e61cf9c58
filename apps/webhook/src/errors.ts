/** @module The typed rejections of the webhook app, each with a string code and an HTTP status. */

/** String codes of every non-200 answer the ingestion route gives. */
export type WebhookErrorCode =
  | 'invalid_secret'
  | 'missing_secret'
  | 'unknown_endpoint'
  | 'bad_endpoint_id'
  | 'body_timeout'
  | 'rate_limited'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'bad_request'
  | 'deadline_exceeded'
  | 'store_failed'

const STATUS: Record<WebhookErrorCode, number> = {
  invalid_secret: 403,
  missing_secret: 403,
  unknown_endpoint: 403,
  bad_endpoint_id: 404,
  body_timeout: 408,
  rate_limited: 429,
  body_too_large: 413,
  unsupported_media_type: 415,
  bad_request: 400,
  deadline_exceeded: 503,
  store_failed: 503,
}

/** Thrown by the ingestion route and mapped to a response in the app's one onError. */
export class WebhookError extends Error {
  override readonly name = 'WebhookError'
  readonly status: number
  constructor(
    readonly code: WebhookErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.status = STATUS[code]
  }
}
