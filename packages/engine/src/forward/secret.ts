/** @module Signing secrets of destinations: generated Standard Webhooks style, AES-GCM sealed at rest. */

const IV_BYTES = 12
// Binds each ciphertext to its purpose: a sealed signing secret cannot be passed off as another kind.
const AAD = new TextEncoder().encode('telehook:destination-signing-secret:v1')

/** Standard Webhooks' prefix of a base64 signing secret. */
export const SECRET_PREFIX = 'whsec_'

export function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
}

/**
 * A new signing secret: `whsec_` and the base64 of 32 random bytes, the form `standardwebhooks`'
 * `new Webhook(secret)` takes as it is.
 */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)))
}

/** Encrypts a signing secret with the master key; the result is base64(iv ‖ ciphertext ‖ tag). */
export async function sealSecret(key: CryptoKey, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: AAD },
      key,
      new TextEncoder().encode(secret),
    ),
  )
  const out = new Uint8Array(IV_BYTES + ct.length)
  out.set(iv)
  out.set(ct, IV_BYTES)
  return toBase64(out)
}

/** Decrypts {@link sealSecret}'s output; throws when the key is wrong or the data was altered. */
export async function openSecret(key: CryptoKey, sealed: string): Promise<string> {
  const bytes = fromBase64(sealed)
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: AAD },
    key,
    bytes.subarray(IV_BYTES),
  )
  return new TextDecoder().decode(plain)
}
