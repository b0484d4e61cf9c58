/**
 * @module secret
 * Webhook secrets over Web Crypto: only SHA-256 hashes are stored, and a candidate is compared
 * against them in constant time.
 */

const encoder = new TextEncoder()

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

function toHex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] as number]
  return s
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of `input`. */
export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(input))
  return toHex(new Uint8Array(digest))
}

/** The form in which a webhook secret is stored: its SHA-256, hex. */
export function hashSecret(secret: string): Promise<string> {
  return sha256Hex(secret)
}

/**
 * Compares two byte arrays in time that depends only on their length. Lengths are not secret
 * here (they are those of fixed-size digests), so unequal lengths return false at once.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/**
 * True when `candidate` hashes to one of `storedHashes` (e.g. the current secret and, during a
 * rotation, the previous one). Every hash is compared, whatever matches first, and a missing
 * candidate does the same work, so timing tells nothing about which or whether one matched.
 */
export async function verifySecret(
  candidate: string | undefined | null,
  storedHashes: readonly string[],
): Promise<boolean> {
  const present = typeof candidate === 'string' && candidate.length > 0
  const digest = encoder.encode(await sha256Hex(present ? candidate : ''))
  let match = false
  for (const stored of storedHashes) {
    const eq = timingSafeEqual(digest, encoder.encode(stored.toLowerCase()))
    match = match || eq
  }
  return present && match
}

/**
 * A new random secret of `bytes` random bytes (default 24 = 192 bits, at least 16 = 128 bits),
 * base64url without padding, so it fits in URLs and form fields unescaped.
 */
export function generateSecret(bytes = 24): string {
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 1024) {
    throw new RangeError('generateSecret: bytes must be an integer from 16 to 1024')
  }
  const raw = crypto.getRandomValues(new Uint8Array(bytes))
  let bin = ''
  for (const b of raw) bin += String.fromCharCode(b)
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}
