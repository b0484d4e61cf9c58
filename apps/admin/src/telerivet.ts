/** @module Telerivet clients for the admin API: with a given key, or with a project's stored key. */
import type { projects } from '@telehook/db'
import { createTelerivetClient, type TelerivetClient } from '@telehook/telerivet-api'
import { readApiKey } from './api-keys'
import type { AdminContext } from './context'
import { DecryptError } from './crypto'
import { ApiError } from './errors'

/** A client using `apiKey` and the app's Telerivet settings. */
export function telerivetClient(ctx: AdminContext, apiKey: string): TelerivetClient {
  const { deps } = ctx
  return createTelerivetClient({
    apiKey,
    ...(deps.telerivetApiUrl ? { baseUrl: deps.telerivetApiUrl } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.telerivetTimeoutMs ? { timeoutMs: deps.telerivetTimeoutMs } : {}),
    ...(deps.telerivetRetries !== undefined ? { retries: deps.telerivetRetries } : {}),
  })
}

/** A client with the project's stored API key; 409 without one, 500 when it cannot be decrypted. */
export async function projectClient(
  ctx: AdminContext,
  p: typeof projects.$inferSelect,
): Promise<TelerivetClient> {
  if (!p.apiKeyCiphertext) {
    throw new ApiError(409, 'no_api_key', 'This project has no Telerivet API key stored')
  }
  let apiKey: string
  try {
    apiKey = await readApiKey(ctx.database, ctx.deps.masterKey, {
      id: p.id,
      apiKeyCiphertext: p.apiKeyCiphertext,
    })
  } catch (error) {
    if (!(error instanceof DecryptError)) throw error
    throw new ApiError(
      500,
      'master_key_mismatch',
      `The stored API key cannot be decrypted (${error.message}): TELEHOOK_MASTER_KEY (or the key file) changed`,
    )
  }
  return telerivetClient(ctx, apiKey)
}
