/** @module AES-GCM encryption of Telerivet API keys at rest, and the master key that protects them. */
import { readOrCreateKeyFile } from '@telehook/db'
import { masterKeyProblem } from './config'

/** File name of the generated master key inside the data folder. */
export const MASTER_KEY_FILE = 'master.key'

const IV_BYTES = 12
// Binds each ciphertext to its purpose, so a ciphertext cannot be replayed as another kind of secret.
const AAD = new TextEncoder().encode('telehook:telerivet-api-key:v1')

function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
}

/** Imports a base64 32-byte key as a non-extractable AES-GCM key. */
export async function importMasterKey(base64Key: string): Promise<CryptoKey> {
  const problem = masterKeyProblem(base64Key)
  if (problem) throw new Error(problem)
  return crypto.subtle.importKey('raw', fromBase64(base64Key.trim()), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ])
}

/**
 * The master key: `TELEHOOK_MASTER_KEY` when set, else `<dataDir>/master.key`, created on first use
 * with 32 random bytes and mode 0600. Keep that file (or the variable) with your backups: without
 * it the stored API keys cannot be decrypted.
 * @example
 * const masterKey = await loadMasterKey({ env: process.env, dataDir: '.telehook' })
 */
export async function loadMasterKey(opts: {
  env: Record<string, string | undefined>
  dataDir: string
}): Promise<CryptoKey> {
  const fromEnv = opts.env.TELEHOOK_MASTER_KEY?.trim()
  if (fromEnv) return importMasterKey(fromEnv)
  const kept = await readOrCreateKeyFile(opts.dataDir, MASTER_KEY_FILE, () =>
    toBase64(crypto.getRandomValues(new Uint8Array(32))),
  )
  return importMasterKey(kept.value)
}

/** Encrypts with a fresh random IV; the result is base64(iv ‖ ciphertext ‖ tag). */
export async function encryptSecret(key: CryptoKey, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: AAD },
      key,
      new TextEncoder().encode(plaintext),
    ),
  )
  const out = new Uint8Array(IV_BYTES + ct.length)
  out.set(iv)
  out.set(ct, IV_BYTES)
  return toBase64(out)
}

/** Decrypts {@link encryptSecret}'s output; throws when the key is wrong or the data was altered. */
export async function decryptSecret(key: CryptoKey, ciphertext: string): Promise<string> {
  const bytes = fromBase64(ciphertext)
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: AAD },
    key,
    bytes.subarray(IV_BYTES),
  )
  return new TextDecoder().decode(plain)
}
