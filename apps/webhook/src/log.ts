/** @module The default logger of the webhook app: one JSON object per line on stdout. */
import type { Logger } from '@telehook/engine'

/**
 * A logger writing `{"time":…,"level":…,…fields}` lines. Fields are the caller's: the app never
 * passes a secret, and scrubs user-provided text of it (see app.ts).
 */
export function createLineLogger(write: (line: string) => void = (l) => console.log(l)): Logger {
  const emit = (level: string) => (fields: Record<string, unknown>) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, ...fields }))
  }
  return { info: emit('info'), warn: emit('warn'), error: emit('error') }
}
