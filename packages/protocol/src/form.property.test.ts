import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { decodeEvent } from './decode.ts'
import { EVENT_TYPES, MESSAGE_TYPES, SEND_STATUSES } from './events/index.ts'
import { encodeForm, FormError, type FormValue, parseForm } from './form.ts'

const json = (v: unknown) => JSON.parse(JSON.stringify(v))

// Names as Telerivet uses them (and then some): never empty, no brackets, not all-digit, so that
// an object never reads back as an array.
const nameChars = 'abcdefghijklmnopqrstuvwxyzABCXYZ_.$ -é+&=%'.split('')
const name = fc
  .tuple(
    fc.constantFrom(...'abcxyz_'.split('')),
    fc.string({ unit: fc.constantFrom(...nameChars), maxLength: 10 }),
  )
  .map(([h, t]) => h + t)
const text = fc.string({ unit: 'binary', maxLength: 30 })

const { formValue } = fc.letrec<{ formValue: FormValue; formObject: Record<string, FormValue> }>(
  (tie) => ({
    formValue: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      text,
      fc.array(tie('formValue'), { minLength: 1, maxLength: 4 }),
      tie('formObject'),
    ),
    formObject: fc.dictionary(name, tie('formValue'), { minKeys: 1, maxKeys: 5 }),
  }),
)
const formObject = fc.dictionary(name, formValue, { maxKeys: 8 })

describe('encode -> parse round trip', () => {
  test('any form-shaped object', () => {
    fc.assert(
      fc.property(formObject, (obj) => {
        expect(json(parseForm(encodeForm(obj)))).toEqual(json(obj))
      }),
      { numRuns: 300 },
    )
  })

  const id = fc.oneof(fc.stringMatching(/^[A-Z]{2}[a-f0-9]{16}$/), fc.stringMatching(/^0\d{0,6}$/))
  const ts = fc.integer({ min: 0, max: 2 ** 31 })
  const vars = fc.dictionary(name, fc.oneof(text, fc.stringMatching(/^\d{1,4}$/)), {
    minKeys: 1,
    maxKeys: 4,
  })
  const contact = fc.record(
    {
      id,
      name: text,
      time_created: ts,
      message_count: fc.nat(10_000),
      send_blocked: fc.boolean(),
      group_ids: fc.array(id, { minLength: 1, maxLength: 3 }),
      vars,
    },
    { requiredKeys: [] },
  )
  const incoming = fc.record(
    {
      event: fc.constant('incoming_message' as const),
      id,
      message_type: fc.constantFrom(...MESSAGE_TYPES, 'future_type'),
      content: text,
      from_number: fc.stringMatching(/^\+?\d{3,12}$/),
      time_created: ts,
      time_sent: ts,
      starred: fc.boolean(),
      price: fc.double({ min: 0, max: 100, noNaN: true }),
      label_ids: fc.array(id, { minLength: 1, maxLength: 3 }),
      contact,
      media: fc.array(fc.record({ url: fc.webUrl(), size: fc.nat() }, { requiredKeys: ['url'] }), {
        minLength: 1,
        maxLength: 3,
      }),
      extra_field: text,
    },
    { requiredKeys: ['event', 'id'] },
  )
  const status = fc.record(
    {
      event: fc.constant('send_status' as const),
      id,
      status: fc.constantFrom(...SEND_STATUSES),
      time_clicked: ts,
      track_clicks: fc.boolean(),
      error_message: text,
      contact,
    },
    { requiredKeys: ['event', 'id', 'status'] },
  )

  test('decoded events: decode(parse(encode(event))) gives the event back', () => {
    fc.assert(
      fc.property(fc.oneof(incoming, status), (event) => {
        const r = decodeEvent(parseForm(encodeForm(event)))
        expect(r.ok).toBe(true)
        if (r.ok) expect(json(r.event)).toEqual(json(event))
      }),
      { numRuns: 300 },
    )
  })
})

