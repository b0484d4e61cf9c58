/**
 * @module Drill: hostile input on the public port. A corpus of malformed and malicious requests,
 * each with the status it must get, sent to a webhook server running as its own process. The
 * process must stay up, answer every case as expected, keep serving valid deliveries, and its
 * memory must come back near its baseline afterwards.
 */
import { encodeForm } from '@telehook/protocol'
import {
  DRILL_SECRET,
  type DrillOptions,
  type DrillReport,
  httpRequest,
  type RawAnswer,
  rawRequest,
  type ServerProcess,
  type Step,
  startServerProcess,
} from './public-port'

const FORM = 'application/x-www-form-urlencoded'
/** The drill server's limits: small deadline so that slow cases finish quickly. */
const BODY_LIMIT = 262_144
const DEADLINE_MS = 3000

let sequence = 0
function telerivetId(): string {
  sequence += 1
  return `SMdrill${Date.now().toString(36)}${sequence.toString(36).padStart(5, '0')}`
}

/** An incoming_message as Telerivet sends it, with `extra` laid over (a null removes a field). */
function incoming(extra: Record<string, string | null> = {}): string {
  const fields: Record<string, string> = {
    event: 'incoming_message',
    id: telerivetId(),
    message_type: 'sms',
    content: 'Hello',
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: String(Math.floor(Date.now() / 1000)),
    contact_id: 'CTdrill0000000001',
    phone_id: 'PNdrill0000000001',
    project_id: 'PJdrill0000000001',
    secret: DRILL_SECRET,
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete fields[k]
    else fields[k] = v
  }
  return encodeForm(fields)
}

const formPost = (body: string | Uint8Array, path = '/webhook', headers: [string, string][] = []) =>
  httpRequest('POST', path, [['Content-Type', FORM], ...headers], body)

/** One hostile request and the statuses it may get ('closed': the server hangs up, no answer). */
export interface HostileCase {
  name: string
  expect: (number | 'closed')[]
  steps: () => Step[]
  timeoutMs?: number
}

const SQL = "' OR '1'='1'; DROP TABLE telehook.events; --"
const HTML = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>'
const enc = (s: string) => encodeURIComponent(s)

