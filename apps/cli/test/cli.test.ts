import { describe, expect, test } from 'bun:test'
import { parseCommand } from '../src/args.ts'
import { runCli } from '../src/cli.ts'
import { resolveServeConfig } from '../src/config.ts'
import { helpText } from '../src/help.ts'
import { VERSION } from '../src/version.ts'

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, env, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: '/',
  })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('runCli', () => {
  test('--version prints the package version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: `telehook ${VERSION}`, err: '' })
  })

  test('--help has every command and examples; each command has its own help', async () => {
    const main = await cli(['--help'])
    expect(main.code).toBe(0)
    for (const word of ['serve', 'migrate', 'token create', 'sim', 'Examples:']) {
      expect(main.out).toContain(word)
    }
    const serve = await cli(['serve', '--help'])
    expect(serve.out).toContain('--handlers PATH')
    expect(serve.out).toContain('TELEHOOK_DATA_DIR')
    expect((await cli(['help', 'token'])).out).toContain('telehook token create')
  })

  test('usage errors: one line on stderr, exit 2, nothing on stdout', async () => {
    for (const [argv, env] of [
      [['nope'], {}],
      [['serve', '--nope'], {}],
      [['serve'], { PORT: 'eighty' }],
      [['serve', '--deadline-ms', '99999'], {}],
      [['serve'], { ADMIN_PORT: '0' }],
      [['migrate'], { DATABASE_URL: 'mysql://x' }],
    ] as [string[], Record<string, string>][]) {
      const r = await cli(argv, env)
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toStartWith('telehook: ')
    }
  })

  test('sim is handed to the simulator, which answers its own help and errors', async () => {
    const help = await cli(['sim', '--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('sim send')
    const bad = await cli(['sim', '--bogus'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--bogus')
  })
})

describe('help examples', () => {
  test('every example command line in the help texts is accepted as written', () => {
    const texts = (['main', 'serve', 'migrate', 'token', 'sim', 'backup'] as const).map(helpText)
    let checked = 0
    for (const line of texts.join('\n').split('\n')) {
      const m = /^\s+((?:[A-Z_]+=\S+\s+)*)telehook (.+?)(\s+#.*)?$/.exec(line)
      if (!m || line.includes('$(') || line.includes('[')) continue
      const env = Object.fromEntries(
        (m[1] ?? '')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((kv) => kv.split('=', 2) as [string, string]),
      )
      const command = parseCommand((m[2] ?? '').split(/\s+/), env)
      if (command.kind === 'serve') resolveServeConfig(command.args)
      checked++
    }
    expect(checked).toBeGreaterThan(8)
  })
})
