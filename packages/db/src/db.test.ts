import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import {
  type Database,
  DatabaseConnectError,
  DataDirLockedError,
  endpoints,
  events,
  migrate,
  migrations,
  openDb,
  queryRows,
} from './index'
import { openTestDb, TEST_DATABASE_URL, TEST_DRIVERS } from './testing'

for (const driver of TEST_DRIVERS) {
  describe(`db on ${driver}`, () => {
    let database: Database & { drop(): Promise<void> }
    beforeAll(async () => {
      database = await openTestDb(driver)
    })
    afterAll(() => database?.drop())

    test('tables live in the telehook schema', async () => {
      const rows = await queryRows<{ table_name: string }>(
        database.db,
        sql`select table_name from information_schema.tables where table_schema = 'telehook' order by 1`,
      )
      expect(rows.map((r) => r.table_name)).toEqual([
        '__migrations',
        'admin_tokens',
        'broadcasts',
        'console_sessions',
        'contacts',
        'destinations',
        'endpoints',
        'events',
        'forward_attempts',
        'forward_jobs',
        'idempotency_keys',
        'jobs',
        'message_status_history',
        'messages',
        'projects',
      ])
      const publicTables = await queryRows(
        database.db,
        sql`select 1 from information_schema.tables where table_schema = 'public'`,
      )
      expect(publicTables).toHaveLength(0)
    })

    test('migrating again applies nothing and records each migration once', async () => {
      expect(await migrate(database)).toEqual([])
      expect(await migrate(database)).toEqual([])
      const rows = await queryRows<{ name: string }>(
        database.db,
        sql`select name from telehook.__migrations order by name`,
      )
      expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name))
    })

    test('concurrent migrations are serialized by the advisory lock', async () => {
      const results = await Promise.all([migrate(database), migrate(database), migrate(database)])
      expect(results.flat()).toEqual([])
    })

    test('a migration edited after it was applied is refused', async () => {
      const first = migrations[0]
      if (!first) throw new Error('no migration')
      await expect(migrate(database, [{ ...first, hash: 'changed' }])).rejects.toThrow(/changed/)
    })

    test('a new migration is applied once, in a transaction', async () => {
      const extra = {
        name: '9999_test_extra',
        hash: 'x',
        sql: 'CREATE TABLE "telehook"."t_extra" (id int);\n--> statement-breakpoint\nINSERT INTO "telehook"."t_extra" VALUES (1);',
      }
      expect(await migrate(database, [...migrations, extra])).toEqual(['9999_test_extra'])
      expect(await migrate(database, [...migrations, extra])).toEqual([])
      const broken = {
        name: '9999_test_broken',
        hash: 'y',
        sql: 'CREATE TABLE "telehook"."t_b" (id int);\n--> statement-breakpoint\nSELECT nope;',
      }
      await expect(migrate(database, [...migrations, broken])).rejects.toThrow()
      const left = await queryRows(
        database.db,
        sql`select 1 from information_schema.tables where table_schema = 'telehook' and table_name = 't_b'`,
      )
      expect(left).toHaveLength(0)
      await database.db.execute(sql`drop table telehook.t_extra`)
      await database.db.execute(
        sql`delete from telehook.__migrations where name = '9999_test_extra'`,
      )
    })

    test('timestamps come back as Date, jsonb as objects, uuid defaults work', async () => {
      await database.db.insert(endpoints).values({ id: 'e1', kind: 'service', secretHash: 'h' })
      const [row] = await database.db
        .insert(events)
        .values({
          endpointId: 'e1',
          event: 'incoming_message',
          dedupeKey: 'k',
          payload: { a: 1, nested: { b: 'x' } },
          valid: true,
        })
        .returning()
      expect(row?.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(row?.receivedAt).toBeInstanceOf(Date)
      expect(row?.payload).toEqual({ a: 1, nested: { b: 'x' } })
      const [ep] = await database.db.select().from(endpoints).where(eq(endpoints.id, 'e1'))
      expect(ep?.createdAt).toBeInstanceOf(Date)
      expect(Math.abs((ep?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(60_000)
    })

    test('ping answers and listen receives notifications sent on commit', async () => {
      await database.ping()
      const listen = database.listen
      if (!listen) throw new Error('listen missing')
      const got: string[] = []
      const received = new Promise<void>((resolve) => {
        void listen
          .call(database, 'telehook_test', (p) => {
            got.push(p)
            resolve()
          })
          .then((u) => {
            unlisten = u
          })
      })
      let unlisten: (() => Promise<void>) | undefined
      // Give the LISTEN a moment to be registered before notifying.
      while (!unlisten) await Bun.sleep(5)
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_notify('telehook_test', 'hello')`)
      })
      await received
      expect(got).toEqual(['hello'])
      await unlisten()
    })

    test.skipIf(driver !== 'postgres')(
      'listen re-listens after its connection dies, and says so through onListen',
      async () => {
        let listens = 0
        const unlisten = await database.listen?.(
          'telehook_relisten',
          () => {},
          () => {
            listens += 1
          },
        )
        expect(listens).toBe(1)
        const listeners = () =>
          queryRows<{ pid: number }>(
            database.db,
            sql`select pid from pg_stat_activity
                where datname = current_database() and query ilike 'listen %telehook_relisten%'`,
          )
        const [first] = await listeners()
        await queryRows(database.db, sql`select pg_terminate_backend(${first?.pid})`)
        for (let i = 0; i < 200 && listens < 2; i++) await Bun.sleep(25)
        expect(listens).toBe(2)
        await unlisten?.()
      },
    )

    test('concurrent migrations on an empty database create everything once', async () => {
      await database.db.execute(sql`drop schema telehook cascade`)
      const results = await Promise.all([migrate(database), migrate(database), migrate(database)])
      expect(results.flat()).toEqual(migrations.map((m) => m.name))
      const rows = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from telehook.__migrations`,
      )
      expect(rows[0]?.n).toBe(migrations.length)
    })
  })
}

test('PGlite keeps data in its data folder across restarts', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'telehook-db-'))
  try {
    const first = await openDb({ dataDir: join(dir, 'data') })
    await first.db.insert(endpoints).values({ id: 'kept', kind: 'single', secretHash: 'h' })
    // One opener per folder: a second openDb (here, or in any process) is refused while it is open.
    await expect(openDb({ dataDir: join(dir, 'data') })).rejects.toBeInstanceOf(DataDirLockedError)
    expect(await Bun.file(join(dir, 'data', 'telehook.lock')).text()).toBe(`${process.pid}\n`)
    await first.close()
    expect(await Bun.file(join(dir, 'data', 'telehook.lock')).exists()).toBe(false)
    const second = await openDb({ dataDir: join(dir, 'data') })
    const rows = await second.db.select().from(endpoints)
    expect(rows.map((r) => r.id)).toEqual(['kept'])
    await second.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)

