import { describe, expect, test } from 'bun:test'
import { DEFAULT_FORM_LIMITS, encodeForm, FormError, parseForm } from './form.ts'

/** JSON round-trip: compares structure only, and shows arrays versus objects plainly. */
const json = (v: unknown) => JSON.parse(JSON.stringify(v))

describe('parseForm: PHP conventions', () => {
  test('plain keys, + as space, percent escapes', () => {
    expect(
      json(parseForm('event=incoming_message&from_number=%2B16505550123&content=Hello+world')),
    ).toEqual({
      event: 'incoming_message',
      from_number: '+16505550123',
      content: 'Hello world',
    })
  })

  test('UTF-8 escapes decode to text', () => {
    expect(parseForm('content=%C3%A9t%C3%A9+%F0%9F%98%80').content).toBe('été 😀')
  })

  test('nested objects', () => {
    expect(json(parseForm('a[b][c]=1&a[b][d]=2&a[e]=3'))).toEqual({
      a: { b: { c: '1', d: '2' }, e: '3' },
    })
  })

  test('indexed keys become arrays, in index order whatever the arrival order', () => {
    expect(json(parseForm('a[0][x]=1&a[1][x]=2'))).toEqual({ a: [{ x: '1' }, { x: '2' }] })
    expect(json(parseForm('a[1]=second&a[0]=first'))).toEqual({ a: ['first', 'second'] })
    expect(Array.isArray(parseForm('a[0]=x').a)).toBe(true)
  })

  test('empty brackets append', () => {
    expect(json(parseForm('a[]=1&a[]=2'))).toEqual({ a: ['1', '2'] })
    expect(json(parseForm('a[][x]=1&a[][x]=2'))).toEqual({ a: [{ x: '1' }, { x: '2' }] })
  })

  test('append continues after the largest index, as in PHP', () => {
    expect(json(parseForm('a[5]=x&a[]=y'))).toEqual({ a: { '5': 'x', '6': 'y' } })
    expect(json(parseForm('a[]=x&a[3]=y&a[]=z'))).toEqual({ a: { '0': 'x', '3': 'y', '4': 'z' } })
    expect(json(parseForm('a[]=x&a[1]=y&a[]=z'))).toEqual({ a: ['x', 'y', 'z'] })
  })

  test('a repeated plain key keeps the last value', () => {
    expect(json(parseForm('x=1&x=2&x=3'))).toEqual({ x: '3' })
    expect(json(parseForm('a[b]=1&a[b]=2'))).toEqual({ a: { b: '2' } })
  })

  test('sparse indices give an object with string keys (nothing moved or lost)', () => {
    const f = parseForm('a[0]=x&a[2]=y')
    expect(Array.isArray(f.a)).toBe(false)
    expect(json(f)).toEqual({ a: { '0': 'x', '2': 'y' } })
    expect(json(parseForm('a[1]=only'))).toEqual({ a: { '1': 'only' } })
  })

  test('mixed index and name keys give an object', () => {
    expect(json(parseForm('a[0]=x&a[b]=y'))).toEqual({ a: { '0': 'x', b: 'y' } })
  })

  test('only canonical integers are indices', () => {
    for (const k of ['01', '-1', '+1', ' 1', '1.0', '1e2', '00']) {
      const f = parseForm(`a[${encodeURIComponent(k)}]=v`)
      expect(Array.isArray(f.a)).toBe(false)
      expect(json(f)).toEqual({ a: { [k]: 'v' } })
    }
    // a huge canonical number is a name too: no giant arrays
    expect(json(parseForm('a[99999999999]=v'))).toEqual({ a: { '99999999999': 'v' } })
  })

  test('the top level stays an object even with index keys', () => {
    const f = parseForm('0=a&1=b')
    expect(Array.isArray(f)).toBe(false)
    expect(json(f)).toEqual({ '0': 'a', '1': 'b' })
  })

  test('empty keys and keys starting with a bracket are dropped', () => {
    expect(json(parseForm('=x&[a]=y&[]=z&ok=1'))).toEqual({ ok: '1' })
  })

  test('empty pairs are skipped; a pair without = has an empty value', () => {
    expect(json(parseForm('&&a=1&&b&'))).toEqual({ a: '1', b: '' })
    expect(json(parseForm(''))).toEqual({})
    expect(json(parseForm('a=1=2'))).toEqual({ a: '1=2' })
  })

  test('; is not a separator', () => {
    expect(json(parseForm('a=1;b=2'))).toEqual({ a: '1;b=2' })
  })

  test('unbalanced brackets', () => {
    // an unclosed first bracket: the whole key is a plain name
    expect(json(parseForm('a[b=1'))).toEqual({ 'a[b': '1' })
    // an unclosed later bracket: ignored with the rest of the key
    expect(json(parseForm('a[b][c=1'))).toEqual({ a: { b: '1' } })
    // a segment runs to the first ]
    expect(json(parseForm('a[b[c]]=1'))).toEqual({ a: { 'b[c': '1' } })
    // text after ] that opens no segment is ignored
    expect(json(parseForm('a[b]x=1'))).toEqual({ a: { b: '1' } })
    expect(json(parseForm('a[b]x[c]=1'))).toEqual({ a: { b: '1' } })
    // a stray ] in a plain name is just a character
    expect(json(parseForm('a]b=1'))).toEqual({ 'a]b': '1' })
  })

  test('encoded brackets in keys are brackets (keys are decoded first, as in PHP)', () => {
    expect(json(parseForm('contact%5Bvars%5D%5Bfoo%5D=bar'))).toEqual({
      contact: { vars: { foo: 'bar' } },
    })
  })

  test('names are not mangled (PHP would turn . and space into _)', () => {
    expect(json(parseForm('a.b=1&c+d=2'))).toEqual({ 'a.b': '1', 'c d': '2' })
  })

  test('malformed percent escapes are kept literally', () => {
    expect(parseForm('v=100%').v).toBe('100%')
    expect(parseForm('v=%4').v).toBe('%4')
    expect(parseForm('v=%zz%41').v).toBe('%zzA')
    expect(parseForm('v=%%41').v).toBe('%A')
    expect(parseForm('%zz=1')['%zz']).toBe('1')
    expect(parseForm('v=%C3%A9%').v).toBe('é%')
  })

  test('invalid UTF-8 bytes become U+FFFD, never an error', () => {
    expect(parseForm('v=%FF').v).toBe('\uFFFD')
    expect(parseForm('v=a%C3').v).toBe('a\uFFFD')
    expect(parseForm('v=%ED%A0%80x').v).toContain('x')
  })

  test('a value then a container: the later parameter wins', () => {
    expect(json(parseForm('a=1&a[b]=2'))).toEqual({ a: { b: '2' } })
    expect(json(parseForm('a[b]=2&a=1'))).toEqual({ a: '1' })
    expect(json(parseForm('a[b]=1&a[b][c]=2'))).toEqual({ a: { b: { c: '2' } } })
  })

  test('raw non-ASCII text passes through', () => {
    expect(parseForm('v=привет').v).toBe('привет')
  })
})

