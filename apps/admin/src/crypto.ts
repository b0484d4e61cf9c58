/** @module AES-GCM encryption of Telerivet API keys at rest, and the master key that protects them. */
import { readOrCreateKeyFile } from '@telehook/db'
import { masterKeyProblem } from './config'

/** File name of the generated master key inside the data folder. */
export const MASTER_KEY_FILE = 'master.key'

const IV_BYTES = 12
/** What the first format bound each ciphertext to: its purpose only (still read, then rewritten). */
const LEGACY_AAD = new TextEncoder().encode('telehook:telerivet-api-key:v1')
/** Prefix of the current format: `v2.<key id>.<base64(iv ‖ ciphertext ‖ tag)>`. */
const V2 = 'v2'

/**
 * The associated data of a ciphertext: its purpose, the project it belongs to and the id of the
 * key that made it. A ciphertext copied onto another project's row, or read with another key, fails.
 */
function aad(projectId: string, keyId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`telehook:telerivet-api-key:v2\0${projectId}\0${keyId}`)
}

const keyIds = new WeakMap<CryptoKey, string>()

/**
 * The id of a master key: 16 hex digits of SHA-256 over a label and the key, the same on every
 * instance using that key. Stored beside each ciphertext, it tells which key made it.
 */
export function masterKeyId(key: CryptoKey): string {
  const id = keyIds.get(key)
  if (!id) throw new Error('a master key must be made by importMasterKey or loadMasterKey')
  return id
}

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
  const raw = fromBase64(base64Key.trim())
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  const label = new TextEncoder().encode('telehook master key id\0')
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new Uint8Array([...label, ...raw])),
  )
  keyIds.set(key, [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(''))
  return key
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

/**
 * Encrypts a project's Telerivet API key with a fresh random IV, bound to the project and the key's
 * id: `v2.<key id>.<base64(iv ‖ ciphertext ‖ tag)>`.
 */
export async function encryptSecret(
  key: CryptoKey,
  plaintext: string,
  projectId: string,
): Promise<string> {
  const keyId = masterKeyId(key)
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(projectId, keyId) },
      key,
      new TextEncoder().encode(plaintext),
    ),
  )
  const out = new Uint8Array(IV_BYTES + ct.length)
  out.set(iv)
  out.set(ct, IV_BYTES)
  return `${V2}.${keyId}.${toBase64(out)}`
}

/** Why a stored API key could not be decrypted. */
export class DecryptError extends Error {
  override readonly name = 'DecryptError'
  constructor(
    message: string,
    /** The id of the key that made the ciphertext (null for the first format, which has none). */
    readonly storedKeyId: string | null,
  ) {
    super(message)
  }
}

/** The key id written in a stored ciphertext; null for the first format. */
export function storedKeyId(stored: string): string | null {
  const parts = stored.split('.')
  return parts.length === 3 && parts[0] === V2 ? (parts[1] ?? null) : null
}

/** True for a ciphertext of the first format (constant associated data, no key id). */
export function isLegacyCiphertext(stored: string): boolean {
  return !stored.startsWith(`${V2}.`)
}

/**
 * Decrypts {@link encryptSecret}'s output for `projectId`; the first format (no project binding) is
 * read too, so keys stored before it keep working until they are rewritten. Throws
 * {@link DecryptError} when the key is another one, the ciphertext belongs to another project or
 * was altered.
 */
export async function decryptSecret(
  key: CryptoKey,
  stored: string,
  projectId: string,
): Promise<string> {
  const keyId = masterKeyId(key)
  const legacy = isLegacyCiphertext(stored)
  const madeBy = storedKeyId(stored)
  if (!legacy && madeBy !== keyId) {
    throw new DecryptError(
      `encrypted with master key ${madeBy}, the current one is ${keyId}`,
      madeBy,
    )
  }
  try {
    const bytes = fromBase64(legacy ? stored : stored.slice(stored.lastIndexOf('.') + 1))
    const plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: bytes.subarray(0, IV_BYTES),
        additionalData: legacy ? LEGACY_AAD : aad(projectId, keyId),
      },
      key,
      bytes.subarray(IV_BYTES),
    )
    return new TextDecoder().decode(plain)
  } catch {
    throw new DecryptError(
      legacy
        ? `not decryptable with master key ${keyId} (stored before key ids were recorded)`
        : `not decryptable for project ${projectId} (altered, or copied from another project)`,
      madeBy,
    )
  }
}
