/**
 * @module form
 * The `application/x-www-form-urlencoded` codec Telerivet's webhooks use, with PHP's bracket
 * convention (`contact[vars][foo]`, `media[0][url]`, `label_ids[]`).
 *
 * Rules of {@link parseForm} (each one is pinned by a test in `form.test.ts`):
 * - Pairs are separated by `&` only (not `;`); empty pairs (`a=1&&b=2`) are skipped. A pair without
 *   `=` has the empty string as its value (`flag` -> `{ flag: '' }`).
 * - `+` is a space; `%XX` is a byte and the bytes are read as UTF-8 (invalid sequences become U+FFFD).
 *   A malformed escape (`%`, `%4`, `%zz`) is kept literally, as PHP's `urldecode` does. Keys and
 *   values are decoded before the key's brackets are read, so `a%5Bb%5D=1` is `a[b]=1`, as in PHP.
 * - A repeated key keeps the last value (PHP), it does not collect values into an array.
 * - `a[b][c]=1` nests objects; `a[]=x` appends at the next index (one past the largest integer
 *   index so far, as PHP does).
 * - A container becomes an array only when its keys are exactly `0..n-1` (in any order of arrival).
 *   Sparse indices (`a[0]=x&a[2]=y`) and mixed index/name keys (`a[0]=x&a[b]=y`) give an object
 *   with string keys, so no value is lost or moved (this is what PHP's `json_encode` gives). Only
 *   canonical integers are indices: `01`, `-1`, ` 1`, `1.0` are names.
 * - The top level is always an object, whatever its keys.
 * - A key that starts with `[` or is empty (`=x`, `[a]=x`) is dropped, as PHP drops it.
 * - Brackets: a segment runs to the first `]` (`a[b[c]]=1` is `a` -> `b[c`); text after a closing
 *   `]` that does not open a new segment is ignored (`a[b]x=1` is `a[b]=1`), and so is an unclosed
 *   `[` after at least one segment (`a[b][c=1` is `a[b]=1`), both as in PHP. An unclosed first
 *   bracket makes the whole key a plain name (`a[b=1` -> `{ 'a[b': '1' }`; PHP would say `a_b`).
 * - Names are not mangled: PHP turns `.` and spaces in the top-level name into `_`; we keep them.
 * - When a name is used both as a value and as a container, the later parameter wins
 *   (`a=1&a[b]=2` -> `{ a: { b: '2' } }`, `a[b]=2&a=1` -> `{ a: '1' }`), as in PHP.
 * - Every object is created with a null prototype, so `__proto__`, `constructor` and `prototype`
 *   are ordinary keys and never reach `Object.prototype`.
 * - Bounds ({@link DEFAULT_FORM_LIMITS}): more than `maxParams` pairs, more than `maxDepth` bracket
 *   segments in one key, or a decoded key longer than `maxKeyLength` throw a {@link FormError}
 *   (PHP silently truncates instead; a webhook should rather refuse the request cleanly).
 *   Nothing else throws.
 */

/** A parsed form value: a string, or nested arrays and objects of strings. */
export type FormValue = string | FormValue[] | FormObject

/** A parsed form object. Always created with a null prototype. */
export interface FormObject {
  [key: string]: FormValue
}

/** Hard bounds applied by {@link parseForm}. */
export interface FormLimits {
  /** Maximum number of `name=value` pairs in a body (exceeding it: `too_many_params`, 413). */
  maxParams: number
  /** Maximum number of bracket segments in one key (`a[b][c]` has 2; exceeding it: `too_deep`). */
  maxDepth: number
  /** Maximum length of one decoded key in UTF-16 units (exceeding it: `key_too_long`). */
  maxKeyLength: number
}

/**
 * Default bounds: generous for Telerivet (a message with many custom variables and media stays far
 * below them) yet small enough that a hostile body cannot make the parser do unbounded work.
 */
export const DEFAULT_FORM_LIMITS: Readonly<FormLimits> = Object.freeze({
  maxParams: 10000,
  maxDepth: 16,
  maxKeyLength: 1024,
})

/** Why a body was refused by {@link parseForm}. */
export type FormErrorCode = 'too_many_params' | 'too_deep' | 'key_too_long'

/** The only error {@link parseForm} throws: a body beyond the {@link FormLimits}. */
export class FormError extends Error {
  readonly code: FormErrorCode
  /** The HTTP status to answer with: 413 for too many parameters, 400 otherwise. */
  readonly status: 400 | 413

  constructor(code: FormErrorCode, message: string) {
    super(message)
    this.name = 'FormError'
    this.code = code
    this.status = code === 'too_many_params' ? 413 : 400
  }
}

type Container = FormObject

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

