import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../src/cli.ts'

// `telehook token create|list|revoke` on a PGlite data folder, as the admin README documents.
const dataDir = await mkdtemp(join(tmpdir(), 'telehook-cli-token-'))
afterAll(() => rm(dataDir, { recursive: true, force: true }))

async function cli(...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(
    [...argv, '--data-dir', dataDir],
    {},
    { out: (l) => out.push(l), err: (l) => err.push(l), cwd: dataDir },
  )
  return { code, out, err }
}

test('token create NAME, list, revoke', async () => {
  const created = await cli('token', 'create', 'ci')
  expect(created.code).toBe(0)
  expect(created.out).toEqual([expect.stringMatching(/^thk_[\w-]{20,}$/)])
  const token = created.out[0] ?? ''

  const listed = await cli('token', 'list', '--json')
  expect(listed.code).toBe(0)
  const rows = listed.out.map((l) => JSON.parse(l) as { id: string; name: string })
  expect(rows.map((r) => r.name)).toEqual(['ci'])
  expect(listed.out.join('\n')).not.toContain(token)
  const id = rows[0]?.id ?? ''

  const table = await cli('token', 'list')
  expect(table.out[0]).toMatch(/^ID\s+NAME\s+CREATED\s+LAST USED$/)
  expect(table.out[1]).toStartWith(`${id}  ci`)
  expect(table.out[1]).toEndWith('never')

  expect(await cli('token', 'revoke', id)).toMatchObject({ code: 0, out: [] })
  expect((await cli('token', 'list', '--json')).out).toEqual([])
  const again = await cli('token', 'revoke', id)
  expect(again.code).toBe(1)
  expect(again.err).toEqual([
    `telehook: no admin token with id '${id}' (see 'telehook token list')`,
  ])
}, 60_000)