/** The corpus, as the fault-drill issue lists it: at least 60 cases. */
export function corpus(): HostileCase[] {
  const cases: HostileCase[] = []
  const add = (
    name: string,
    expect: HostileCase['expect'],
    steps: () => Step[],
    timeoutMs?: number,
  ) => cases.push({ name, expect, steps, timeoutMs })

  // Bodies over the limit, with and without Content-Length.
  const big = `${incoming()}&pad=${'a'.repeat(BODY_LIMIT)}`
  add('body over the limit, with Content-Length', [413], () => formPost(big))
  add('body over the limit, chunked (no Content-Length)', [413], () => {
    const chunk = 'a'.repeat(32 * 1024)
    const first = `${incoming()}&pad=`
    const steps: Step[] = [
      `POST /webhook HTTP/1.1\r\nHost: telehook.test\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      `${Buffer.byteLength(first).toString(16)}\r\n${first}\r\n`,
    ]
    for (let i = 0; i < 10; i++) steps.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
    steps.push('0\r\n\r\n')
    return steps
  })
  add('Content-Length of 1 GB announced, nothing sent', [413], () =>
    httpRequest('POST', '/webhook', [
      ['Content-Type', FORM],
      ['Content-Length', String(2 ** 30)],
    ]),
  )
  add('1 MB secret', [413], () => formPost(incoming({ secret: 's'.repeat(1024 * 1024) })))
  add(
    'Content-Length larger than the body sent (never completed)',
    [408, 'closed'],
    () =>
      httpRequest(
        'POST',
        '/webhook',
        [
          ['Content-Type', FORM],
          ['Content-Length', '5000'],
        ],
        'secret=x',
      ),
    DEADLINE_MS + 5000,
  )
  add(
    'chunked body that never ends (slow-loris)',
    [408, 'closed'],
    () => [
      `POST /webhook HTTP/1.1\r\nHost: telehook.test\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      '5\r\nevent\r\n',
      { waitMs: 1000 },
      '1\r\n=\r\n',
      { waitMs: DEADLINE_MS + 4000 },
    ],
    DEADLINE_MS + 6000,
  )
  add('negative Content-Length', [400], () =>
    httpRequest(
      'POST',
      '/webhook',
      [
        ['Content-Type', FORM],
        ['Content-Length', '-1'],
      ],
      'a=1',
    ),
  )
  add('Content-Length and Transfer-Encoding both', [400], () => {
    const body = incoming()
    return httpRequest(
      'POST',
      '/webhook',
      [
        ['Content-Type', FORM],
        ['Content-Length', '3'],
        ['Transfer-Encoding', 'chunked'],
      ],
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    )
  })

  // 100 000 parameters, 10 000-deep brackets.
  add('100 000 parameters, right secret', [413], () =>
    formPost(`secret=${DRILL_SECRET}&${'a&'.repeat(100_000)}`),
  )
  add('100 000 parameters, wrong secret', [403], () =>
    formPost(`secret=wrong-secret-000000&${'a&'.repeat(100_000)}`),
  )
  add('10 000-deep brackets, right secret', [400], () =>
    formPost(`${incoming()}&a${'[b]'.repeat(10_000)}=1`),
  )
  add('17-deep brackets (one past the bound)', [400], () =>
    formPost(`${incoming()}&a${'[b]'.repeat(17)}=1`),
  )
  add('16-deep brackets (at the bound)', [200], () =>
    formPost(`${incoming()}&a${'[b]'.repeat(16)}=1`),
  )
  add('10 000 opening brackets in a key', [200, 400], () =>
    formPost(`${incoming()}&a${'['.repeat(10_000)}=1`),
  )
  add('a 2 000-character key', [400], () => formPost(`${incoming()}&${'k'.repeat(2000)}=1`))

  // Invalid UTF-8 and percent-escapes.
  add('raw invalid UTF-8 byte in the body', [400], () =>
    formPost(
      new Uint8Array([...Buffer.from(incoming()), ...Buffer.from('&content=\xff', 'latin1')]),
    ),
  )
  add('raw overlong UTF-8 sequence', [400], () =>
    formPost(new Uint8Array([...Buffer.from(`${incoming()}&x=`), 0xc0, 0xaf])),
  )
  add('raw lone surrogate in UTF-8 (ED A0 80)', [400], () =>
    formPost(new Uint8Array([...Buffer.from(`${incoming()}&x=`), 0xed, 0xa0, 0x80])),
  )
  add('escaped invalid UTF-8 (%FF%FE) in content', [200], () =>
    formPost(incoming({}).replace('content=Hello', 'content=%FF%FE')),
  )
  add('truncated escapes (%, %4, %zz)', [200], () => formPost(`${incoming()}&a=%&b=%4&c=%zz&d=%%%`))
  add('escaped lone surrogate (%ED%A0%80) in id', [200], () =>
    formPost(incoming().replace(/id=SM/, 'id=%ED%A0%80SM')),
  )
  add('BOM before the body', [200, 403], () => formPost(`\ufeff${incoming()}`))

  // __proto__ / constructor / prototype at every depth.
  for (const key of [
    '__proto__=x',
    '__proto__[polluted]=1',
    'constructor[prototype][polluted]=1',
    'prototype=1',
    'contact[__proto__][polluted]=1',
    'contact[vars][__proto__][polluted]=1',
    'contact[vars][constructor][prototype][polluted]=1',
    'media[0][__proto__][polluted]=1',
    'a[b][c][d][e][__proto__][polluted]=1',
    '__proto__[__proto__][__proto__]=1',
  ]) {
    add(`prototype key ${key}`, [200], () =>
      formPost(`${incoming()}&${key.replace(/\[/g, '%5B').replace(/\]/g, '%5D')}`),
    )
  }
  add('__proto__ as the event name', [200], () => formPost(incoming({ event: '__proto__' })))

  // NUL bytes.
  add('NUL in content', [200], () => formPost(incoming({ content: 'a\u0000b' })))
  add('NUL in the Telerivet id', [200], () =>
    formPost(incoming({ id: `SM\u0000${telerivetId()}` })),
  )
  add('NUL in the event name', [200], () => formPost(incoming({ event: 'incoming\u0000message' })))
  add('NUL in a key', [200], () => formPost(`${incoming()}&a%00b=1`))
  add('NUL in contact vars', [200], () => formPost(`${incoming()}&contact%5Bvars%5D%5Bx%5D=%00`))
  add('NUL in the secret', [403], () => formPost(incoming({ secret: `${DRILL_SECRET}\u0000` })))
  add('NUL in the endpoint id (/hooks/%00)', [404], () => formPost(incoming(), '/hooks/%00'))
  add('raw NUL byte in the body', [200, 400], () => formPost(`${incoming()}&x=a\u0000b`))

  // SQL and HTML in every field.
  for (const field of [
    'id',
    'content',
    'from_number',
    'to_number',
    'contact_id',
    'phone_id',
    'project_id',
    'message_type',
  ]) {
    add(`SQL in ${field}`, [200], () =>
      formPost(incoming({ [field]: field === 'id' ? `SM${SQL}${telerivetId()}` : SQL })),
    )
  }
  for (const field of ['content', 'from_number', 'event']) {
    add(`HTML in ${field}`, [200], () => formPost(incoming({ [field]: HTML })))
  }
  add('SQL in the endpoint id', [404], () => formPost(incoming(), `/hooks/${enc(SQL)}`))
  add('SQL in a key', [200], () => formPost(`${incoming()}&${enc(SQL)}=1`))

  // Numbers out of range.
  for (const [field, value] of [
    ['time_created', '1e309'],
    ['time_created', '-99999999999999999999999'],
    ['time_created', '99999999999999999'],
    ['time_created', 'NaN'],
    ['time_created', '-1'],
    ['time_sent', '1.5e300'],
    ['starred', '2'],
    ['priority', '99999999999999999999'],
  ] as const) {
    add(`${field}=${value}`, [200], () => formPost(incoming({ [field]: value })))
  }
  add('send_status with an out-of-range time_clicked', [200], () =>
    formPost(
      incoming({ event: 'send_status', status: 'delivered', time_clicked: '1e400', content: null }),
    ),
  )

  // Secrets: wrong, missing, empty, repeated, as an array.
  add('wrong secret', [403], () => formPost(incoming({ secret: 'wrong-secret-000000' })))
  add('missing secret', [403], () => formPost(incoming({ secret: null })))
  add('empty secret', [403], () => formPost(incoming({ secret: '' })))
  add('right secret, then a wrong one (the last counts)', [403], () =>
    formPost(`${incoming()}&secret=wrong`),
  )
  add('secret as an array', [403], () =>
    formPost(`${incoming({ secret: null })}&secret%5B%5D=${DRILL_SECRET}`),
  )
  add('secret escaped in its name', [403], () =>
    formPost(`${incoming({ secret: null })}&s%65cret=${DRILL_SECRET}`),
  )
  add('200 KB secret', [403], () => formPost(incoming({ secret: 's'.repeat(200_000) })))

  // Every HTTP method.
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    add(`${method} /webhook`, [405], () => httpRequest(method, '/webhook'))
  }
  add('HEAD /webhook', [405], () => httpRequest('HEAD', '/webhook'))
  add('GET /hooks/some-id', [405], () => httpRequest('GET', '/hooks/some-id-000000000001'))
  add('TRACE /webhook', [405, 400], () => httpRequest('TRACE', '/webhook'))
  add('CONNECT', [400, 405, 'closed'], () => httpRequest('CONNECT', 'telehook.test:443'))
  add('unknown method BREW', [400, 405, 'closed'], () => httpRequest('BREW', '/webhook'))

  // Every content type.
  for (const type of [
    null,
    'text/plain',
    'application/json',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/xml',
    '',
  ]) {
    add(`Content-Type ${type === null ? '(none)' : JSON.stringify(type)}`, [415], () =>
      httpRequest('POST', '/webhook', type === null ? [] : [['Content-Type', type]], incoming()),
    )
  }
  for (const type of [
    'APPLICATION/X-WWW-FORM-URLENCODED',
    'application/x-www-form-urlencoded; charset="UTF-8"',
  ]) {
    add(`Content-Type ${JSON.stringify(type)}`, [200], () =>
      httpRequest('POST', '/webhook', [['Content-Type', type]], incoming()),
    )
  }

  // Unknown endpoints and paths.
  add('unknown endpoint of the right shape', [403], () =>
    formPost(incoming(), '/hooks/made-up-endpoint-0001'),
  )
  add('endpoint id of 65 characters', [404], () => formPost(incoming(), `/hooks/${'x'.repeat(65)}`))
  add('endpoint id with an encoded slash', [404], () => formPost(incoming(), '/hooks/a%2Fb'))
  add('endpoint id with bad percent-encoding', [404], () => formPost(incoming(), '/hooks/%E0%A4'))
  add('empty endpoint id', [404], () => formPost(incoming(), '/hooks/'))
  add('path traversal', [404, 400], () => formPost(incoming(), '/hooks/..%2F..%2Fetc%2Fpasswd'))
  add('unknown path', [404], () => formPost(incoming(), '/admin/v1/projects'))
  add('short Host with a path prefix', [400], () =>
    formPost(incoming(), '/xxx/webhook', [['Host', 'a']]),
  )
  add('empty Host', [400], () => formPost(incoming(), '/webhook', [['Host', '']]))

  // Header floods.
  add('1 000 headers', [431, 400, 'closed'], () =>
    formPost(
      incoming(),
      '/webhook',
      Array.from({ length: 1000 }, (_, i) => [`X-Flood-${i}`, 'x'] as [string, string]),
    ),
  )
  add('one 100 KB header', [431, 400, 'closed'], () =>
    formPost(incoming(), '/webhook', [['X-Big', 'x'.repeat(100_000)]]),
  )
  add('header line without a colon', [400, 'closed'], () => [
    `POST /webhook HTTP/1.1\r\nHost: telehook.test\r\nthis is not a header\r\nConnection: close\r\n\r\n`,
  ])
  add('not HTTP at all', [400, 'closed'], () => [
    '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n',
  ])

  return cases
}