describe('parseForm on hostile input', () => {
  const tokens = [
    '[',
    ']',
    '[]',
    '&',
    '=',
    '%',
    '+',
    'a',
    'b',
    '0',
    '1',
    '9999999999',
    '__proto__',
    'constructor',
    'prototype',
    'polluted',
    'toString',
    '%5B',
    '%5D',
    '%zz',
    '%C3',
    '%A9',
    '%FF',
    '%00',
    '\uD800',
    'é',
  ]
  const bracketSoup = fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((t) => t.join(''))
  const anyBody = fc.oneof(bracketSoup, fc.string({ unit: 'binary' }), fc.string())
  const limits = fc.record(
    {
      maxParams: fc.integer({ min: 0, max: 20 }),
      maxDepth: fc.integer({ min: 0, max: 5 }),
      maxKeyLength: fc.integer({ min: 0, max: 40 }),
    },
    { requiredKeys: [] },
  )
  const protoSnapshot = () => [
    Object.getOwnPropertyNames(Object.prototype).sort().join(),
    Object.getPrototypeOf({}),
  ]

  function checkShape(v: FormValue): void {
    if (typeof v === 'string') return
    if (Array.isArray(v)) {
      expect(Object.getPrototypeOf(v)).toBe(Array.prototype)
      for (const x of v) checkShape(x)
      return
    }
    expect(Object.getPrototypeOf(v)).toBeNull()
    for (const k of Object.keys(v)) checkShape(v[k] as FormValue)
  }

  test('never throws anything but FormError, never touches Object.prototype, only strings, arrays and null-prototype objects', () => {
    const before = protoSnapshot()
    fc.assert(
      fc.property(anyBody, fc.option(limits, { nil: undefined }), (body, lim) => {
        let result: ReturnType<typeof parseForm> | undefined
        try {
          result = parseForm(body, lim)
        } catch (e) {
          expect(e).toBeInstanceOf(FormError)
          expect([400, 413]).toContain((e as FormError).status)
          return
        }
        checkShape(result)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
        // decoding whatever came out never throws either
        decodeEvent(result)
        for (const t of EVENT_TYPES)
          decodeEvent(Object.assign(Object.create(null), result, { event: t }))
      }),
      { numRuns: 2000 },
    )
    expect(protoSnapshot()).toEqual(before)
  })
})

describe('percent-decoding', () => {
  /** The obvious, slow definition: decodeURIComponent, and byte-wise UTF-8 when it throws. */
  function reference(raw: string): string {
    const s = raw.replaceAll('+', ' ')
    try {
      return decodeURIComponent(s)
    } catch {
      const bytes: number[] = []
      for (let i = 0; i < s.length; ) {
        const m = /^%[0-9a-fA-F]{2}/.exec(s.slice(i, i + 3))
        if (m) {
          bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16))
          i += 3
        } else {
          const cp = s.codePointAt(i) as number
          const ch = String.fromCodePoint(cp)
          bytes.push(...new TextEncoder().encode(ch))
          i += ch.length
        }
      }
      return new TextDecoder().decode(new Uint8Array(bytes))
    }
  }
  const units = [
    '%',
    '+',
    '0',
    '7',
    '8',
    'A',
    'b',
    'C',
    'f',
    'z',
    'é',
    '😀',
    '%C3',
    '%A9',
    '%E2%82',
    '%AC',
    '%FF',
    '%2B',
    '%25',
    '%ED%A0%80',
    '%F0%9F%98%80',
  ]

  test('parseForm decodes values and keys exactly like the reference, malformed or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...units), { maxLength: 30 }).map((u) => u.join('')),
        (s) => {
          expect(parseForm(`v=${s}`).v).toBe(reference(s))
          if (s !== '' && !reference(s).includes('['))
            expect(Object.keys(parseForm(`${s}=1`))).toEqual([reference(s)])
        },
      ),
      { numRuns: 2000 },
    )
  })
})
