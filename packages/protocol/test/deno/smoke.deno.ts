/**
 * @module deno smoke
 * The protocol package under Deno: the same web-standard code paths as the bun suite, run by
 * `deno test` (see the package's `test` script). Plain assertions: no remote standard library.
 */

import {
  contactUpdateWire,
  INCOMING_SMS_BODY,
  incomingMessageWire,
  messageMetadataWire,
  sendBroadcastWire,
  sendStatusWire,
  toBody,
} from '../../src/fixtures.ts'
import {
  canonicalPayload,
  decodeEvent,
  encodeForm,
  FormError,
  generateSecret,
  hashSecret,
  isValidReply,
  parseForm,
  reply,
  verifySecret,
  WEBHOOK_PORTS,
  webhookPort,
} from '../../src/index.ts'

declare const Deno: { test(name: string, fn: () => void | Promise<void>): void }

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`)
}

function assertEquals(actual: unknown, expected: unknown, message: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`)
}

Deno.test('parseForm: PHP brackets, arrays, null prototypes', () => {
  const f = parseForm('a[b][c]=1&l[]=x&l[]=y&m[0][u]=1&m[1][u]=2&s[0]=x&s[2]=y&x=1&x=2&p=a+b%21')
  assertEquals(
    f,
    {
      a: { b: { c: '1' } },
      l: ['x', 'y'],
      m: [{ u: '1' }, { u: '2' }],
      s: { '0': 'x', '2': 'y' },
      x: '2',
      p: 'a b!',
    },
    'parsed',
  )
  assert(Object.getPrototypeOf(f) === null, 'null prototype')
  parseForm('__proto__[polluted]=1&a[constructor][prototype][polluted]=1')
  assert(({} as Record<string, unknown>).polluted === undefined, 'no pollution')
  assertEquals(parseForm('v=%zz%41&w=%FF').v, '%zzA', 'malformed escape kept')
})

Deno.test('parseForm: bounds are typed errors', () => {
  for (const [body, code, status] of [
    [Array.from({ length: 10001 }, (_, i) => `p${i}=1`).join('&'), 'too_many_params', 413],
    [`a${'[x]'.repeat(17)}=1`, 'too_deep', 400],
    [`${'k'.repeat(1025)}=1`, 'key_too_long', 400],
  ] as const) {
    try {
      parseForm(body)
      throw new Error(`no error for ${code}`)
    } catch (e) {
      assert(e instanceof FormError, `FormError for ${code}`)
      assertEquals([e.code, e.status], [code, status], code)
    }
  }
})

Deno.test('decodeEvent: every event type from the spec fixtures', () => {
  const bodies = [
    INCOMING_SMS_BODY,
    toBody(incomingMessageWire('sms')),
    toBody(incomingMessageWire('mms')),
    toBody(incomingMessageWire('ussd')),
    toBody(incomingMessageWire('call')),
    toBody(sendStatusWire('delivered', { time_clicked: '1390348000' })),
    toBody(sendBroadcastWire()),
    toBody(contactUpdateWire('add_group')),
    toBody(messageMetadataWire('call_complete')),
  ]
  for (const body of bodies) {
    const r = decodeEvent(parseForm(body))
    assert(r.ok, `decodes: ${JSON.stringify(r).slice(0, 300)}`)
    assert(!('secret' in r.event), 'secret removed')
  }
  const mms = decodeEvent(parseForm(toBody(incomingMessageWire('mms'))))
  assert(mms.ok && mms.event.event === 'incoming_message', 'mms ok')
  assertEquals(mms.event.media?.[0]?.size, 48213, 'media size is a number')
  assertEquals(mms.event.time_created, 1390347812, 'timestamp is a number')
  const bad = decodeEvent(parseForm('event=send_status&id=SM1&status=sent&time_sent=soon'))
  assert(!bad.ok && bad.reason === 'invalid', 'invalid')
  assertEquals(bad.errors, [{ path: '/time_sent', message: 'Expected number' }], 'error path')
  assertEquals(
    decodeEvent(parseForm('event=new_thing')),
    { ok: false, reason: 'unknown_event', eventType: 'new_thing', payload: { event: 'new_thing' } },
    'unknown',
  )
})

Deno.test('encodeForm round-trips and canonicalPayload is order-free', () => {
  const wire = sendBroadcastWire()
  assertEquals(
    canonicalPayload(parseForm(encodeForm(wire))),
    canonicalPayload(parseForm(encodeForm(Object.fromEntries(Object.entries(wire).reverse())))),
    'canonical',
  )
})

Deno.test('reply builder and validation', () => {
  const r = reply().message('Thanks!').state('next').variable('$foo', 42).fallThrough().build()
  assert(isValidReply(r), 'valid')
  assert(!isValidReply({ messages: [{ to_number: '+1' }] }), 'sms needs content')
})

Deno.test('secrets over Web Crypto', async () => {
  const secret = generateSecret()
  assert(/^[A-Za-z0-9_-]{32}$/.test(secret), 'base64url, 192 bits')
  const hash = await hashSecret(secret)
  assert(await verifySecret(secret, ['0'.repeat(64), hash]), 'matches')
  assert(!(await verifySecret(`${secret}x`, [hash])), 'rejects')
})

Deno.test('REST value lists: the webhook port rule', () => {
  assertEquals(webhookPort('https://h.example'), 443, 'https default port')
  assertEquals(webhookPort('http://127.0.0.1:8000/hooks/x'), 8000, 'explicit port')
  assertEquals(webhookPort('ftp://h'), null, 'not http(s)')
  assert(!WEBHOOK_PORTS.includes(webhookPort('http://h:3000') ?? 0), '3000 is refused')
})
