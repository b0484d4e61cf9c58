import { afterAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../src/cli.ts'

// `telehook backup` and the restore the docs give (tar into an empty folder) on PGlite.
const dir = await mkdtemp(join(tmpdir(), 'telehook-cli-backup-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, env, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: dir,
  })
  return { code, out, err }
}

test('backup writes a tarball (0600) that restores to a working folder', async () => {
  const data = join(dir, 'data')
  expect((await cli(['token', 'create', 'kept', '--data-dir', data])).code).toBe(0)
  const made = await cli(['backup', '--data-dir', data, '--out', 'b.tar.gz'])
  expect(made.code).toBe(0)
  expect(made.err[0]).toStartWith(`telehook: backup of ${data} written to ${join(dir, 'b.tar.gz')}`)
  expect((await stat(join(dir, 'b.tar.gz'))).mode & 0o777).toBe(0o600)

  const restored = join(dir, 'restored')
  await mkdir(restored, { mode: 0o700 })
  const tar = Bun.spawn(['tar', '-xzf', join(dir, 'b.tar.gz'), '-C', restored], { stderr: 'pipe' })
  expect(await tar.exited).toBe(0)
  await rm(join(restored, 'telehook.lock'), { force: true })
  const listed = await cli(['token', 'list', '--json', '--data-dir', restored])
  expect(listed.code).toBe(0)
  expect(listed.out.map((l) => JSON.parse(l).name)).toEqual(['kept'])
}, 120_000)

test('backup refuses a folder without a database, and PostgreSQL', async () => {
  const none = await cli(['backup', '--data-dir', join(dir, 'empty')])
  expect(none.code).toBe(1)
  expect(none.err).toEqual([
    `telehook: no PGlite database in ${join(dir, 'empty')} (see --data-dir)`,
  ])
  const pg = await cli(['backup'], { DATABASE_URL: 'postgres://h/db' })
  expect(pg.code).toBe(2)
  expect(pg.err[0]).toContain('use pg_dump')
})
