/**
 * PGlite as Telehook runs it (pglite.ts): commits flushed to disk, and a PostgreSQL that dies on
 * a failed flush fenced off and started again. Failures are injected through the flush function
 * (a real fdatasync otherwise); the disk drill (tests/faults) breaks a real file system.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cpSync, fdatasyncSync, fsyncSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { openDb } from './client'
import { nativeClient } from './native'
import {
  PgliteHost,
  type PgliteReport,
  PgliteUnavailableError,
  pgliteReportLine,
  type SyncFile,
} from './pglite'
import { DRIZZLE_PGLITE_PARSERS, withInstanceParsers } from './pglite-parsers'

let scratch: string
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'telehook-pglite-test-'))
  // One initialised folder, copied for each test (initdb takes seconds).
  const database = await openDb({ dataDir: join(scratch, 'template'), autovacuum: false })
  await database.close()
}, 120_000)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let copies = 0
function dataFolder(): string {
  const dir = join(scratch, `data${++copies}`)
  cpSync(join(scratch, 'template'), dir, { recursive: true })
  return dir
}

const path = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`)
const isWal = (file: string) => /\/pg_wal\/[0-9A-F]{24}$/.test(file)
const realSync: SyncFile = (fd, directory) => (directory ? fsyncSync(fd) : fdatasyncSync(fd))

test('a commit returns once its WAL has been flushed to disk', async () => {
  const flushed: string[] = []
  const host = await PgliteHost.start({
    dataDir: dataFolder(),
    options: {},
    sync: (fd, directory) => {
      flushed.push(path(fd))
      realSync(fd, directory)
    },
  })
  try {
    const pg = host.current
    const setting = async (name: string) =>
      (await pg.query<{ v: string }>(`select current_setting('${name}') as v`)).rows[0]?.v
    expect(await setting('fsync')).toBe('on')
    expect(await setting('wal_sync_method')).toBe('fsync')
    expect(await setting('shared_buffers')).toBe('8MB')
    await pg.exec('create table t (id int)')
    for (const id of [1, 2, 3]) {
      flushed.length = 0
      await pg.query('insert into t values ($1)', [id])
      expect(flushed.filter(isWal)).toHaveLength(1)
    }
  } finally {
    await host.close()
  }
})

test('a failed flush is a PANIC: the commit fails, later calls fail at once, and PostgreSQL comes back', async () => {
  let failing = false
  const lines: string[] = []
  const reports: PgliteReport[] = []
  const host = await PgliteHost.start({
    dataDir: dataFolder(),
    options: {},
    log: (report) => {
      reports.push(report)
      lines.push(pgliteReportLine(report))
    },
    sync: (fd, directory) => {
      if (failing && isWal(path(fd))) {
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
      }
      realSync(fd, directory)
    },
  })
  try {
    const notified: string[] = []
    let listens = 0
    await host.listen(
      't_news',
      (payload) => notified.push(payload),
      () => listens++,
    )
    await host.current.exec('create table t (id int)')
    await host.current.query('insert into t values (1)')
    failing = true
    await expect(host.current.query('insert into t values (2)')).rejects.toThrow(
      /stopped: PANIC: could not fsync file "[0-9A-F]{24}": I\/O error/,
    )
    // Without the fence this query never settled: PGlite ran it in the aborted instance.
    const next = host.current.query('select 1')
    await expect(next).rejects.toBeInstanceOf(PgliteUnavailableError)
    await expect(next).rejects.toThrow(/restarting it/)
    expect(host.unavailableReason).toMatch(/PANIC/)
    expect(lines[0]).toMatch(/^telehook: PGlite stopped: PANIC: could not fsync file/)
    failing = false
    while (host.unavailableReason !== null) await Bun.sleep(20)
    expect(lines.at(-1)).toMatch(/^telehook: PGlite is back after/)
    // The same reports, as fields a JSON logger writes: the death an error, the return info.
    expect(reports[0]).toMatchObject({ level: 'error', data_dir: expect.any(String) })
    expect(reports[0]?.reason).toMatch(/^PANIC: could not fsync file/)
    expect(reports.at(-1)).toMatchObject({ level: 'info', reason: reports[0]?.reason })
    expect(reports.at(-1)?.down_s).toBeGreaterThanOrEqual(0)
    // Crash recovery replays the WAL: row 1 was acknowledged and is there. Row 2's commit was
    // written but not flushed: it may or may not be (it was never acknowledged).
    const { rows } = await host.current.query<{ id: number }>('select id from t order by id')
    expect(rows[0]).toEqual({ id: 1 })
    expect(listens).toBe(2)
    await host.current.query(`select pg_notify('t_news', 'after')`)
    while (notified.length === 0) await Bun.sleep(10)
    expect(notified).toEqual(['after'])
  } finally {
    await host.close()
  }
}, 60_000)

test('a client that follows the current instance prepares its statements again on a new one', async () => {
  const first = await PGlite.create({ parsers: DRIZZLE_PGLITE_PARSERS })
  const second = await PGlite.create({ parsers: DRIZZLE_PGLITE_PARSERS })
  try {
    let current = first
    const db = drizzle({ client: withInstanceParsers(() => current) })
    const native = nativeClient(db as never)
    const text = 'select $1::int + 1 as n'
    expect(await native.query(text, [1])).toEqual([{ n: 2 }])
    current = second
    expect(await native.query(text, [2])).toEqual([{ n: 3 }])
    expect(await native.transaction((q) => q(text, [3]))).toEqual([{ n: 4 }])
    const named = await second.query<{ n: number }>(
      'select count(*)::int as n from pg_prepared_statements',
    )
    expect(named.rows[0]?.n).toBe(1)
  } finally {
    await first.close()
    await second.close()
  }
}, 60_000)
