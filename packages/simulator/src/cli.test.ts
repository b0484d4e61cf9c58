import { describe, expect, test } from 'bun:test'
import { reply, socketReceiver } from '../test/helpers.ts'
import { type CliIo, parseSimArgs, runSimCli, UsageError } from './cli.ts'

function io(lines: string[] = []) {
  const out: string[] = []
  const err: string[] = []
  const controller = new AbortController()
  const value: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    lines: (async function* () {
      yield* lines
    })(),
    signal: controller.signal,
  }
  return { io: value, out, err, stop: () => controller.abort() }
}

describe('parseSimArgs', () => {
  test('serve defaults and flags, both --flag value and --flag=value, a leading --', () => {
    expect(parseSimArgs([])).toEqual({
      command: 'serve',
      port: 8088,
      host: '127.0.0.1',
      apiKey: null,
      projectId: null,
      timeScale: 1,
      anyPort: false,
    })
    expect(
      parseSimArgs([
        '--',
        '--port',
        '9000',
        '--api-key=KEY',
        '--project-id',
        'PJabc',
        '--time-scale',
        '60',
      ]),
    ).toEqual({
      command: 'serve',
      port: 9000,
      host: '127.0.0.1',
      apiKey: 'KEY',
      projectId: 'PJabc',
      timeScale: 60,
      anyPort: false,
    })
    expect(parseSimArgs(['--any-port'])).toMatchObject({ anyPort: true })
  })

  test('send and chat', () => {
    expect(
      parseSimArgs([
        'send',
        '--url',
        'http://localhost:8000/webhook',
        '--secret',
        'S',
        'hello',
        'there',
      ]),
    ).toMatchObject({
      command: 'send',
      url: 'http://localhost:8000/webhook',
      secret: 'S',
      sim: null,
      from: '+16505550123',
      text: 'hello there',
    })
    expect(
      parseSimArgs(['chat', '--sim', 'http://127.0.0.1:8088', '--from', '+15005550012']),
    ).toMatchObject({
      command: 'chat',
      sim: 'http://127.0.0.1:8088',
      from: '+15005550012',
      text: null,
    })
    expect(parseSimArgs(['send', '--help'])).toEqual({ command: 'help' })
  })

  test('bad command lines are one clear UsageError', () => {
    const bad: [string[], RegExp][] = [
      [['--bogus'], /unknown option --bogus/],
      [['--port'], /--port needs a value/],
      [['--port', 'abc'], /--port must be an integer/],
      [['--port', '70000'], /--port must be an integer/],
      [['--time-scale', '0'], /--time-scale must be a positive number/],
      [['--port', '1', '--port', '2'], /given twice/],
      [['--any-port=yes'], /takes no value/],
      [['stray'], /unexpected argument 'stray'/],
      [['send', 'hi'], /exactly one of --url/],
      [['send', '--url', 'http://a:8000/', '--sim', 'http://b/', 'hi'], /exactly one of --url/],
      [['send', '--url', 'localhost:8000'], /must be an http\(s\) URL/],
      [['send', '--url', 'http://a:8000/'], /needs the message text/],
      [['chat', '--url', 'http://a:8000/', 'extra'], /unexpected argument/],
      [['send', '--port', '1', '--url', 'http://a/', 'x'], /does not apply to 'send'/],
      [['send', '--sim', 'http://a/', '--secret', 's', 'x'], /--secret goes with --url/],
    ]
    for (const [argv, message] of bad) {
      expect(() => parseSimArgs(argv)).toThrow(UsageError)
      expect(() => parseSimArgs(argv)).toThrow(message)
    }
  })

  test('runSimCli: usage errors exit 2 with one line on stderr; --help exits 0', async () => {
    const t = io()
    expect(await runSimCli(['--nope'], t.io)).toBe(2)
    expect(t.err).toEqual(['sim: unknown option --nope (see --help)'])
    expect(t.out).toEqual([])
    const h = io()
    expect(await runSimCli(['--help'], h.io)).toBe(0)
    expect(h.out.join('\n')).toContain('bun run sim -- chat --url')
    // Run as `telehook sim`, the help says so; it lists the control API itself.
    const named = io()
    expect(await runSimCli(['--help'], { ...named.io, prog: 'telehook sim' })).toBe(0)
    expect(named.out.join('\n')).toContain('  telehook sim chat --url')
    expect(named.out.join('\n')).toContain('GET  /_sim/deliveries')
  })
})

