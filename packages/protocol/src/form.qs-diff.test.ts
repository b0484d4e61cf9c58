/**
 * Differential test against `qs` (what Express's `urlencoded({ extended: true })` uses), configured
 * as close to PHP as qs allows: last duplicate wins, depth 16, no array-index limit, null-prototype
 * objects. Every body of the corpus parses the same, except the ones in DIFFERENCES, each with
 * the reason we differ on purpose.
 */
import { describe, expect, test } from 'bun:test'
import qs from 'qs'
import { QS_OPTIONS } from '../test/qs-options.ts'
import { parseForm } from './form.ts'

const list = (name: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${name}[${i}]=${i}`).join('&')

const SAME: string[] = [
  'a=1&b=2',
  'event=incoming_message&from_number=%2B16505550123&content=Hello+world',
  'a[b][c]=1',
  'contact[vars][foo]=bar&contact[vars][baz]=qux&contact[name]=John',
  'contact%5Bvars%5D%5Bfoo%5D=bar',
  'a[0][x]=1&a[1][x]=2',
  'media[0][url]=u&media[0][type]=image%2Fjpeg&media[1][url]=v',
  'a[]=1&a[]=2',
  'a[b][]=1&a[b][]=2',
  'a[1]=b&a[0]=a',
  list('label_ids', 3),
  list('l', 25),
  'x=1&x=2',
  'a[0]=x&a[0]=y',
  'a+b=c+d',
  'a=%2B1',
  'a[0]=x&a[b]=y',
  'a[b]=y&a[0]=x',
  'a[01]=v',
  'a[-1]=v',
  'a[ b ]=1',
  'a[b]x=1',
  '=x',
  'a',
  'a=',
  'a[]=',
  'a=1=2',
  '&&a=1&',
  'a=1;b=2',
  'v=100%',
  'v=%zz',
  '%zz=1',
  'a.b=1',
  'constructor=1',
  'a[constructor]=1',
  'a[prototype]=1',
  '0=a&1=b',
  'a[x][0]=1&a[y][0]=2',
  'a[0][b]=1&a[0][c]=2&a[1][b]=3',
  'content=%C3%A9t%C3%A9+%F0%9F%98%80',
]

/** Where we differ from qs on purpose: the body, what we give, and why. */
const DIFFERENCES: { body: string; ours: unknown; why: string }[] = [
  {
    body: 'a[0]=x&a[2]=y',
    ours: { a: { '0': 'x', '2': 'y' } },
    why: 'sparse indices: qs compacts them into ["x","y"], moving y from index 2 to 1; PHP and we keep the indices (as an object)',
  },
  {
    body: 'a[1]=only',
    ours: { a: { '1': 'only' } },
    why: 'same rule: a lone index 1 is not a list starting at 0',
  },
  {
    body: 'a[25]=x',
    ours: { a: { '25': 'x' } },
    why: 'same rule, whatever the index',
  },
  {
    body: 'a[5]=x&a[]=y',
    ours: { a: { '5': 'x', '6': 'y' } },
    why: 'PHP appends after the largest index (6); qs compacts and reorders into ["y","x"]',
  },
  {
    body: 'a[]=x&a[1]=y&a[]=z',
    ours: { a: ['x', 'y', 'z'] },
    why: 'appending continues after index 1 (PHP); qs gives ["x","z","y"]',
  },
  {
    body: 'a[][x]=1&a[][x]=2',
    ours: { a: [{ x: '1' }, { x: '2' }] },
    why: 'each [] appends a new element, as in PHP; qs merges both into one object and keeps the last x',
  },
  {
    body: 'a[][]=1',
    ours: { a: [['1']] },
    why: 'nested appends nest (PHP); qs flattens to ["1"]',
  },
  {
    body: 'a=1&a[b]=2',
    ours: { a: { b: '2' } },
    why: 'the later parameter replaces the earlier value (PHP); qs combines both into an array',
  },
  {
    body: 'a[b]=2&a=1',
    ours: { a: '1' },
    why: 'same rule the other way round',
  },
  {
    body: 'a[b=1',
    ours: { 'a[b': '1' },
    why: 'an unclosed first bracket makes the key a plain name; qs invents a segment "[b"',
  },
  {
    body: 'a[b][c=1',
    ours: { a: { b: '1' } },
    why: 'PHP ignores an unclosed later bracket and the rest of the key; qs keeps "[c" as a segment',
  },
  {
    body: 'a[b[c]]=1',
    ours: { a: { 'b[c': '1' } },
    why: 'PHP ends a segment at the first "]"; qs balances brackets',
  },
  {
    body: '[a]=y',
    ours: {},
    why: 'a key with an empty name is dropped (PHP); qs strips the brackets',
  },
  {
    body: 'v=%FF',
    ours: { v: '\uFFFD' },
    why: 'bytes that are no UTF-8 become U+FFFD like any UTF-8 decoder; qs returns the escape undecoded',
  },
  {
    body: '__proto__[x]=1',
    ours: { ['__proto__']: { x: '1' } },
    why: 'qs drops __proto__ keys; our objects have no prototype, so __proto__ is plain data and kept',
  },
  {
    body: 'a[__proto__][x]=1',
    ours: { a: { ['__proto__']: { x: '1' } } },
    why: 'same, nested',
  },
]

const ours = (body: string) => JSON.parse(JSON.stringify(parseForm(body)))
const theirs = (body: string) => JSON.parse(JSON.stringify(qs.parse(body, QS_OPTIONS)))

describe('parseForm agrees with qs', () => {
  test.each(SAME)('%s', (body) => {
    expect(ours(body)).toEqual(theirs(body))
  })
})

describe('parseForm differs from qs on purpose', () => {
  test.each(DIFFERENCES)('$body', ({ body, ours: expected }) => {
    const got = ours(body)
    expect(got).toEqual(expected)
    expect(got).not.toEqual(theirs(body))
  })
})
