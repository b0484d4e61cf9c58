import { integer, jsonb, primaryKey, text } from 'drizzle-orm/pg-core'
import { telehook, timestamptz } from './telehook'

/** Bearer tokens of the admin API (hash only). */
export const adminTokens = telehook.table('admin_tokens', {
  id: text().primaryKey(),
  name: text().notNull(),
  tokenHash: text().notNull().unique('admin_tokens_token_hash_key'),
  createdAt: timestamptz().notNull().defaultNow(),
  lastUsedAt: timestamptz(),
})

/** Stored responses of idempotent admin requests (`Idempotency-Key`). */
export const idempotencyKeys = telehook.table(
  'idempotency_keys',
  {
    scope: text().notNull(),
    key: text().notNull(),
    requestHash: text().notNull(),
    status: integer().notNull(),
    response: jsonb().$type<unknown>(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
)
