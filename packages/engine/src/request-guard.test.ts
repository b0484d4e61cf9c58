import { describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import {
  hostName,
  inspectTarget,
  routerPath,
  TARGET_MESSAGE,
  type TargetPolicy,
} from './request-guard'

/**
 * A request as a server may hand it over: the URL exactly as written. `new Request(url)` would put
 * it in normal form first, which is the very difference the guard looks for.
 */
function received(url: string, host?: string): Request {
  const headers = new Headers(host === undefined ? {} : { host })
  return { url, headers } as unknown as Request
}

/** The verdict in one line: `ok <path>` or `<code> <status> <path>`. */
function verdict(request: Request, policy?: TargetPolicy): string {
  const v = inspectTarget(request, policy)
  return v.kind === 'ok' ? `ok ${v.path}` : `${v.code} ${v.status} ${v.path}`
}

describe('routerPath is what Elysia routes on', () => {
  test('the substring from the first slash at index 11 or later, without the query', () => {
    const cases: [string, string][] = [
      ['http://admin.local/v1/projects?x=1', '/v1/projects'],
      // Host `a`: the slash after the Host is before index 11, so the first segment is skipped.
      ['http://a/xxx/v1/projects', '/v1/projects'],
      ['http://ab/xx/v1/projects', '/v1/projects'],
      ['https://ab/x/webhook', '/webhook'],
      ['http://a/v1?x=/y', '/y'],
      ['http://localhost//x', '//x'],
      ['http://x//webhook', '/'],
      ['http://localhost/./v1', '/./v1'],
      ['http://localhost/a/../v1', '/a/../v1'],
      ['http://localhost/%2e%2e/v1', '/%2e%2e/v1'],
      ['http://localhost/v1%2Fprojects', '/v1%2Fprojects'],
      ['http://localhost/v1#frag', '/v1#frag'],
      ['http://[::1]:8081/v1', '/v1'],
      ['http://localhost', '/'],
      ['/webhook', '/'],
    ]
    for (const [url, path] of cases) expect({ url, path: routerPath(url) }).toEqual({ url, path })
  })
})

describe('inspectTarget: one meaning or a refusal', () => {
  test('a short Host makes the router skip a segment: refused, with the path the router saw', () => {
    expect(verdict(received('http://a/xxx/v1/projects', 'a'))).toBe(
      'ambiguous_path 400 /v1/projects',
    )
    expect(verdict(received('http://ab/xx/v1/projects', 'ab'))).toBe(
      'ambiguous_path 400 /v1/projects',
    )
    expect(verdict(received('http://abc/x/v1', 'abc'))).toBe('ambiguous_path 400 /v1')
    expect(verdict(received('http://a/v1?x=/y', 'a'))).toBe('ambiguous_path 400 /y')
    // A Request built from the same URL is no different: `Host: a` is kept as written.
    expect(verdict(new Request('http://a/xxx/webhook'))).toBe('ambiguous_path 400 /webhook')
    // A Host of four characters or more leaves the router's path whole.
    expect(verdict(received('http://abcd/x/v1', 'abcd'))).toBe('ok /x/v1')
  })

  test('no usable Host: empty, blank, missing, or a relative URL', () => {
    // An empty Host makes Bun hand over a relative URL.
    expect(verdict(received('/v1/projects', ''))).toBe('bad_host 400 /')
    expect(verdict(received('/v1/projects', ' '))).toBe('bad_host 400 /')
    expect(verdict(received('/v1/projects'))).toBe('bad_host 400 /')
    expect(verdict(received('http://localhost/v1', ''))).toBe('bad_host 400 /v1')
    // A Host with a URL that cannot be parsed: never a throw, a refusal.
    expect(verdict(received('/v1/projects', 'localhost'))).toBe('bad_url 400 /')
    // Without a header (app.handle), the URL's authority is the Host.
    expect(verdict(new Request('http://localhost/v1'))).toBe('ok /v1')
  })

  test('doubled slashes have one meaning when both read them alike', () => {
    expect(verdict(received('http://localhost//x', 'localhost'))).toBe('ok //x')
    expect(verdict(received('http://x//webhook', 'x'))).toBe('ambiguous_path 400 /')
  })

  test('dot segments, backslashes and fragments that the URL would resolve are refused', () => {
    for (const path of [
      '/./v1',
      '/../v1',
      '/a/../v1',
      '/console/../v1/projects',
      '/a\\b',
      '/v1#f',
    ]) {
      const v = inspectTarget(received(`http://localhost${path}`, 'localhost'))
      expect({ path, v }).toMatchObject({
        path,
        v: { kind: 'refuse', code: 'ambiguous_path', path },
      })
    }
  })

  test('percent-encoded dots are dot segments to the URL: refused; encoded slashes are not', () => {
    for (const path of ['/%2e%2e/v1', '/%2E%2E/v1', '/.%2e/v1', '/%2e/v1', '/a/%2e%2e/v1']) {
      expect(verdict(received(`http://localhost${path}`, 'localhost'))).toBe(
        `ambiguous_path 400 ${path}`,
      )
    }
    // Neither side decodes `%2F`: one segment for both, whatever routes it.
    expect(verdict(received('http://localhost/v1%2Fprojects', 'localhost'))).toBe(
      'ok /v1%2Fprojects',
    )
    expect(verdict(received('http://localhost/%2Fv1/projects', 'localhost'))).toBe(
      'ok /%2Fv1/projects',
    )
    expect(verdict(received('http://localhost/%2e%2e%2fv1', 'localhost'))).toBe('ok /%2e%2e%2fv1')
  })

  test('IPv6 literals in brackets, with or without a port', () => {
    expect(verdict(received('http://[::1]:8081/v1', '[::1]:8081'))).toBe('ok /v1')
    expect(verdict(received('http://[::1]/v1', '[::1]'))).toBe('ok /v1')
    expect(verdict(new Request('http://[2001:db8::1]:8000/hooks/x'))).toBe('ok /hooks/x')
    for (const host of ['::1', '[::1', '::1]', '[fe80::1%25eth0]', '[::1]:', '[::1]x']) {
      expect({ host, v: verdict(received('http://localhost/v1', host)) }).toEqual({
        host,
        v: 'bad_host 400 /v1',
      })
    }
  })

  test('ports: one to five digits', () => {
    expect(verdict(received('http://localhost:8081/v1', 'localhost:8081'))).toBe('ok /v1')
    expect(verdict(received('http://127.0.0.1:80/v1', '127.0.0.1:80'))).toBe('ok /v1')
    for (const host of [
      'localhost:',
      'localhost:123456',
      'localhost:x',
      'localhost:80:80',
      'a:b:c',
    ]) {
      expect({ host, v: verdict(received('http://localhost/v1', host)) }).toEqual({
        host,
        v: 'bad_host 400 /v1',
      })
    }
    // Five digits past 65535 pass the shape; a URL that carries them does not parse.
    expect(verdict(received('http://localhost:99999/v1', 'localhost:99999'))).toBe(
      'bad_url 400 /v1',
    )
  })

  test('Host syntax: strict takes DNS names only; lenient also `_` and a trailing dot', () => {
    const both = ['localhost', 'LOCALHOST', 'a', 'admin.local', 'x-1.example', '127.0.0.1', 'a.b.c']
    const lenientOnly = ['a_b', '_dmarc.example', 'telehook_webhook:8000', 'example.com.', 'a.:80']
    const neither = [
      'a b',
      'x, y',
      '-a',
      'a-',
      'a..b',
      '.',
      '.a',
      'évil',
      'a/b',
      `${'x'.repeat(64)}`,
    ]
    const at = (host: string, hostSyntax: 'strict' | 'lenient') =>
      inspectTarget(received('http://localhost/v1', host), { hostSyntax }).kind
    for (const host of both)
      expect({ host, s: at(host, 'strict'), l: at(host, 'lenient') }).toEqual({
        host,
        s: 'ok',
        l: 'ok',
      })
    for (const host of lenientOnly)
      expect({ host, s: at(host, 'strict'), l: at(host, 'lenient') }).toEqual({
        host,
        s: 'refuse',
        l: 'ok',
      })
    for (const host of neither)
      expect({ host, s: at(host, 'strict'), l: at(host, 'lenient') }).toEqual({
        host,
        s: 'refuse',
        l: 'refuse',
      })
    // strict is the default
    expect(inspectTarget(received('http://localhost/v1', 'a_b')).kind).toBe('refuse')
    // 63 characters is the longest label
    expect(at(`${'x'.repeat(63)}.test`, 'strict')).toBe('ok')
  })

  test('allowed Hosts: by name, any case, any port; checked after the shape, before the path', () => {
    const allowedHosts = ['localhost', '127.0.0.1', '[::1]', 'Admin.Local']
    const at = (host: string, url = 'http://localhost/v1') =>
      verdict(received(url, host), { allowedHosts })
    expect(at('localhost')).toBe('ok /v1')
    expect(at('LOCALHOST:8081')).toBe('ok /v1')
    expect(at('[::1]:8081')).toBe('ok /v1')
    expect(at('admin.local')).toBe('ok /v1')
    expect(at('evil.example')).toBe('unknown_host 421 /v1')
    expect(at('localhost.evil.example')).toBe('unknown_host 421 /v1')
    expect(at('[::2]')).toBe('unknown_host 421 /v1')
    // A malformed Host is a 400 before the list; an unserved Host is a 421 before the path.
    expect(at('a b')).toBe('bad_host 400 /v1')
    expect(at('a', 'http://a/xxx/v1')).toBe('unknown_host 421 /v1')
    expect(verdict(received('http://a/xxx/v1', 'a'), { allowedHosts: '*' })).toBe(
      'ambiguous_path 400 /v1',
    )
  })

  test('every refusal has a message', () => {
    for (const code of ['bad_host', 'unknown_host', 'bad_url', 'ambiguous_path'] as const) {
      expect(TARGET_MESSAGE[code].length).toBeGreaterThan(0)
    }
  })
})

test('hostName: lower-case, without the port, IPv6 in brackets', () => {
  expect(hostName('LocalHost:8081')).toBe('localhost')
  expect(hostName('localhost')).toBe('localhost')
  expect(hostName('127.0.0.1:80')).toBe('127.0.0.1')
  expect(hostName('[::1]:8081')).toBe('[::1]')
  expect(hostName('[::1]')).toBe('[::1]')
})

describe('over a socket: the URL as Bun builds it', () => {
  /** Sends raw bytes to a server that answers the verdict, and returns that answer. */
  async function overSocket(target: string, host: string | null, policy?: TargetPolicy) {
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) => new Response(verdict(request, policy)),
    })
    try {
      const head = `GET ${target} HTTP/1.1\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`
      const answer = await new Promise<string>((resolve, reject) => {
        let buf = ''
        const socket = connect(server.port as number, '127.0.0.1', () => socket.write(head))
        socket.setEncoding('utf8')
        socket.on('data', (d) => {
          buf += d
        })
        socket.on('error', reject)
        socket.on('close', () => resolve(buf))
      })
      const status = answer.slice(9, 12)
      return status === '200' ? answer.slice(answer.indexOf('\r\n\r\n') + 4) : `HTTP ${status}`
    } finally {
      server.stop(true)
    }
  }

  test('short and empty Hosts refused; dot segments arrive resolved and agree', async () => {
    const cases: [string, string | null, string][] = [
      ['/xxx/v1/projects', 'a', 'ambiguous_path 400 /v1/projects'],
      ['/x/v1/projects', 'abc', 'ambiguous_path 400 /v1/projects'],
      ['/v1/projects', '', 'bad_host 400 /'],
      ['//v1/projects', 'localhost', 'ok //v1/projects'],
      ['//webhook', 'x', 'ambiguous_path 400 /'],
      // Bun resolves these before the app sees them: router and URL read the resolved path.
      ['/./v1/projects', 'localhost', 'ok /v1/projects'],
      ['/v1/../v1/projects', 'localhost', 'ok /v1/projects'],
      ['/%2e%2e/v1/projects', 'localhost', 'ok /v1/projects'],
      ['/v1%2Fprojects', 'localhost', 'ok /v1%2Fprojects'],
      ['/v1#frag', 'localhost', 'ambiguous_path 400 /v1#frag'],
      ['/v1', '[::1]:8081', 'ok /v1'],
      ['/v1', 'localhost:99999', 'bad_url 400 /v1'],
      ['/v1', 'a_b.example', 'bad_host 400 /v1'],
    ]
    for (const [target, host, expected] of cases) {
      expect({ target, host, got: await overSocket(target, host) }).toEqual({
        target,
        host,
        got: expected,
      })
    }
    expect(await overSocket('/v1', 'a_b.example', { hostSyntax: 'lenient' })).toBe('ok /v1')
    // HTTP/1.1 without a Host never reaches the app.
    expect(await overSocket('/v1', null)).toBe('HTTP 400')
  })
})
