/** @module Admin bearer tokens: the configured one and hashed ones in `admin_tokens`. */
import { adminTokens, type Database } from '@telehook/db'
import { generateSecret, sha256Hex, timingSafeEqual } from '@telehook/protocol'
import { eq } from 'drizzle-orm'

/** Prefix of generated tokens, so a leaked one is recognisable in a secret scanner. */
export const ADMIN_TOKEN_PREFIX = 'thk_'

/**
 * Creates an admin token for `telehook token create`: stores only its SHA-256 and returns the
 * token once.
 * @example
 * const { token } = await createAdminToken(database, 'ops laptop')
 */
export async function createAdminToken(
  database: Database,
  name: string,
): Promise<{ id: string; name: string; token: string }> {
  const token = `${ADMIN_TOKEN_PREFIX}${generateSecret(32)}`
  const id = `tok_${generateSecret(16)}`
  await database.db.insert(adminTokens).values({ id, name, tokenHash: await sha256Hex(token) })
  return { id, name, token }
}

/** Deletes a token by id; true when one was deleted. */
export async function revokeAdminToken(database: Database, id: string): Promise<boolean> {
  const rows = await database.db
    .delete(adminTokens)
    .where(eq(adminTokens.id, id))
    .returning({ id: adminTokens.id })
  return rows.length > 0
}

/** Reads the token of an `Authorization: Bearer …` header; null when absent or malformed. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m?.[1] ?? null
}

/**
 * Checks a presented token against the configured token (constant time) and the stored hashes.
 * Returns the token's name for logs, or null.
 */
export async function verifyAdminToken(
  database: Database,
  configured: string | undefined,
  presented: string | null,
): Promise<string | null> {
  if (!presented || presented.length > 512) return null
  const hash = await sha256Hex(presented)
  if (configured) {
    const enc = new TextEncoder()
    const want = enc.encode(await sha256Hex(configured))
    if (timingSafeEqual(enc.encode(hash), want)) return 'TELEHOOK_ADMIN_TOKEN'
  }
  // Lookup by hash: the database never sees the token, and hashing first removes timing signal.
  const [row] = await database.db
    .update(adminTokens)
    .set({ lastUsedAt: new Date() })
    .where(eq(adminTokens.tokenHash, hash))
    .returning({ name: adminTokens.name })
  return row ? row.name : null
}
