import { openTestDb } from '@telehook/db/testing'
import { createAdminApp } from './app'
import { importMasterKey } from './crypto'

const database = await openTestDb('pglite')
const app = createAdminApp({
  database,
  publicUrl: undefined,
  masterKey: await importMasterKey(btoa('x'.repeat(32))),
  logger: {
    info: (x: unknown) => console.log(JSON.stringify(x)),
    warn: (x: unknown) => console.log(JSON.stringify(x)),
    error: (x: unknown) => console.log(JSON.stringify(x)),
    debug() {},
  } as never,
})
const s = Bun.serve({ port: 18931, hostname: '127.0.0.1', fetch: app.fetch })
console.log('up', s.port)
setTimeout(async () => {
  await s.stop(true)
  await database.drop()
  process.exit(0)
}, 40000)
