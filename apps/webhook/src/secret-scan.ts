/**
 * @module The top-level `secret` of a form body, found without parsing the whole body.
 *
 * Parsing a 256 KiB form costs milliseconds of CPU; finding `secret=` in it costs microseconds. The
 * secret is checked first, and only a body with the right one is parsed. Telerivet sends the name
 * unescaped (`secret=…`), so only that spelling is looked for; after the full parse the app checks
 * that the parsed `secret` is the very value that was checked (a later `s%65cret=` or `secret[]=`
 * makes the two differ, and the delivery is refused).
 */
import { parseForm } from '@telehook/protocol'

/**
 * The value of the last top-level `secret` parameter of `body` (the parser keeps the last of a
 * repeated key), decoded as the parser decodes it; null when there is none.
 * @example scanSecret('event=x&secret=a%2Bb&id=1') // 'a+b'
 */
export function scanSecret(body: string): string | null {
  let found = -1
  let at = body.indexOf('secret', 0)
  while (at !== -1) {
    const next = at + 6
    const starts = at === 0 || body.charCodeAt(at - 1) === 38 // '&'
    const ends =
      next === body.length || body.charCodeAt(next) === 61 || body.charCodeAt(next) === 38
    if (starts && ends) found = at
    at = body.indexOf('secret', next)
  }
  if (found === -1) return null
  const end = body.indexOf('&', found)
  const pair = end === -1 ? body.slice(found) : body.slice(found, end)
  const value = parseForm(pair).secret
  return typeof value === 'string' ? value : null
}
