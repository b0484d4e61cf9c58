/**
 * @module decode
 * From a parsed form to a typed event: the event's schema guides which strings become numbers,
 * booleans and arrays; then a validator compiled once at module load checks the result.
 */
import { Kind, type TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventType,
  isEventType,
  type TelerivetEvent,
} from './events/index.ts'
import type { FormObject, FormValue } from './form.ts'

/** One validation failure: a JSON pointer into the decoded event, and what was expected. */
export interface DecodeError {
  path: string
  message: string
}

/** What {@link decodeEvent} found. `secret` is never part of `event` or `payload`. */
export type DecodeResult =
  | { ok: true; event: TelerivetEvent }
  | { ok: false; reason: 'unknown_event'; eventType: string | null; payload: FormObject }
  | {
      ok: false
      reason: 'invalid'
      eventType: EventType
      errors: DecodeError[]
      payload: FormObject
    }

/** At most this many errors are reported for one payload. */
export const MAX_DECODE_ERRORS = 20

type Converter = (value: unknown) => unknown

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/

/** Empty means absent (`undefined`); a string that is no number is left for the check to report. */
function toNumber(v: unknown): unknown {
  if (typeof v !== 'string') return v
  if (v.trim() === '') return undefined
  return NUMBER.test(v) ? Number(v) : v
}

function toBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v
  switch (v.trim().toLowerCase()) {
    case '1':
    case 'true':
      return true
    case '0':
    case 'false':
    case '':
      return false
    default:
      return v
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const INDEX = /^(?:0|[1-9]\d{0,8})$/

/**
 * The form gives an object for sparse indices (`label_ids[1]=x`) and nothing but a string for
 * `label_ids=`; where the schema wants an array, take the values in index order, or none.
 */
function toArray(v: unknown): unknown {
  if (Array.isArray(v)) return v
  if (v === '') return []
  if (isPlainObject(v)) {
    const keys = Object.keys(v)
    if (keys.length > 0 && keys.every((k) => INDEX.test(k))) {
      return keys.sort((a, b) => Number(a) - Number(b)).map((k) => v[k])
    }
  }
  return v
}

/** Builds the converter of a schema once; null means the value is kept as it is. */
function buildConverter(schema: TSchema): Converter | null {
  switch (schema[Kind]) {
    case 'Number':
    case 'Integer':
      return toNumber
    case 'Boolean':
      return toBoolean
    case 'Array': {
      const item = buildConverter(schema.items as TSchema)
      if (item === null) return toArray
      return (v) => {
        const arr = toArray(v)
        return Array.isArray(arr) ? arr.map(item) : arr
      }
    }
    case 'Record': {
      const patterns = schema.patternProperties as Record<string, TSchema>
      const valueSchema = Object.values(patterns)[0]
      const conv = valueSchema === undefined ? null : buildConverter(valueSchema)
      if (conv === null) return null
      return (v) => {
        if (!isPlainObject(v)) return v
        const out = Object.create(null) as Record<string, unknown>
        for (const k of Object.keys(v)) {
          const converted = conv(v[k])
          if (converted !== undefined) out[k] = converted
        }
        return out
      }
    }
    case 'Object': {
      const props = schema.properties as Record<string, TSchema>
      const convs: [string, Converter][] = []
      for (const [k, s] of Object.entries(props)) {
        const c = buildConverter(s)
        if (c !== null) convs.push([k, c])
      }
      return (v) => {
        if (!isPlainObject(v)) return v
        // A fresh null-prototype copy: unknown fields are kept, and `__proto__` stays a plain key.
        const out = Object.create(null) as Record<string, unknown>
        for (const k of Object.keys(v)) out[k] = v[k]
        for (const [k, c] of convs) {
          if (!(k in out)) continue
          const converted = c(out[k])
          if (converted === undefined) delete out[k]
          else out[k] = converted
        }
        return out
      }
    }
    default:
      return null
  }
}

const decoders = Object.fromEntries(
  EVENT_TYPES.map((t) => {
    const schema = EVENT_SCHEMAS[t]
    const check: TypeCheck<TSchema> = TypeCompiler.Compile(schema as TSchema)
    return [t, { convert: buildConverter(schema) as Converter, check }]
  }),
) as Record<EventType, { convert: Converter; check: TypeCheck<TSchema> }>

/** A shallow copy of the form without `secret`, so the secret never reaches storage or handlers. */
export function withoutSecret(form: FormObject): FormObject {
  const out = Object.create(null) as FormObject
  for (const k of Object.keys(form)) if (k !== 'secret') out[k] = form[k] as FormValue
  return out
}

/**
 * Decodes a parsed webhook form into a typed event. Never throws: an unknown or missing `event`
 * and a payload that fails its schema are results, so the caller can still store them.
 *
 * @example
 * const r = decodeEvent(parseForm(body))
 * if (r.ok && r.event.event === 'incoming_message') console.log(r.event.content)
 */
export function decodeEvent(form: FormObject): DecodeResult {
  const payload = withoutSecret(form)
  const type = payload.event
  if (!isEventType(type)) {
    return {
      ok: false,
      reason: 'unknown_event',
      eventType: typeof type === 'string' ? type : null,
      payload,
    }
  }
  const { convert, check } = decoders[type]
  const value = convert(payload)
  if (check.Check(value)) return { ok: true, event: value as TelerivetEvent }
  const errors: DecodeError[] = []
  for (const e of check.Errors(value)) {
    const path = e.path === '' ? '/' : e.path
    // TypeBox reports a missing union-typed property twice; the first message says it all.
    if (errors.at(-1)?.path === path) continue
    errors.push({ path, message: e.message })
    if (errors.length >= MAX_DECODE_ERRORS) break
  }
  return { ok: false, reason: 'invalid', eventType: type, errors, payload }
}

function stringifyCanonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stringifyCanonical).join(',')}]`
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stringifyCanonical(v[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

/**
 * The form as JSON with keys sorted at every level and without the top-level `secret`: equal
 * payloads give equal strings, whatever the parameter order. The engine hashes it to dedupe
 * `contact_update` and `message_metadata`, whose objects legitimately change many times.
 */
export function canonicalPayload(form: FormObject): string {
  return stringifyCanonical(withoutSecret(form))
}
