import { pgSchema, timestamp } from 'drizzle-orm/pg-core'

/** The PostgreSQL schema that holds every Telehook table, so Telehook can share a database. */
export const telehook = pgSchema('telehook')

/** A `timestamptz` column read and written as a JS `Date` on both drivers. */
export const timestamptz = () => timestamp({ withTimezone: true, mode: 'date' })

/** `created_at` / `updated_at`, spread into every table that keeps bookkeeping times. */
export const timestamps = {
  createdAt: timestamptz().notNull().defaultNow(),
  updatedAt: timestamptz()
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
}
