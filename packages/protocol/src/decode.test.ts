import { describe, expect, test } from 'bun:test'
import { canonicalPayload, decodeEvent } from './decode.ts'
import {
  CONTACT_UPDATE_TYPES,
  EVENT_TYPES,
  type EventOf,
  type EventType,
  METADATA_UPDATE_TYPES,
  SEND_STATUSES,
  type TelerivetEvent,
} from './events/index.ts'
import {
  contactUpdateWire,
  DOCUMENTED_PARAMETERS,
  FIXTURE_SECRET,
  INCOMING_SMS_BODY,
  incomingMessageWire,
  messageMetadataWire,
  sendBroadcastWire,
  sendStatusWire,
  toBody,
} from './fixtures.ts'
import { parseForm } from './form.ts'

const json = (v: unknown) => JSON.parse(JSON.stringify(v))

function decodeOk(body: string): TelerivetEvent {
  const r = decodeEvent(parseForm(body))
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`)
  expect(r.event).not.toHaveProperty('secret')
  expect(JSON.stringify(r.event)).not.toContain(FIXTURE_SECRET)
  return r.event
}

function as<T extends TelerivetEvent['event']>(e: TelerivetEvent, t: T): EventOf<T> {
  expect(e.event).toBe(t)
  return e as EventOf<T>
}

describe('incoming_message', () => {
  test('the documented example body (event, from_number, content)', () => {
    const e = as(
      decodeOk('event=incoming_message&id=SM1&from_number=%2B16505550123&content=Hello+world'),
      'incoming_message',
    )
    expect(e.from_number).toBe('+16505550123')
    expect(e.content).toBe('Hello world')
  })

  test('sms: every documented parameter, typed', () => {
    const e = as(decodeOk(toBody(incomingMessageWire('sms'))), 'incoming_message')
    expect(e.id).toBe('SMa1b2c3d4e5f6a7b8')
    expect(e.message_type).toBe('sms')
    expect(e.from_number_e164).toBe('+16505550123')
    expect(e.to_number).toBe('+16505550001')
    expect(e.time_created).toBe(1390347812)
    expect(e.time_sent).toBe(1390347810)
    expect(e.contact_id).toBe('CTa1b2c3d4e5f6a7b8')
    expect(e.phone_id).toBe('PNa1b2c3d4e5f6a7b8')
    expect(e.service_id).toBe('SVa1b2c3d4e5f6a7b8')
    expect(e.message_service_id).toBe('SVb2c3d4e5f6a7b8c9')
    expect(e.project_id).toBe('PJa1b2c3d4e5f6a7b8')
    expect(e.starred).toBe(false)
    expect(e.simulated).toBe(false)
    expect(e.label_ids).toEqual(['LBa1b2c3d4e5f6a7b8'])
    expect(json(e.vars)).toEqual({ survey: 'yes' })
    // contact[...]
    expect(e.contact?.name).toBe('John Smith')
    expect(e.contact?.time_created).toBe(1390343779)
    expect(e.contact?.message_count).toBe(12)
    expect(e.contact?.send_blocked).toBe(false)
    expect(e.contact?.conversation_status).toBe('active')
    expect(e.contact?.group_ids).toEqual(['CGa1b2c3d4e5f6a7b8', 'CGb2c3d4e5f6a7b8c9'])
    expect(json(e.contact?.vars)).toEqual({ foo: 'bar', age: '31' })
    // state[...]
    expect(e.state?.id).toBe('asked_name')
    expect(e.state?.time_created).toBe(1390343000)
    expect(json(e.state?.vars)).toEqual({ step: '2' })
    // phone[...]
    expect(e.phone?.name).toBe('Android Phone 1')
    expect(e.phone?.phone_type).toBe('android')
    expect(e.phone?.country).toBe('US')
    expect(e.phone?.battery).toBe(87)
    expect(e.phone?.charging).toBe(true)
    expect(e.phone?.android_sdk).toBe(30)
    expect(json(e.phone?.vars)).toEqual({ location: 'office' })
  })

  test('mms: media[] with url, type, filename, size', () => {
    const e = as(decodeOk(toBody(incomingMessageWire('mms'))), 'incoming_message')
    expect(e.message_type).toBe('mms')
    expect(e.media).toEqual([
      {
        url: 'https://telerivet.example/media/abc.jpg',
        type: 'image/jpeg',
        filename: 'abc.jpg',
        size: 48213,
      },
      {
        url: 'https://telerivet.example/media/def.png',
        type: 'image/png',
        filename: 'def.png',
        size: 1024,
      },
    ])
  })

  test('mms media with only a url (the route sends no type, filename or size)', () => {
    const e = as(
      decodeOk('event=incoming_message&id=SM1&message_type=mms&media[0][url]=https://x/a'),
      'incoming_message',
    )
    expect(e.media).toEqual([{ url: 'https://x/a' }])
  })

  test('ussd: from_number is the USSD code, no E.164 form', () => {
    const e = as(decodeOk(toBody(incomingMessageWire('ussd'))), 'incoming_message')
    expect(e.message_type).toBe('ussd')
    expect(e.from_number).toBe('*123#')
    expect(e.from_number_e164).toBeUndefined()
  })

  test('call: empty content, duration and ring time as numbers', () => {
    const e = as(decodeOk(toBody(incomingMessageWire('call'))), 'incoming_message')
    expect(e.message_type).toBe('call')
    expect(e.content).toBe('')
    expect(e.duration).toBe(42)
    expect(e.ring_time).toBe(5)
    expect(e.audio_url).toBe('https://telerivet.example/audio/call.mp3')
  })

  test('the benchmark body decodes', () => {
    const e = as(decodeOk(INCOMING_SMS_BODY), 'incoming_message')
    expect(e.contact?.vars?.age).toBe('31')
    expect(e.label_ids).toEqual(['LBa1b2c3d4e5f6a7b8'])
  })
})

describe('send_status', () => {
  test.each([...SEND_STATUSES])('status %s', (status) => {
    const e = as(decodeOk(toBody(sendStatusWire(status))), 'send_status')
    expect(e.status).toBe(status)
    expect(e.id).toBe('SMout1b2c3d4e5f6a7')
    expect(e.time_created).toBe(1390347800)
    expect(e.track_clicks).toBe(true)
    expect(e.price).toBe(0.0075)
    expect(e.contact?.vars).toEqual(expect.objectContaining({ lang: 'en' }))
    if (status === 'failed') expect(e.error_message).toBe('Example error message.')
    if (status === 'queued') expect(e.time_sent).toBeUndefined()
  })

  test('time_clicked for a short link click', () => {
    const e = as(
      decodeOk(toBody(sendStatusWire('delivered', { time_clicked: '1390348000' }))),
      'send_status',
    )
    expect(e.time_clicked).toBe(1390348000)
  })

  test('status is required', () => {
    const r = decodeEvent(parseForm('event=send_status&id=SM1'))
    expect(r.ok).toBe(false)
    if (!r.ok && r.reason === 'invalid')
      expect(r.errors).toEqual([{ path: '/status', message: 'Expected required property' }])
  })
})

describe('send_broadcast', () => {
  test('recipients[], estimated_count and broadcast fields', () => {
    const e = as(decodeOk(toBody(sendBroadcastWire())), 'send_broadcast')
    expect(e.recipients_str).toBe('Subscribers, +16505550123')
    expect(e.recipients).toEqual([
      { type: 'group', id: 'CGa1b2c3d4e5f6a7b8', name: 'Subscribers' },
      { type: 'phone_number', phone_number: '+16505550123' },
    ])
    expect(e.estimated_count).toBe(143)
    expect(e.user_name).toBe('Jane Admin')
    expect(e.user_email).toBe('jane@example.org')
    expect(e.route_id).toBe('PNa1b2c3d4e5f6a7b8')
    expect(json(e.status_counts)).toEqual({ queued: 120, sent: 23 })
    expect(e.replace_variables).toBe(false)
    expect(e.status).toBe('sending')
  })
})

describe('contact_update', () => {
  test.each([...CONTACT_UPDATE_TYPES])('update_type %s', (t) => {
    const e = as(decodeOk(toBody(contactUpdateWire(t))), 'contact_update')
    expect(e.update_type).toBe(t)
    expect(e.id).toBe('CTa1b2c3d4e5f6a7b8')
    expect(e.phone_number).toBe('+16505550123')
    expect(e.name).toBe('John Smith')
    expect(e.send_blocked).toBe(t === 'block_send')
    expect(e.group_ids).toEqual(['CGa1b2c3d4e5f6a7b8', 'CGb2c3d4e5f6a7b8c9'])
    expect(json(e.vars)).toEqual({ foo: 'bar', age: '31' })
  })

  test('send_blocked empty means false; a contact in no group has no group_ids', () => {
    const e = as(
      decodeOk('event=contact_update&update_type=unblock_send&id=CT1&send_blocked=&vars[x]=1'),
      'contact_update',
    )
    expect(e.send_blocked).toBe(false)
    expect(e.group_ids).toBeUndefined()
  })
})

describe('message_metadata', () => {
  test.each([...METADATA_UPDATE_TYPES])('update_type %s', (t) => {
    const e = as(decodeOk(toBody(messageMetadataWire(t))), 'message_metadata')
    expect(e.update_type).toBe(t)
    expect(e.starred).toBe(t === 'star')
    if (t === 'set_variable') expect(e.in_progress).toBe(true)
    if (t === 'call_complete') expect(e.in_progress).toBe(false)
    if (t === 'remove_label') expect(e.label_ids).toBeUndefined()
    else expect(e.label_ids).toEqual(['LBa1b2c3d4e5f6a7b8', 'LBb2c3d4e5f6a7b8c9'])
    expect(e.contact?.name).toBe('John Smith')
  })
})

describe('decoding rules', () => {
  test('ids stay strings even when numeric-looking', () => {
    const e = as(
      decodeOk('event=incoming_message&id=0012345&contact_id=77&contact[id]=77'),
      'incoming_message',
    )
    expect(e.id).toBe('0012345')
    expect(e.contact_id).toBe('77')
    expect(e.contact?.id).toBe('77')
  })

  test('booleans: 1/0/empty/true/false', () => {
    for (const [wire, value] of [
      ['1', true],
      ['0', false],
      ['', false],
      ['true', true],
      ['false', false],
    ] as const) {
      const e = as(
        decodeOk(`event=message_metadata&update_type=star&id=SM1&starred=${wire}`),
        'message_metadata',
      )
      expect(e.starred).toBe(value)
    }
  })

  test('an empty optional number is absent', () => {
    const e = as(decodeOk('event=send_status&id=SM1&status=sent&time_sent='), 'send_status')
    expect('time_sent' in e).toBe(false)
  })

  test('an empty number in a record is absent too', () => {
    const e = as(
      decodeOk('event=send_broadcast&id=BC1&status_counts[sent]=3&status_counts[failed]='),
      'send_broadcast',
    )
    expect(json(e.status_counts)).toEqual({ sent: 3 })
  })

  test('unknown future enumeration values are kept as strings', () => {
    const e = as(
      decodeOk('event=incoming_message&id=SM1&message_type=rcs&status=weird'),
      'incoming_message',
    )
    expect(e.message_type).toBe('rcs')
    const s = as(decodeOk('event=send_status&id=SM1&status=read_by_robot'), 'send_status')
    expect(s.status).toBe('read_by_robot')
    const c = as(decodeOk('event=contact_update&id=CT1&update_type=merge'), 'contact_update')
    expect(c.update_type).toBe('merge')
  })

  test('unknown extra fields are kept as sent', () => {
    const e = decodeOk(
      'event=incoming_message&id=SM1&new_field=x&contact[new_thing][a]=1&nested[0]=z',
    )
    expect(json(e)).toMatchObject({
      new_field: 'x',
      contact: { new_thing: { a: '1' } },
      nested: ['z'],
    })
  })

  test('sparse list indices are read in order where the schema wants a list', () => {
    const e = as(
      decodeOk('event=message_metadata&update_type=add_label&id=SM1&label_ids[3]=b&label_ids[1]=a'),
      'message_metadata',
    )
    expect(e.label_ids).toEqual(['a', 'b'])
  })

  test('a bad number is an error with its path; the payload comes back as received, without secret', () => {
    const r = decodeEvent(
      parseForm(
        'event=incoming_message&id=SM1&time_created=yesterday&contact[message_count]=many&secret=s',
      ),
    )
    expect(r.ok).toBe(false)
    if (r.ok || r.reason !== 'invalid') throw new Error('expected invalid')
    expect(r.eventType).toBe('incoming_message')
    expect(r.errors).toEqual([
      { path: '/time_created', message: 'Expected number' },
      { path: '/contact/message_count', message: 'Expected integer' },
    ])
    expect(json(r.payload)).toEqual({
      event: 'incoming_message',
      id: 'SM1',
      time_created: 'yesterday',
      contact: { message_count: 'many' },
    })
  })

  test('a missing id is an error', () => {
    for (const t of EVENT_TYPES) {
      const r = decodeEvent(parseForm(`event=${t}&status=sent&update_type=star`))
      expect(r).toMatchObject({ ok: false, reason: 'invalid', eventType: t })
      if (!r.ok && r.reason === 'invalid') expect(r.errors.map((e) => e.path)).toContain('/id')
    }
  })

  test('an object where a list belongs is an error, not a crash', () => {
    const r = decodeEvent(parseForm('event=incoming_message&id=SM1&media[x][url]=u'))
    expect(r).toMatchObject({ ok: false, reason: 'invalid' })
  })

  test('unknown or missing event type', () => {
    const r = decodeEvent(parseForm('event=something_new&id=1&secret=s'))
    expect(r).toEqual({
      ok: false,
      reason: 'unknown_event',
      eventType: 'something_new',
      payload: expect.anything(),
    })
    if (!r.ok) expect(json(r.payload)).toEqual({ event: 'something_new', id: '1' })
    expect(decodeEvent(parseForm('id=1'))).toMatchObject({
      ok: false,
      reason: 'unknown_event',
      eventType: null,
    })
    expect(decodeEvent(parseForm('event[x]=1'))).toMatchObject({
      ok: false,
      reason: 'unknown_event',
      eventType: null,
    })
    // inherited names are not event types
    expect(decodeEvent(parseForm('event=constructor'))).toMatchObject({
      reason: 'unknown_event',
      eventType: 'constructor',
    })
  })

  test('decoding does not mutate the form', () => {
    const form = parseForm(toBody(incomingMessageWire('mms')))
    const before = JSON.stringify(form)
    decodeEvent(form)
    expect(JSON.stringify(form)).toBe(before)
  })

  test('__proto__ keys in the payload stay data', () => {
    const e = decodeOk(
      'event=incoming_message&id=SM1&__proto__[polluted]=1&contact[__proto__][polluted]=2',
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(e, '__proto__')?.value).toEqual(
      expect.objectContaining({ polluted: '1' }),
    )
  })
})

describe('canonicalPayload', () => {
  test('independent of parameter order, without secret', () => {
    const a = canonicalPayload(parseForm('b=1&a[y]=2&a[x]=3&secret=one&l[0]=p&l[1]=q'))
    const b = canonicalPayload(parseForm('secret=two&a[x]=3&l[0]=p&a[y]=2&b=1&l[1]=q'))
    expect(a).toBe(b)
    expect(a).toBe('{"a":{"x":"3","y":"2"},"b":"1","l":["p","q"]}')
  })

  test('different payloads differ; list order matters', () => {
    expect(canonicalPayload(parseForm('l[0]=p&l[1]=q'))).not.toBe(
      canonicalPayload(parseForm('l[0]=q&l[1]=p')),
    )
    expect(canonicalPayload(parseForm('a=1'))).not.toBe(canonicalPayload(parseForm('a=2')))
  })
})

describe('the fixtures carry every parameter the spec documents', () => {
  // Beside every documented top-level parameter, the nested ones the fixtures fill in.
  const DOCUMENTED: [EventType, string, string[]][] = [
    [
      'incoming_message',
      toBody(incomingMessageWire('mms')),
      [
        'media.0.url',
        'media.0.type',
        'media.0.filename',
        'media.0.size',
        'contact.name',
        'contact.time_created',
        'contact.message_count',
        'contact.vars.foo',
        'state.id',
        'state.time_created',
        'state.vars',
        'phone.name',
        'phone.phone_type',
        'phone.country',
        'phone.vars',
      ],
    ],
    [
      'send_status',
      toBody(sendStatusWire('failed', { time_sent: '1390347805', time_clicked: '1390348000' })),
      ['contact.name', 'contact.time_created', 'contact.message_count', 'contact.vars'],
    ],
    ['send_broadcast', toBody(sendBroadcastWire()), ['recipients.0.type']],
    ['contact_update', toBody(contactUpdateWire()), ['vars.foo', 'group_ids.0', 'group_ids.1']],
    [
      'message_metadata',
      toBody(messageMetadataWire('set_variable')),
      [
        'label_ids.0',
        'label_ids.1',
        'contact.name',
        'contact.time_created',
        'contact.message_count',
        'contact.vars.foo',
      ],
    ],
  ]
  test.each(DOCUMENTED)('%s', (event, body, paths) => {
    const form = json(parseForm(body))
    expect(form.event).toBe(event)
    for (const path of [...DOCUMENTED_PARAMETERS[event], ...paths]) {
      const value = path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), form)
      expect({ path, present: value !== undefined }).toEqual({ path, present: true })
    }
  })
})
