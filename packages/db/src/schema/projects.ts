import { text } from 'drizzle-orm/pg-core'
import { telehook, timestamps } from './telehook'

/** Telerivet projects onboarded through the admin API. */
export const projects = telehook.table('projects', {
  /** Telerivet project id (`PJ...`). */
  id: text().primaryKey(),
  name: text().notNull(),
  /** Telerivet API key, AES-GCM encrypted (base64); never stored in clear. */
  apiKeyCiphertext: text(),
  ...timestamps,
})