/** Decodes a run of `%XX` escapes of bytes >= 0x80 starting at `i`; returns [text, end]. */
function decodeHighBytes(s: string, i: number): [string, number] {
  const bytes: number[] = []
  while (i + 2 < s.length && s.charCodeAt(i) === 37) {
    const hi = hexValue(s.charCodeAt(i + 1))
    const lo = hexValue(s.charCodeAt(i + 2))
    if (hi < 8 || lo < 0) break
    bytes.push(hi * 16 + lo)
    i += 3
  }
  return [decoder.decode(new Uint8Array(bytes)), i]
}

/**
 * Decodes one key or value: `+` is a space, `%XX` a byte, runs of bytes read as UTF-8 (invalid
 * sequences become U+FFFD), malformed escapes kept literally. Written over the string because
 * `decodeURIComponent` is the slowest part of parsing and throws on malformed input.
 */
function decodeComponent(s: string): string {
  const plus = s.indexOf('+') !== -1
  let i = s.indexOf('%')
  if (i === -1) return plus ? s.replaceAll('+', ' ') : s
  let out = ''
  let last = 0
  const n = s.length
  while (i !== -1) {
    const hi = i + 2 < n ? hexValue(s.charCodeAt(i + 1)) : -1
    const lo = hi < 0 ? -1 : hexValue(s.charCodeAt(i + 2))
    if (lo < 0) {
      i = s.indexOf('%', i + 1)
      continue
    }
    const literal = s.slice(last, i)
    out += plus ? literal.replaceAll('+', ' ') : literal
    if (hi < 8) {
      out += String.fromCharCode(hi * 16 + lo)
      last = i + 3
    } else {
      const [text, end] = decodeHighBytes(s, i)
      out += text
      last = end
    }
    i = s.indexOf('%', last)
  }
  const rest = s.slice(last)
  return out + (plus ? rest.replaceAll('+', ' ') : rest)
}

/** True when `s` is a canonical non-negative integer (no sign, no leading zero) below 2^31. */
function isIndex(s: string): boolean {
  const n = s.length
  if (n === 0 || n > 10) return false
  const c0 = s.charCodeAt(0)
  if (c0 === 48) return n === 1
  if (c0 < 49 || c0 > 57) return false
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return n < 10 || Number(s) < 2147483647
}

function newObject(): FormObject {
  return Object.create(null) as FormObject
}

/**
 * Splits a decoded key into its name and bracket segments. Returns null when the key is dropped.
 */
function splitKey(key: string, maxDepth: number): string[] | null {
  const open = key.indexOf('[')
  if (open === -1) return key.length === 0 ? null : [key]
  if (open === 0) return null
  const first = key.indexOf(']', open + 1)
  if (first === -1) return [key]
  if (maxDepth < 1) throw new FormError('too_deep', `form key nests deeper than ${maxDepth} levels`)
  const parts = [key.slice(0, open), key.slice(open + 1, first)]
  let pos = first + 1
  while (pos < key.length && key.charCodeAt(pos) === 91 /* [ */) {
    const close = key.indexOf(']', pos + 1)
    if (close === -1) break
    // parts holds the name and (parts.length - 1) segments; this one would be one more.
    if (parts.length > maxDepth) {
      throw new FormError('too_deep', `form key nests deeper than ${maxDepth} levels`)
    }
    parts.push(key.slice(pos + 1, close))
    pos = close + 1
  }
  return parts
}

/**
 * Assigns `value` at the path `parts` under `root`. `nextIndex` caches, per container that has seen
 * an `[]` append, one past its largest integer index.
 */
function assign(
  root: Container,
  parts: string[],
  value: string,
  nextIndex: Map<Container, number>,
): void {
  let node = root
  const last = parts.length - 1
  for (let d = 0; d <= last; d++) {
    let seg = parts[d] as string
    if (d > 0) {
      if (seg === '') {
        let next = nextIndex.get(node)
        if (next === undefined) {
          next = 0
          for (const k in node) if (isIndex(k) && Number(k) >= next) next = Number(k) + 1
        }
        seg = String(next)
        nextIndex.set(node, next + 1)
      } else if (nextIndex.size > 0 && isIndex(seg)) {
        const next = nextIndex.get(node)
        if (next !== undefined && Number(seg) >= next) nextIndex.set(node, Number(seg) + 1)
      }
    }
    if (d === last) {
      node[seg] = value
      return
    }
    const child = node[seg]
    if (typeof child === 'object') {
      node = child as Container
    } else {
      const created = newObject()
      node[seg] = created
      node = created
    }
  }
}

