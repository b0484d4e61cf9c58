/**
 * @module checks
 * Input checks shared by the feature modules, failing as Telerivet does (`invalid_param` naming
 * the parameter), and the merge of custom variables.
 */
import { webhookPort } from '@telehook/protocol'
import { invalidParam, SimError } from './errors.ts'
import type { Vars } from './model.ts'

/** True for a plain JSON object. */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** A boolean as clients send it (`true`, `1`, `'1'`, `'true'`, …), or null. */
export function toBool(x: unknown): boolean | null {
  if (x === true || x === 1 || x === '1' || x === 'true') return true
  if (x === false || x === 0 || x === '0' || x === 'false') return false
  return null
}

const VAR_NAME = /^[A-Za-z0-9_]{1,32}$/
const utf8 = new TextEncoder()

/** Validates custom variables as Telerivet does (null values delete). */
export function checkVars(
  x: unknown,
  param: string,
): Record<string, string | number | boolean | null> {
  if (!isRecord(x)) throw invalidParam(param, `${param} must be an object`)
  const entries = Object.entries(x)
  if (entries.length > 100) throw invalidParam(param, 'Too many variables (max 100)')
  for (const [k, v] of entries) {
    if (!VAR_NAME.test(k)) throw invalidParam(param, `Invalid variable name: ${k}`)
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) {
      throw invalidParam(param, `Invalid value of variable ${k}`)
    }
    if (typeof v === 'string' && utf8.encode(v).length > 4096) {
      throw invalidParam(param, `Variable ${k} is longer than 4096 bytes`)
    }
  }
  return x as Record<string, string | number | boolean | null>
}

/** `base` with `update` applied: a null value deletes the variable. */
export function mergeVars(
  base: Vars,
  update: Record<string, string | number | boolean | null>,
): Vars {
  const out: Vars = { ...base }
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete out[k]
    else out[k] = v
  }
  return out
}

/** Parses an http(s) URL, or fails naming `param`. */
export function checkHttpUrl(url: string, param: string): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw invalidParam(param, `Invalid URL: ${url}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw invalidParam(param, 'URL must use http or https')
  }
  return u
}

/** Checks a webhook URL as Telerivet does: http(s) and one of the allowed ports. */
export function checkWebhookUrl(
  url: string,
  param: string,
  ports: readonly number[] | 'any',
): void {
  const u = checkHttpUrl(url, param)
  if (ports === 'any') return
  const port = webhookPort(u.href)
  if (port === null || !ports.includes(port)) {
    throw new SimError(
      400,
      'invalid_param',
      `Webhook URL port ${port} is not allowed; use one of ${ports.join(', ')}`,
      param,
    )
  }
}