/** A valid delivery; resolves to its status. */
async function validDelivery(server: ServerProcess, localAddress: string): Promise<RawAnswer> {
  return rawRequest(server.port, formPost(incoming()), { localAddress, timeoutMs: 10_000 })
}

/** The drill: every case from its own loopback address (so the per-client limit stays out of it). */
export async function run(opts: DrillOptions): Promise<DrillReport> {
  const problems: string[] = []
  const figures: Record<string, string | number> = {}
  const server = await startServerProcess(opts.driver, {
    TELEHOOK_DEADLINE_MS: String(DEADLINE_MS),
    TELEHOOK_HANDLER_TIMEOUT_MS: '1000',
  })
  try {
    let acknowledged = 0
    const valid = async (address: string) => {
      const answer = await validDelivery(server, address)
      if (answer.status === 200) acknowledged += 1
      return answer
    }
    // Warm up, then the baseline: the lower of two readings, since a first PGlite start (initdb)
    // leaves a peak that takes a moment to be given back.
    for (let i = 0; i < 50; i++) await valid('127.0.0.2')
    await Bun.sleep(500)
    const first = await server.rssMiB()
    await Bun.sleep(2000)
    for (let i = 0; i < 20; i++) await valid('127.0.0.2')
    const baseline = Math.min(first, await server.rssMiB())
    const all = corpus()
    const rounds = opts.size === 'long' ? 10 : 1
    const statuses: Record<string, number> = {}
    let tried = 0
    let peak = baseline
    for (let round = 0; round < rounds; round++) {
      let n = 0
      // In parallel, a few at a time: the slow cases hold their connection for seconds.
      const queue = [...all]
      const worker = async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          n += 1
          const address = `127.${10 + round}.${Math.floor(n / 250)}.${(n % 250) + 1}`
          const answer = await rawRequest(server.port, c.steps(), {
            localAddress: address,
            timeoutMs: c.timeoutMs ?? 10_000,
          })
          tried += 1
          if (answer.status === 200) acknowledged += 1
          const key = String(answer.status)
          statuses[key] = (statuses[key] ?? 0) + 1
          if (!c.expect.includes(answer.status as number | 'closed')) {
            problems.push(`${c.name}: got ${answer.status}, expected ${c.expect.join(' or ')}`)
          }
        }
      }
      await Promise.all(Array.from({ length: 8 }, worker))
      peak = Math.max(peak, await server.rssMiB())
      if (!server.alive()) {
        problems.push('the server process died')
        break
      }
    }
    // Failed attempts from one address are limited: past the burst, 429 with no work done.
    const limited: (number | string)[] = []
    for (let i = 0; i < 40; i++) {
      const a = await rawRequest(
        server.port,
        formPost(incoming({ secret: 'wrong-secret-000000' })),
        {
          localAddress: '127.9.9.9',
        },
      )
      limited.push(a.status)
    }
    tried += limited.length
    if (!limited.includes(429) || limited.slice(0, 5).some((s) => s !== 403)) {
      problems.push(`per-client limit: got ${limited.join(',')}`)
    }
    // Still serving valid deliveries, from another address, afterwards.
    const after = await valid('127.0.0.3')
    if (after.status !== 200) problems.push(`a valid delivery after the corpus got ${after.status}`)
    // Memory back near its baseline: give the collector a moment.
    await Bun.sleep(3000)
    for (let i = 0; i < 20; i++) await valid('127.0.0.2')
    await Bun.sleep(2000)
    const settled = await server.rssMiB()
    const errorLines = server
      .logLines()
      .filter((l) => l.level === 'error' && !String(l.msg ?? '').includes('sync handler'))
    figures.cases = all.length
    figures.tried = tried
    figures.statuses = Object.entries(statuses)
      .sort()
      .map(([s, k]) => `${s}×${k}`)
      .join(' ')
    figures.rss_baseline_mib = baseline
    figures.rss_peak_mib = peak
    figures.rss_after_mib = settled
    figures.error_log_lines = errorLines.length
    // The allocator keeps some pages: "back to baseline" is within 64 MiB or a quarter of it.
    if (settled - baseline > Math.max(64, baseline * 0.25)) {
      problems.push(`memory did not come back: ${baseline} MiB before, ${settled} MiB after`)
    }
    if (errorLines.length > 0) {
      problems.push(
        `error-level log lines from hostile input: ${JSON.stringify(errorLines.slice(0, 3))}`,
      )
    }
    if (!server.alive()) problems.push('the server process died')
    // Every 200 is one stored event, and nothing refused was stored (read where a second
    // connection can: PGlite's folder belongs to the server).
    figures.acknowledged = acknowledged
    const stored = await server.countEvents()
    if (!Number.isNaN(stored)) {
      figures.events_stored = stored
      if (stored !== acknowledged) {
        problems.push(`${acknowledged} deliveries acknowledged but ${stored} events stored`)
      }
    }
  } finally {
    await server.stop()
  }
  return { name: 'hostile', driver: opts.driver, ok: problems.length === 0, figures, problems }
}

if (import.meta.main) {
  const driver = (process.argv[2] ?? 'pglite') as DrillOptions['driver']
  const size = (process.argv[3] ?? 'ci') as DrillOptions['size']
  console.log(JSON.stringify(await run({ driver, size }), null, 2))
}
