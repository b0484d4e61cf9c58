/**
 * @module The Telerivet API keys stored per project: read (with the first storage format rewritten
 * to the current one on the way) and checked at start-up against the master key.
 */
import { type Database, projects } from '@telehook/db'
import { and, eq, isNotNull } from 'drizzle-orm'
import {
  DecryptError,
  decryptSecret,
  encryptSecret,
  isLegacyCiphertext,
  masterKeyId,
} from './crypto'

/**
 * Decrypts a project's stored API key. A key stored in the first format (not bound to its project)
 * is rewritten in the current one, once: only when the row still holds what was read.
 * Throws {@link DecryptError} when the master key cannot decrypt it.
 */
export async function readApiKey(
  database: Database,
  masterKey: CryptoKey,
  project: { id: string; apiKeyCiphertext: string },
): Promise<string> {
  const apiKey = await decryptSecret(masterKey, project.apiKeyCiphertext, project.id)
  if (isLegacyCiphertext(project.apiKeyCiphertext)) {
    await database.db
      .update(projects)
      .set({ apiKeyCiphertext: await encryptSecret(masterKey, apiKey, project.id) })
      .where(
        and(eq(projects.id, project.id), eq(projects.apiKeyCiphertext, project.apiKeyCiphertext)),
      )
  }
  return apiKey
}

export interface StoredKeysReport {
  /** The current master key's id. */
  keyId: string
  /** Projects with a stored API key. */
  checked: number
  /** Keys rewritten from the first format. */
  migrated: number
  /** Projects whose key this master key cannot decrypt, with the id of the key that made it. */
  failed: { projectId: string; storedKeyId: string | null }[]
  /** One line saying what is wrong and what to do; null when every key decrypts. */
  problem: string | null
}

/**
 * Checks at start-up that the master key decrypts every stored API key (and rewrites those of the
 * first format), so a changed or lost key is one clear line instead of a later 500.
 * @example
 * const report = await verifyStoredApiKeys(database, masterKey)
 * if (report.problem) { console.error(report.problem); process.exit(1) }
 */
export async function verifyStoredApiKeys(
  database: Database,
  masterKey: CryptoKey,
): Promise<StoredKeysReport> {
  const keyId = masterKeyId(masterKey)
  const rows = await database.db
    .select({ id: projects.id, apiKeyCiphertext: projects.apiKeyCiphertext })
    .from(projects)
    .where(isNotNull(projects.apiKeyCiphertext))
  let migrated = 0
  const failed: StoredKeysReport['failed'] = []
  for (const row of rows) {
    const stored = row.apiKeyCiphertext ?? ''
    try {
      await readApiKey(database, masterKey, { id: row.id, apiKeyCiphertext: stored })
      if (isLegacyCiphertext(stored)) migrated++
    } catch (error) {
      if (!(error instanceof DecryptError)) throw error
      failed.push({ projectId: row.id, storedKeyId: error.storedKeyId })
    }
  }
  let problem: string | null = null
  if (failed.length > 0) {
    const ids = failed.map((f) => f.projectId)
    const shown =
      ids.length > 5 ? `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more` : ids.join(', ')
    const madeBy = [...new Set(failed.map((f) => f.storedKeyId).filter((k) => k !== null))]
    problem =
      `The master key (TELEHOOK_MASTER_KEY, or master.key in the data folder; key id ${keyId}) ` +
      `cannot decrypt the Telerivet API keys stored for ${failed.length} project(s): ${shown}` +
      (madeBy.length > 0 ? ` (they were encrypted with key id ${madeBy.join(', ')})` : '') +
      '. Start with the key they were made with, or onboard those projects again (POST /v1/projects).'
  }
  return { keyId, checked: rows.length, migrated, failed, problem }
}