test('openDb fails cleanly, naming the cause, when PostgreSQL cannot be reached', async () => {
  const url = 'postgres://root:pw@127.0.0.1:1/none'
  const error = await openDb({ databaseUrl: url, connectTimeoutMs: 2000 }).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(DatabaseConnectError)
  expect((error as Error).message).toBe(
    'cannot connect to postgres://root:***@127.0.0.1:1/none: connection refused by 127.0.0.1:1 (is PostgreSQL running and listening there?)',
  )
})

test.skipIf(!TEST_DRIVERS.includes('postgres'))(
  'close() returns within its bound when the server stops answering (a black-holed network)',
  async () => {
    const { createServer, connect } = await import('node:net')
    const target = new URL(TEST_DATABASE_URL)
    const sockets = new Set<import('node:net').Socket>()
    let holed = false
    // Relays to the test server until `holed`; then it says nothing more, as a network partition.
    const hole = createServer((client) => {
      const server = connect(Number(target.port || 5432), target.hostname)
      for (const s of [client, server]) {
        sockets.add(s)
        s.on('error', () => {})
      }
      client.on('data', (chunk) => holed || server.write(chunk))
      server.on('data', (chunk) => holed || client.write(chunk))
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    const port = (hole.address() as { port: number }).port
    const url = new URL(TEST_DATABASE_URL)
    url.port = String(port)
    try {
      const database = await openDb({
        databaseUrl: url.toString(),
        migrate: false,
        closeTimeoutMs: 500,
      })
      holed = true
      const stuck = database.ping().catch((error: unknown) => error)
      // The old close waited 5 s here; the bound is 0.5 s, the margin is for a busy machine.
      const outcome = await Promise.race([
        database.close().then(() => 'closed'),
        Bun.sleep(4000).then(() => 'still waiting'),
      ])
      expect(outcome).toBe('closed')
      // The query that was waiting is failed, not left hanging.
      expect(await stuck).toBeInstanceOf(Error)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => hole.close(() => resolve()))
    }
  },
)