/** Turns containers whose keys are exactly `0..n-1` into arrays, depth first. */
function finalize(obj: Container, isRoot: boolean): FormValue {
  let arrayLike = !isRoot
  let n = 0
  for (const k in obj) {
    const v = obj[k] as FormValue
    if (typeof v === 'object') obj[k] = finalize(v as Container, false)
    // Integer keys enumerate first and ascending, so `0..n-1` shows up as keys[i] === String(i).
    if (arrayLike && k !== String(n)) arrayLike = false
    n++
  }
  if (!arrayLike) return obj
  const arr: FormValue[] = new Array(n)
  for (let i = 0; i < n; i++) arr[i] = obj[i] as FormValue
  return arr
}

/**
 * Parses an `application/x-www-form-urlencoded` body into nested null-prototype objects and arrays,
 * PHP style (see the module documentation for every rule).
 *
 * @throws {FormError} only, and only when a bound of `limits` is exceeded.
 * @example
 * parseForm('event=incoming_message&contact[vars][age]=31&media[0][url]=https%3A%2F%2Fx')
 * // { event: 'incoming_message', contact: { vars: { age: '31' } }, media: [{ url: 'https://x' }] }
 */
export function parseForm(body: string, limits?: Partial<FormLimits>): FormObject {
  const maxParams = limits?.maxParams ?? DEFAULT_FORM_LIMITS.maxParams
  const maxDepth = limits?.maxDepth ?? DEFAULT_FORM_LIMITS.maxDepth
  const maxKeyLength = limits?.maxKeyLength ?? DEFAULT_FORM_LIMITS.maxKeyLength
  const root = newObject()
  const nextIndex = new Map<Container, number>()
  let nested = false
  let count = 0
  let pos = 0
  const len = body.length
  while (pos < len) {
    let amp = body.indexOf('&', pos)
    if (amp === -1) amp = len
    if (amp === pos) {
      pos++
      continue
    }
    if (++count > maxParams) {
      throw new FormError('too_many_params', `form has more than ${maxParams} parameters`)
    }
    let eq = body.indexOf('=', pos)
    if (eq === -1 || eq > amp) eq = amp
    const key = decodeComponent(body.slice(pos, eq))
    const value = eq < amp ? decodeComponent(body.slice(eq + 1, amp)) : ''
    pos = amp + 1
    if (key.length > maxKeyLength) {
      throw new FormError('key_too_long', `form key longer than ${maxKeyLength} characters`)
    }
    if (key.indexOf('[') === -1) {
      if (key.length > 0) root[key] = value
      continue
    }
    const parts = splitKey(key, maxDepth)
    if (parts === null) continue
    if (parts.length === 1) {
      root[parts[0] as string] = value
      continue
    }
    nested = true
    assign(root, parts, value, nextIndex)
  }
  if (nested) finalize(root, true)
  return root
}

const FORM_SAFE = /[!'()*~]/g

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

function encodeComponent(s: string): string {
  let encoded: string
  try {
    encoded = encodeURIComponent(s)
  } catch {
    // A lone surrogate cannot be UTF-8 encoded; send U+FFFD as a decoder would read it.
    encoded = encodeURIComponent(s.replace(LONE_SURROGATE, '\uFFFD'))
  }
  // Like PHP's urlencode (what http_build_query uses): space as `+`, brackets escaped.
  return encoded
    .replace(FORM_SAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')
}

function scalarToString(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v
    case 'boolean':
      return v ? '1' : '0'
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined
    case 'bigint':
      return v.toString()
    default:
      return undefined
  }
}

function encodeInto(out: string[], prefix: string, v: unknown): void {
  if (v === null || v === undefined) return
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) encodeInto(out, `${prefix}[${i}]`, v[i])
    return
  }
  if (v instanceof Date) {
    encodeInto(out, prefix, Math.floor(v.getTime() / 1000))
    return
  }
  if (typeof v === 'object') {
    for (const k of Object.keys(v)) encodeInto(out, `${prefix}[${k}]`, (v as FormObject)[k])
    return
  }
  const s = scalarToString(v)
  if (s !== undefined) out.push(`${encodeComponent(prefix)}=${encodeComponent(s)}`)
}

/**
 * Encodes an object the way Telerivet does (PHP's `http_build_query`): nested objects and arrays as
 * bracket keys with numeric indices, booleans as `1`/`0`, numbers as decimal strings, `Date` as a
 * UNIX timestamp; `null`, `undefined`, functions, symbols and non-finite numbers are left out, and
 * so are empty arrays and objects.
 *
 * @example
 * encodeForm({ event: 'send_status', starred: true, label_ids: ['LB1'] })
 * // 'event=send_status&starred=1&label_ids%5B0%5D=LB1'
 */
export function encodeForm(obj: Record<string, unknown>): string {
  const out: string[] = []
  for (const k of Object.keys(obj)) encodeInto(out, k, obj[k])
  return out.join('&')
}
