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
 * API key); an enumeration names its allowed values.
 */
export function validationBody(error: ValidationLike) {
  const errors = error.all.map((e) => {
    const x = e as { path?: unknown; message?: unknown; schema?: unknown }
    return {
      path: x.path ? String(x.path) : '',
      message: literalChoices(x.schema) ?? (x.message ? String(x.message) : 'invalid'),
    }
  })
  return {
    error: {
      code: 'invalid_request',
      message: `Invalid ${error.type}: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`,
      errors,
    },
  }
}
