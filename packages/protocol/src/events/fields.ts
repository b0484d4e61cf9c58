/**
 * @module events/fields
 * Building blocks of the event schemas. Every schema describes the DECODED shape: `decodeEvent`
 * turns the form's strings into numbers and booleans where these helpers say so.
 */
import { type TUnsafe, Type } from '@sinclair/typebox'
import type { FormValue } from '../form.ts'

/**
 * An enumeration that accepts its documented values and keeps any other string, so that a value
 * Telerivet adds in the future is stored instead of rejected. The type offers the known values to
 * the editor and still accepts any string.
 */
export function OpenEnum<const T extends readonly string[]>(
  values: T,
  description?: string,
): TUnsafe<T[number] | (string & {})> {
  return Type.Unsafe<T[number] | (string & {})>(
    Type.Union([...values.map((v) => Type.Literal(v)), Type.String()], {
      ...(description === undefined ? {} : { description }),
      'x-known-values': values,
    }),
  )
}

/** A Telerivet object id (max 34 characters). Stays a string even when it looks numeric. */
export const Id = (description?: string) =>
  Type.String(description === undefined ? {} : { description })

/** A UNIX timestamp in seconds (UTC), sent as a decimal string. */
export const Timestamp = (description?: string) =>
  Type.Number({ description: description ?? 'UNIX timestamp (seconds, UTC)' })

/** An integer sent as a decimal string. */
export const Int = (description?: string) =>
  Type.Integer(description === undefined ? {} : { description })

/** A decimal number sent as a string (prices, battery level). */
export const Num = (description?: string) =>
  Type.Number(description === undefined ? {} : { description })

/** A boolean sent as `1`/`0` (sometimes empty for false). */
export const Bool = (description?: string) =>
  Type.Boolean(description === undefined ? {} : { description })

/** Custom variables (`vars[foo]`): names are free, values are the strings the form carried. */
export const Vars = (description?: string) =>
  Type.Unsafe<Record<string, FormValue>>(
    Type.Record(Type.String(), Type.Unknown(), {
      description: description ?? 'custom variables, values as sent (strings)',
    }),
  )

/** A free-form nested object kept as the form carried it (`route_params`, `mms_parts[i]`). */
export const Loose = (description?: string) =>
  Type.Unsafe<Record<string, FormValue>>(
    Type.Record(Type.String(), Type.Unknown(), description === undefined ? {} : { description }),
  )

/** A list of ids (`label_ids[0]`, `group_ids[0]`). */
export const IdList = (description?: string) =>
  Type.Array(Type.String(), description === undefined ? {} : { description })
