/** @module ids — Telerivet-looking object ids (two-letter prefix + hex) from Web Crypto. */

/** Id prefixes Telerivet uses for each kind of object. */
export type IdPrefix = 'PJ' | 'SV' | 'PN' | 'CT' | 'SM' | 'BR' | 'DL' | 'GR' | 'LB' | 'OG'

/** A random id such as `SMa1b2c3d4e5f6a7b8` (18 chars, well under Telerivet's 34). */
export function newId(prefix: IdPrefix): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  let hex = ''
  for (const b of bytes) hex += b.toString(16).padStart(2, '0')
  return prefix + hex
}

/** A random API key: 32 url-safe characters, like the keys Telerivet issues. */
export function newApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')
}
