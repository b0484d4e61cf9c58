import { describe, expect, test } from 'bun:test'
import { isValidReply, ReplyError, reply, replyErrors } from './reply.ts'

describe('isValidReply', () => {
  test('the documented examples are valid', () => {
    expect(
      isValidReply({
        messages: [
          { content: 'Reply message text' },
          { content: 'Another message text', to_number: '+16505550123', route_id: 'YOUR_PHONE_ID' },
          { to_number: '*104*12312312*456#', message_type: 'ussd' },
        ],
      }),
    ).toBe(true)
    expect(isValidReply({ messages: [{ content: 'Thanks for your message!' }] })).toBe(true)
    expect(isValidReply({ variables: { 'contact.name': 'John Smith', $foo: 42 } })).toBe(true)
    expect(isValidReply({ variables: { return_value: false } })).toBe(true)
    expect(isValidReply({})).toBe(true)
  })

  test('all message properties', () => {
    expect(
      isValidReply({
        messages: [
          {
            content: 'x',
            message_type: 'sms',
            to_number: '+1',
            status_url: 'https://example.org/status',
            status_secret: 's',
            route_id: 'PN1',
          },
        ],
      }),
    ).toBe(true)
  })

  test.each([
    ['an sms without content', { messages: [{ to_number: '+1' }] }],
    ['an sms with empty content', { messages: [{ content: '' }] }],
    ['an unknown message type', { messages: [{ content: 'x', message_type: 'mms' }] }],
    ['an unknown message property', { messages: [{ content: 'x', media: [] }] }],
    ['an unknown top-level property', { messages: [], extra: 1 }],
    ['a non-http status_url', { messages: [{ content: 'x', status_url: 'ftp://x' }] }],
    ['messages not an array', { messages: { content: 'x' } }],
    ['an unknown variable name', { variables: { 'contact.age': 3 } }],
    ['a variable name with spaces', { variables: { '$foo bar': 1 } }],
    ['an object variable value', { variables: { $foo: { a: 1 } } }],
    ['a non-finite number', { variables: { $foo: Number.POSITIVE_INFINITY } }],
    ['return_value not a boolean', { variables: { return_value: 'false' } }],
    ['state.id too long', { variables: { 'state.id': 'x'.repeat(64) } }],
    ['state.id a number', { variables: { 'state.id': 3 } }],
    ['a custom variable name too long', { variables: { [`contact.vars.${'x'.repeat(33)}`]: 1 } }],
    ['a custom variable over 4096 bytes', { variables: { 'contact.vars.x': 'é'.repeat(2049) } }],
    ['not an object', 'hello'],
    ['null', null],
  ])('rejects %s', (_, x) => {
    expect(isValidReply(x)).toBe(false)
    expect(replyErrors(x).length).toBeGreaterThan(0)
  })

  test('accepted variable names', () => {
    for (const name of [
      '$foo',
      '$Foo_2',
      'return_value',
      'state.id',
      'contact.name',
      'contact.phone_number',
      'contact.vars.age',
      'state.vars.step',
      'message.vars.x',
      'project.vars.y',
      'phone.vars.z',
      'service.vars.q',
    ]) {
      const value = name === 'return_value' ? true : 'v'
      expect(replyErrors({ variables: { [name]: value } })).toEqual([])
    }
    expect(
      isValidReply({
        variables: { 'state.id': null, 'contact.name': null, 'contact.vars.x': null },
      }),
    ).toBe(true)
  })
})

describe('reply()', () => {
  test('builds messages and variables', () => {
    const r = reply()
      .message('Thanks!')
      .message({ message_type: 'ussd', to_number: '*123#' })
      .state('asked_name')
      .contactName('John')
      .contactVar('lang', 'en')
      .stateVar('step', 2)
      .variable('$score', 9.5)
      .fallThrough()
      .build()
    expect(r).toEqual({
      messages: [{ content: 'Thanks!' }, { message_type: 'ussd', to_number: '*123#' }],
      variables: {
        'state.id': 'asked_name',
        'contact.name': 'John',
        'contact.vars.lang': 'en',
        'state.vars.step': 2,
        $score: 9.5,
        return_value: false,
      },
    })
    expect(isValidReply(r)).toBe(true)
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
  })

  test('an empty reply is {}', () => {
    expect(reply().build()).toEqual({})
  })

  test('the last value of a variable wins', () => {
    expect(reply().state('a').state('b').build()).toEqual({ variables: { 'state.id': 'b' } })
  })

  test('invalid steps throw ReplyError at once', () => {
    expect(() => reply().message('')).toThrow(ReplyError)
    expect(() => reply().message({ to_number: '+1' })).toThrow(ReplyError)
    expect(() => reply().variable('contact.age', 1)).toThrow(ReplyError)
    expect(() => reply().contactVar('bad key', 1)).toThrow(ReplyError)
    expect(() => reply().state('x'.repeat(64))).toThrow(ReplyError)
    expect(() => reply().variable('__proto__', 1)).toThrow(ReplyError)
  })

  test('build returns fresh objects', () => {
    const b = reply().message('a')
    const first = b.build()
    first.messages?.push({ content: 'b' })
    expect(b.build()).toEqual({ messages: [{ content: 'a' }] })
  })
})
