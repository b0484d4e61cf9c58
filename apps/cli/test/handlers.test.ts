import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../src/args.ts'
import { asHandlers, invocationDir, loadHandlerModule } from '../src/handlers.ts'

// Outside the repository, as next to the binary: no node_modules to resolve from.
const dir = await mkdtemp(join(tmpdir(), 'telehook-handlers-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('loadHandlerModule', () => {
  test('loads a TypeScript module that imports @telehook/protocol and the telehook alias', async () => {
    await writeFile(
      join(dir, 'bot.ts'),
      `import { defineHandlers, reply } from '@telehook/protocol'
import { reply as again } from 'telehook'
const same: boolean = reply === again
export default defineHandlers({
  sync: { incoming_message: (m) => reply().message({ content: 'Echo: ' + m.content + ' ' + same }).build() },
})
`,
    )
    const handlers = await loadHandlerModule('./bot.ts', dir)
    const fn = handlers.sync?.incoming_message as unknown as (m: { content: string }) => unknown
    expect(fn({ content: 'hi' })).toEqual({ messages: [{ content: 'Echo: hi true' }] })
  })

  test("accepts a named 'handlers' export", async () => {
    await writeFile(
      join(dir, 'named.js'),
      'export const handlers = { async: { send_status() {} } }',
    )
    const handlers = await loadHandlerModule(join(dir, 'named.js'), '/')
    expect(typeof handlers.async?.send_status).toBe('function')
  })

  test('a missing file or a module that does not load is a usage error', async () => {
    await expect(loadHandlerModule('./nope.ts', dir, 'TELEHOOK_HANDLERS')).rejects.toThrow(
      `TELEHOOK_HANDLERS: no such file '${join(dir, 'nope.ts')}' (./nope.ts resolved from ${dir})`,
    )
    await writeFile(join(dir, 'broken.ts'), 'export default {{')
    await expect(loadHandlerModule('./broken.ts', dir)).rejects.toBeInstanceOf(UsageError)
  })
})

describe('invocationDir', () => {
  test('where the user ran the command: INIT_CWD (npm), TURBO_INVOCATION_DIR (turbo), else cwd', () => {
    expect(invocationDir({ INIT_CWD: '/home/u', TURBO_INVOCATION_DIR: '/repo' }, '/repo/a')).toBe(
      '/home/u',
    )
    expect(invocationDir({ TURBO_INVOCATION_DIR: '/repo' }, '/repo/apps/cli')).toBe('/repo')
    expect(invocationDir({ INIT_CWD: '' }, '/here')).toBe('/here')
    expect(invocationDir({ TURBO_INVOCATION_DIR: 'relative' }, '/here')).toBe('/here')
  })
})

describe('asHandlers', () => {
  test('rejects shapes that would only fail on a delivery', () => {
    expect(() => asHandlers(undefined, 'm')).toThrow(/must be an object/)
    expect(() => asHandlers({ snyc: {} }, 'm')).toThrow(/unexpected key 'snyc'/)
    expect(() => asHandlers({ sync: { incoming: () => {} } }, 'm')).toThrow(
      /'sync.incoming' is not a Telerivet event/,
    )
    expect(() => asHandlers({ async: { send_status: 'x' } }, 'm')).toThrow(/must be a function/)
  })

  test('accepts sync and async groups', () => {
    const h = { sync: { incoming_message: () => undefined }, async: { contact_update: () => {} } }
    expect(asHandlers(h, 'm')).toBe(h)
  })
})
