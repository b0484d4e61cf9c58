/** @module The admin API's error type and how Telerivet's errors map onto it. */
import { Type } from '@sinclair/typebox'
import {
  isInvalidParam,
  isNotFound,
  isUnauthorized,
  TelerivetApiError,
} from '@telehook/telerivet-api'

/** Every error answer: `{"error": {code, message, param?}}`. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      param: Type.Optional(Type.String()),
      telerivet_code: Type.Optional(Type.String()),
      errors: Type.Optional(
        Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
      ),
    }),
  },
  { $id: 'ErrorBody' },
)

/** An expected rejection; mapped to its status and `{error}` body in the app's one `onError`. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly extra: { param?: string; telerivet_code?: string } = {},
  ) {
    super(message)
  }

  toBody() {
    return { error: { code: this.code, message: this.message, ...this.extra } }
  }
}

/**
 * Translates a Telerivet client error into a clear answer: refusals (bad key, bad parameter) are
 * 4xx the caller can act on; an unreachable or broken Telerivet is a 502.
 */
export function fromTelerivet(err: unknown, what: string): ApiError {
  if (!(err instanceof TelerivetApiError)) {
    return new ApiError(502, 'telerivet_unavailable', `${what}: ${String(err)}`)
  }
  const extra = { telerivet_code: err.code, ...(err.param ? { param: err.param } : {}) }
  if (isUnauthorized(err as unknown)) {
    return new ApiError(
      400,
      'telerivet_unauthorized',
      `${what}: Telerivet refused the API key (${err.message})`,
      extra,
    )
  }
  if (isInvalidParam(err as unknown)) {
    return new ApiError(
      400,
      'telerivet_invalid_param',
      `${what}: Telerivet rejected ${err.param ? `parameter ${err.param}` : 'a parameter'}: ${err.message}`,
      extra,
    )
  }
  if (isNotFound(err as unknown)) {
    return new ApiError(404, 'telerivet_not_found', `${what}: ${err.message}`, extra)
  }
  if (err.status >= 400 && err.status < 500 && err.status !== 429) {
    return new ApiError(400, 'telerivet_error', `${what}: ${err.message}`, extra)
  }
  return new ApiError(502, 'telerivet_unavailable', `${what}: ${err.message}`, extra)
}

/** True when Telerivet may or may not have acted (no answer, or a server error). */
export function outcomeUnknown(err: unknown): boolean {
  return (
    err instanceof TelerivetApiError &&
    (err.status === 0 || err.status >= 500 || err.code === 'invalid_response')
  )
}

/** "Expected one of a, b" for a union of literals (TypeBox only says "Expected union value"). */
function literalChoices(schema: unknown): string | undefined {
  const anyOf = (schema as { anyOf?: unknown } | undefined)?.anyOf
  if (!Array.isArray(anyOf) || anyOf.length === 0) return undefined
  const values = anyOf.map((s) => (s as { const?: unknown }).const)
  if (!values.every((v) => typeof v === 'string')) return undefined
  return `Expected one of ${values.join(', ')}`
}

/** The parts of an Elysia validation error the answer uses. */
interface ValidationLike {
  type: string
  all: readonly unknown[]
}

/**
 * The `{error}` body of a failed validation, never echoing the rejected values (a body may hold an
 * API key). A schema's own `error` text is the message (e.g. "limit must be an integer from 1 to
 * 500"); an enumeration names its allowed values; one failing parameter is named in `param`.
 */
export function validationBody(error: ValidationLike) {
  const seen = new Set<string>()
  const errors: { path: string; message: string; own: boolean }[] = []
  for (const e of error.all) {
    const x = e as { path?: unknown; message?: unknown; schema?: { error?: unknown } }
    const path = x.path ? String(x.path) : ''
    const own = typeof x.schema?.error === 'string' ? x.schema.error : undefined
    const name = path.slice(path.lastIndexOf('/') + 1)
    // "limit must be …" stands alone; "must be …" is said of its parameter.
    const ownText = own !== undefined && name && !own.startsWith(name) ? `${name} ${own}` : own
    const message =
      ownText ?? literalChoices(x.schema) ?? (x.message ? String(x.message) : 'invalid')
    // A schema's own message stands for every check of that value: say it once.
    if (own !== undefined && seen.has(`${path}\0${message}`)) continue
    seen.add(`${path}\0${message}`)
    errors.push({ path, message, own: own !== undefined })
  }
  const params = new Set(errors.map((e) => e.path))
  const only = params.size === 1 ? [...params][0]?.replace(/^\//, '') : undefined
  return {
    error: {
      code: 'invalid_request',
      message: `Invalid ${error.type}: ${errors.map((e) => (e.own ? e.message : `${e.path || '/'} ${e.message}`)).join('; ')}`,
      ...(only && !only.includes('/') ? { param: only } : {}),
      errors: errors.map(({ path, message }) => ({ path, message })),
    },
  }
}

/** The error answers a route declares, each with the shared {@link ErrorBody}. */
export function errorResponses<const C extends readonly number[]>(
  ...codes: C
): { [K in C[number]]: typeof ErrorBody } {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody])) as {
    [K in C[number]]: typeof ErrorBody
  }
}

/** The SQLSTATE of a database error (Drizzle wraps the driver's error as its `cause`). */
export function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** True for a database error (it would carry the SQL text and its parameters). */
function isDatabaseError(error: unknown): boolean {
  return (
    sqlState(error) !== undefined ||
    (error instanceof Error && error.message.startsWith('Failed query:'))
  )
}

/**
 * What the log may say about an unexpected error: for a database error its SQLSTATE only, never
 * the SQL text, its parameters or the server's message (which quotes the rejected value).
 */
export function describeError(error: unknown): { error: string; sqlstate?: string } {
  if (isDatabaseError(error)) {
    const state = sqlState(error)
    return { error: 'database query failed', ...(state ? { sqlstate: state } : {}) }
  }
  return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
}

/**
 * A database "data exception" (SQLSTATE class 22: a value the column type cannot hold, a NUL in
 * text, a bad timestamp): the request's input was wrong, so it is a 400, not a 500.
 */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith('22') === true
}
