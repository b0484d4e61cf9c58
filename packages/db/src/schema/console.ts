import { index, text } from 'drizzle-orm/pg-core'
import { telehook, timestamptz } from './telehook'

/**
 * Signed-in sessions of the console (the admin app's web page). Only the SHA-256 of the cookie
 * value is kept; every instance on the database accepts a session made by any other.
 */
export const consoleSessions = telehook.table(
  'console_sessions',
  {
    /** SHA-256 (hex) of the session cookie's value. */
    idHash: text().primaryKey(),
    /** Sent back with every state-changing request (form field or header). */
    csrfToken: text().notNull(),
    /** Name of the admin token that signed in, for logs. */
    tokenName: text().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    expiresAt: timestamptz().notNull(),
  },
  (t) => [index('console_sessions_expires_idx').on(t.expiresAt)],
)
