/**
 * @module Start-up figures for the README: from spawning `telehook serve` to its first 200 on
 * `/healthz`, on a fresh and an existing database, for PGlite and PostgreSQL. Not a test: it
 * measures, prints a Markdown table and asserts nothing.
 *
 *   bun run compile && bun apps/cli/scripts/startup.ts [--binary dist/telehook] [--runs 3]
 *   bun apps/cli/scripts/startup.ts --source     # `bun apps/cli/src/main.ts serve` instead
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freePorts, waitUntilHealthy } from '@telehook/webhook/testing'
import postgres from 'postgres'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { binary: { type: 'string' }, runs: { type: 'string' }, source: { type: 'boolean' } },
})
const command = values.source
  ? [process.execPath, join(import.meta.dir, '../src/main.ts')]
  : ['./telehook']
const binary = resolve(values.binary ?? join(import.meta.dir, '../../../dist/telehook'))
const runs = Number(values.runs ?? 3)
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test'

/** Milliseconds from spawn to the first 200 of /healthz; then stops the process cleanly. */
async function timeToFirst200(dir: string, env: Record<string, string>): Promise<number> {
  const [port, adminPort] = await freePorts()
  const started = performance.now()
  const proc = Bun.spawn(
    [...command, 'serve', '--port', String(port), '--admin-port', String(adminPort)],
    { cwd: dir, env: { PATH: dir, HOME: dir, ...env }, stdout: 'ignore', stderr: 'ignore' },
  )
  try {
    await waitUntilHealthy(`http://127.0.0.1:${port}`, {
      timeoutMs: 120_000,
      intervalMs: 5,
      exitCode: () => proc.exitCode,
    })
  } catch (error) {
    proc.kill('SIGKILL')
    throw error
  }
  const elapsed = performance.now() - started
  proc.kill('SIGTERM')
  await proc.exited
  return elapsed
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

const scratch = await mkdtemp(join(tmpdir(), 'telehook-startup-'))
const rows: [string, number, number][] = []
const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
try {
  for (const driver of ['pglite', 'postgres'] as const) {
    const fresh: number[] = []
    const existing: number[] = []
    for (let i = 0; i < runs; i++) {
      const dir = join(scratch, `${driver}-${i}`)
      await mkdir(dir)
      if (!values.source) {
        await copyFile(binary, join(dir, 'telehook'))
        await Bun.spawn(['chmod', '755', join(dir, 'telehook')]).exited
      }
      let env: Record<string, string> = {
        TELEHOOK_SECRET: 'startup-secret-of-16-or-more',
        TELEHOOK_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      }
      const name = `telehook_startup_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
      if (driver === 'postgres') {
        await sql.unsafe(`create database ${name}`)
        const url = new URL(adminUrl)
        url.pathname = `/${name}`
        env = { ...env, DATABASE_URL: url.toString() }
      }
      try {
        fresh.push(await timeToFirst200(dir, env))
        existing.push(await timeToFirst200(dir, env))
      } finally {
        if (driver === 'postgres') await sql.unsafe(`drop database ${name} with (force)`)
      }
    }
    rows.push([driver, median(fresh), median(existing)])
  }
} finally {
  await sql.end()
  await rm(scratch, { recursive: true, force: true })
}

console.log(`median of ${runs} runs, ${values.source ? 'bun apps/cli/src/main.ts' : binary}`)
console.log('| database | fresh (first start) | existing |')
console.log('| --- | ---: | ---: |')
for (const [driver, fresh, existing] of rows) {
  console.log(`| ${driver} | ${Math.round(fresh)} ms | ${Math.round(existing)} ms |`)
}
