import { openDb, queryRows } from '@telehook/db'
import { sql } from 'drizzle-orm'
const admin = await openDb({ databaseUrl: 'postgres://root@127.0.0.1:5432/test', migrate: false })
await queryRows(admin.db, sql.raw(`${process.argv[2]} database ${process.argv[2] === 'drop' ? 'if exists ' : ''}telehook_floodbench${process.argv[2] === 'drop' ? ' with (force)' : ''}`))
await admin.close()
