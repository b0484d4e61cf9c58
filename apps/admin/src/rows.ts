/** @module Wire shapes of database rows: snake_case keys and ISO timestamps, schemas from drizzle-typebox. */
import {
  type TDate,
  type TNull,
  type TObject,
  type TProperties,
  type TSchema,
  type TString,
  type TUnion,
  Type,
  TypeGuard,
} from '@sinclair/typebox'

type SnakeChar<C extends string> = C extends Lowercase<C> ? C : `_${Lowercase<C>}`
/** `receivedAt` → `received_at`, at the type level. */
export type Snake<S extends string> = S extends `${infer C}${infer R}`
  ? `${SnakeChar<C>}${Snake<R>}`
  : S
type Wire<T> = T extends TDate
  ? TString
  : T extends TUnion<[TDate, TNull]>
    ? TUnion<[TString, TNull]>
    : T
/** A row schema with snake_case keys and dates as ISO strings. */
export type WireObject<T extends TObject> = TObject<{
  [K in keyof T['properties'] as Snake<K & string>]: Wire<T['properties'][K]>
}>

export const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const DateTime = () => Type.String({ format: 'date-time' })

function wireProp(s: TSchema): TSchema {
  if (TypeGuard.IsDate(s)) return DateTime()
  if (TypeGuard.IsUnion(s) && s.anyOf.some((x) => TypeGuard.IsDate(x))) {
    return Type.Union(s.anyOf.map((x) => (TypeGuard.IsDate(x) ? DateTime() : x)))
  }
  return s
}

/**
 * Turns a drizzle-typebox select schema into the shape the admin API answers with.
 * @example
 * export const EventRow = wireSchema(createSelectSchema(events), 'EventRow')
 */
export function wireSchema<T extends TObject>(schema: T, $id?: string): WireObject<T> {
  const props: TProperties = {}
  for (const [k, v] of Object.entries(schema.properties)) props[snake(k)] = wireProp(v)
  return Type.Object(props, $id ? { $id } : {}) as unknown as WireObject<T>
}

/** Converts a Drizzle row to its wire shape (snake_case keys, dates as ISO strings). */
export function toWire<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[snake(k)] = v instanceof Date ? v.toISOString() : v
  return out as T
}
