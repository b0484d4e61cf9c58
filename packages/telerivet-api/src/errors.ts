/** @module Typed errors of the Telerivet REST client. */

/**
 * Codes the client itself produces when Telerivet gave no usable error envelope:
 * `network_error` (fetch failed), `timeout`, `invalid_response` (non-JSON or unexpected shape),
 * `http_error` (an error status without Telerivet's `{error}` body).
 */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response' | 'http_error'

/**
 * An error answered by Telerivet (`{"error": {code, message, param}}`) or met on the way there.
 * `status` is the HTTP status, or 0 when no answer arrived (network error, timeout).
 */
export class TelerivetApiError extends Error {
  override readonly name = 'TelerivetApiError'
  readonly code: string
  readonly param: string | null
  readonly status: number

  constructor(
    init: { code: string; message: string; param?: string | null; status: number },
    options?: { cause?: unknown },
  ) {
    super(init.message, options)
    this.code = init.code
    this.param = init.param ?? null
    this.status = init.status
  }
}

/** True for Telerivet's `invalid_param` errors (a bad field in what we sent; `param` names it). */
export function isInvalidParam(error: unknown): error is TelerivetApiError {
  return error instanceof TelerivetApiError && error.code === 'invalid_param'
}

/** True for Telerivet's `not_found` errors (also a bare 404 without an error body). */
export function isNotFound(error: unknown): error is TelerivetApiError {
  return (
    error instanceof TelerivetApiError &&
    (error.code === 'not_found' || (error.code === 'http_error' && error.status === 404))
  )
}

/** True when the key was refused (401/403), whatever code Telerivet gave. */
export function isUnauthorized(error: unknown): error is TelerivetApiError {
  return error instanceof TelerivetApiError && (error.status === 401 || error.status === 403)
}

/**
 * Error codes of `fetch` (Bun's and Node's) for a connection that was never made: the request
 * cannot have reached Telerivet.
 */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ConnectionRefused',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'FailedToOpenSocket',
])

/**
 * True when the request provably never reached Telerivet (connection refused, unknown host,
 * unreachable network): whatever it asked for did not happen. A timeout or a connection lost after
 * sending is not such a case: Telerivet may have acted.
 * @example
 * catch (err) { if (requestNotSent(err)) rollBack() else reconcileLater() }
 */
export function requestNotSent(error: unknown): boolean {
  if (!(error instanceof TelerivetApiError) || error.code !== 'network_error') return false
  for (let e = error.cause, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NOT_CONNECTED.has(code)) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}