describe('parseForm: prototype safety', () => {
  const keys = ['__proto__', 'constructor', 'prototype']

  test.each(keys)('%s as a plain, nested and indexed key stays an own property', (k) => {
    const body = `${k}=1&a[${k}]=2&b[${k}][polluted]=3&c[0][${k}][polluted]=4&${k}[polluted]=5&d[${k}][]=6`
    const f = parseForm(body)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    expect(Object.getPrototypeOf(f)).toBeNull()
    expect(Object.keys(f)).toContain(k)
    const a = f.a as Record<string, unknown>
    expect(Object.getPrototypeOf(a)).toBeNull()
    expect(Object.getOwnPropertyDescriptor(a, k)?.value).toBe('2')
    const b = f.b as Record<string, Record<string, unknown>>
    expect(Object.getOwnPropertyDescriptor(b, k)?.value.polluted).toBe('3')
  })

  test('__proto__ keys do not change the prototype of the result', () => {
    const f = parseForm('__proto__[toString]=x&a[__proto__][length]=9')
    expect(Object.getPrototypeOf(f)).toBeNull()
    expect(Object.getPrototypeOf(f.a)).toBeNull()
    expect(json(f)).toEqual({
      ['__proto__']: { toString: 'x' },
      a: { ['__proto__']: { length: '9' } },
    })
  })

  test('arrays of the result are ordinary arrays', () => {
    const f = parseForm('a[0]=x&a[1]=y')
    expect(Array.isArray(f.a)).toBe(true)
    expect(Object.getPrototypeOf(f.a)).toBe(Array.prototype)
  })
})

