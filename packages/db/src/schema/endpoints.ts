import { text } from 'drizzle-orm/pg-core'
import { projects } from './projects'
import { telehook, timestamps, timestamptz } from './telehook'

/** Where a delivery may arrive: `POST /hooks/:id`. Only SHA-256 hashes of secrets are kept. */
export const endpoints = telehook.table('endpoints', {
  /** Public and unguessable; `default` for the single-project endpoint. */
  id: text().primaryKey(),
  kind: text({ enum: ['service', 'project', 'single'] }).notNull(),
  projectId: text().references(() => projects.id, { onDelete: 'set null' }),
  name: text(),
  telerivetServiceId: text(),
  secretHash: text().notNull(),
  /** Hash of the secret before the last rotation, accepted until `previous_secret_expires_at`. */
  previousSecretHash: text(),
  previousSecretExpiresAt: timestamptz(),
  disabledAt: timestamptz(),
  ...timestamps,
})