describe('runSimCli against real webhooks', () => {
  test('send prints the status, the reply body and the messages as SMS', async () => {
    const rx = socketReceiver((r) =>
      r.form.secret === 'S'
        ? reply({ messages: [{ content: `echo: ${r.form.content}` }] })
        : new Response('', { status: 403 }),
    )
    try {
      const t = io()
      const code = await runSimCli(
        ['send', '--url', `${rx.url}/hook`, '--secret', 'S', 'hello'],
        t.io,
      )
      expect(code).toBe(0)
      expect(t.out[0]).toMatch(/^webhook SV\w+: HTTP 200$/)
      expect(t.out).toContain('  reply: {"messages":[{"content":"echo: hello"}]}')
      expect(t.out).toContain('bot> echo: hello')
      const denied = io()
      expect(
        await runSimCli(['send', '--url', `${rx.url}/hook`, '--secret', 'wrong', 'x'], denied.io),
      ).toBe(1)
      expect(denied.out[0]).toContain('HTTP 403')
    } finally {
      rx.stop()
    }
  })

  test('chat exits 1 when a message was not taken (refused connection), as send does', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}/hook`
    closed.stop(true)
    const t = io(['hello'])
    expect(await runSimCli(['chat', '--url', url], t.io)).toBe(1)
    expect(t.out.join('\n')).toContain('! webhook')
    const s = io()
    expect(await runSimCli(['send', '--url', url, 'hello'], s.io)).toBe(1)
  })

  test('chat keeps the contact and its state across turns', async () => {
    const rx = socketReceiver((r) => {
      const state = (r.form.state as { id?: string } | undefined)?.id
      const name = (r.form.contact as { name?: string }).name
      if (state === undefined)
        return reply({ messages: [{ content: 'Name?' }], variables: { 'state.id': 'ask' } })
      if (state === 'ask') {
        return reply({
          messages: [{ content: `Hi ${r.form.content}` }],
          variables: { 'contact.name': r.form.content as string, 'state.id': 'done' },
        })
      }
      return reply({
        messages: [
          { content: `Still you, ${name}` },
          { content: 'fyi', to_number: '+16505550000' },
        ],
      })
    })
    try {
      const t = io(['hello', 'Ada', '', 'again', '/quit', 'never sent'])
      expect(
        await runSimCli(['chat', '--url', `${rx.url}/hook`, '--from', '+16505551111'], t.io),
      ).toBe(0)
      expect(t.out.filter((l) => l.startsWith('bot'))).toEqual([
        'bot> Name?',
        'bot> Hi Ada',
        'bot> Still you, Ada',
        'bot → +16505550000> fyi',
      ])
      expect(rx.seen).toHaveLength(3)
      expect(t.err.some((l) => l.includes('only accepts webhook ports'))).toBe(true)
    } finally {
      rx.stop()
    }
  })

  test('serve prints its banner; send --sim drives it over HTTP', async () => {
    const rx = socketReceiver(() => reply({ messages: [{ content: 'pong' }] }))
    const server = io()
    const argv = ['--port', '0', '--api-key', 'K1', '--project-id', 'PJcli', '--any-port']
    const running = runSimCli(argv, server.io)
    try {
      for (let i = 0; i < 2000 && server.out.length < 3; i++) await Bun.sleep(5)
      const apiUrl = server.out.find((l) => l.includes('TELERIVET_API_URL='))?.split('=')[1] ?? ''
      expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/)
      // Only what Telehook reads is given as a variable; the key and project go to its admin API.
      expect(server.out.join('\n')).not.toContain('TELERIVET_API_KEY')
      const base = apiUrl.replace(/\/v1$/, '')
      expect(server.out.slice(0, 7)).toEqual([
        `Telehook simulator listening on ${base}`,
        '',
        `  Give Telehook:  TELERIVET_API_URL=${apiUrl}`,
        '  Onboard with:   {"project_id": "PJcli", "api_key": "K1"}  (POST /v1/projects on Telehook\'s admin API)',
        '',
        `Control API: POST ${base}/_sim/incoming {"from_number":"+16505550123","content":"hi"}`,
        `             GET  ${base}/_sim/deliveries   (every route: --help)`,
      ])
      const none = io()
      expect(await runSimCli(['send', '--sim', base, 'ping'], none.io)).toBe(1)
      expect(none.out).toEqual(['(no active incoming_message_webhook service took the message)'])
      const create = await fetch(`${apiUrl}/projects/PJcli/services`, {
        method: 'POST',
        headers: { authorization: `Basic ${btoa('K1:')}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          service_type: 'incoming_message_webhook',
          config: { url: `${rx.url}/h` },
        }),
      })
      expect(create.status).toBe(200)
      const t = io()
      expect(await runSimCli(['send', '--sim', base, '--from', '+16505550999', 'ping'], t.io)).toBe(
        0,
      )
      expect(t.out).toContain('bot> pong')
      expect(rx.seen[0]?.form).toMatchObject({ content: 'ping', from_number: '+16505550999' })
      // the server logs each attempt
      expect(server.out.some((l) => /^\[sim\] incoming_message #1 -> .*: HTTP 200/.test(l))).toBe(
        true,
      )
    } finally {
      server.stop()
      expect(await running).toBe(0)
      rx.stop()
    }
  })
})

describe('the sim process', () => {
  test('chat reads piped stdin to its end, echoing the turns, and exits 0', async () => {
    const rx = socketReceiver((r) => reply({ messages: [{ content: `re: ${r.form.content}` }] }))
    try {
      const proc = Bun.spawn(
        [process.execPath, 'run', 'src/cli.ts', 'chat', '--url', `${rx.url}/h`, '--secret', 's'],
        { cwd: `${import.meta.dir}/..`, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' },
      )
      proc.stdin.write('one\ntwo\n')
      await proc.stdin.end()
      const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()])
      expect(code).toBe(0)
      expect(
        stdout.split('\n').filter((l) => l.startsWith('you>') || l.startsWith('bot>')),
      ).toEqual(['you> one', 'bot> re: one', 'you> two', 'bot> re: two'])
    } finally {
      rx.stop()
    }
  })

  test('a bad flag prints one line and exits 2', async () => {
    const proc = Bun.spawn([process.execPath, 'run', 'src/cli.ts', '--prot', '1'], {
      cwd: `${import.meta.dir}/..`,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toEqual(['sim: unknown option --prot (see --help)'])
  })
})
