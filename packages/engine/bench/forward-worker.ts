/**
 * @module One forwarding worker process for bench/forward.ts: DATABASE_URL, TELEHOOK_MASTER_KEY
 * (base64) and CONCURRENCY from the environment; stops on SIGTERM.
 */
import { openDb } from '@telehook/db'
import { createForwarder } from '../src/forward'

const raw = Uint8Array.from(atob(process.env.TELEHOOK_MASTER_KEY ?? ''), (c) => c.charCodeAt(0))
const masterKey = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt'])
const database = await openDb({
  databaseUrl: process.env.DATABASE_URL,
  migrate: false,
  maxConnections: 4,
})
const forwarder = createForwarder({
  database,
  masterKey,
  concurrency: Number(process.env.CONCURRENCY ?? 16),
})
forwarder.start()
await forwarder.whenListening()
console.log('ready')
process.on('SIGTERM', async () => {
  await forwarder.stop()
  await database.close()
  process.exit(0)
})