describe('parseForm: bounds', () => {
  test('the defaults', () => {
    expect(DEFAULT_FORM_LIMITS).toEqual({ maxParams: 10000, maxDepth: 16, maxKeyLength: 1024 })
  })

  test('5000 parameters pass with the defaults', () => {
    const body = Array.from({ length: 5000 }, (_, i) => `vars[v${i}]=${i}`).join('&')
    const f = parseForm(body)
    expect(Object.keys(f.vars as object)).toHaveLength(5000)
  })

  test('too many parameters is a 413 FormError', () => {
    const body = Array.from({ length: 11 }, (_, i) => `p${i}=1`).join('&')
    expect(() => parseForm(body, { maxParams: 10 })).toThrow(FormError)
    try {
      parseForm(body, { maxParams: 10 })
    } catch (e) {
      expect(e).toBeInstanceOf(FormError)
      expect((e as FormError).code).toBe('too_many_params')
      expect((e as FormError).status).toBe(413)
    }
    // exactly at the limit is fine; empty pairs do not count
    expect(
      Object.keys(parseForm(`${body.split('&').slice(0, 10).join('&&')}&`, { maxParams: 10 })),
    ).toHaveLength(10)
  })

  test('too deep is a 400 FormError', () => {
    const key = `a${'[x]'.repeat(17)}`
    const err = (() => {
      try {
        parseForm(`${key}=1`)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(FormError)
    expect((err as FormError).code).toBe('too_deep')
    expect((err as FormError).status).toBe(400)
    expect(json(parseForm(`a${'[x]'.repeat(16)}=1`))).toBeTruthy()
    expect(() => parseForm('a[b]=1', { maxDepth: 0 })).toThrow(FormError)
    expect(parseForm('a=1', { maxDepth: 0 }).a).toBe('1')
  })

  test('a key too long is a 400 FormError, counted after decoding', () => {
    const long = 'k'.repeat(1025)
    expect(() => parseForm(`${long}=1`)).toThrow(
      expect.objectContaining({ code: 'key_too_long', status: 400 }),
    )
    expect(parseForm(`${'k'.repeat(1024)}=1`)).toHaveProperty('k'.repeat(1024))
    // 3 encoded characters per decoded one: 1024 decoded characters pass
    expect(Object.keys(parseForm(`${'%41'.repeat(1024)}=1`))[0]).toHaveLength(1024)
  })

  test('long values are not limited by the parser (the body limit does that)', () => {
    expect(parseForm(`v=${'x'.repeat(100_000)}`).v).toHaveLength(100_000)
  })
})

describe('encodeForm', () => {
  test('what Telerivet sends: bracket keys, indices, 1/0, decimal numbers, null absent', () => {
    const body = encodeForm({
      event: 'incoming_message',
      content: 'Hello world & more',
      starred: false,
      simulated: true,
      time_created: 1390343779,
      price: 0.05,
      error_message: null,
      external_id: undefined,
      label_ids: ['LB1', 'LB2'],
      media: [{ url: 'https://x/y.jpg', size: 1234 }],
      contact: { vars: { foo: 'bar' } },
      empty: [],
      nothing: {},
    })
    expect(body).toBe(
      [
        'event=incoming_message',
        'content=Hello+world+%26+more',
        'starred=0',
        'simulated=1',
        'time_created=1390343779',
        'price=0.05',
        'label_ids%5B0%5D=LB1',
        'label_ids%5B1%5D=LB2',
        'media%5B0%5D%5Burl%5D=https%3A%2F%2Fx%2Fy.jpg',
        'media%5B0%5D%5Bsize%5D=1234',
        'contact%5Bvars%5D%5Bfoo%5D=bar',
      ].join('&'),
    )
  })

  test('escapes characters that PHP urlencode escapes', () => {
    expect(encodeForm({ v: "!'()*~ +" })).toBe('v=%21%27%28%29%2A%7E+%2B')
  })

  test('a lone surrogate is sent as U+FFFD instead of throwing', () => {
    expect(parseForm(encodeForm({ v: 'a\uD800b' })).v).toBe('a\uFFFDb')
  })

  test('Date as UNIX seconds; non-finite numbers, functions and symbols absent', () => {
    expect(
      encodeForm({
        t: new Date(1_000_500),
        n: Number.NaN,
        i: Number.POSITIVE_INFINITY,
        f: () => 1,
        s: Symbol('x'),
      }),
    ).toBe('t=1000')
  })
})
