import { type Database, endpoints } from '@telehook/db'
import { generateSecret, hashSecret, verifySecret } from '@telehook/protocol'
import { eq, sql } from 'drizzle-orm'

/** An endpoint a delivery was authenticated for. */
export interface Endpoint {
  id: string
  kind: 'service' | 'project' | 'single'
  projectId: string | null
}

/** The id of the single-project endpoint (`POST /webhook`). */
export const SINGLE_ENDPOINT_ID = 'default'

export interface CreateEndpointInput {
  kind: Endpoint['kind']
  projectId?: string | null
  name?: string | null
  telerivetServiceId?: string | null
  /** Defaults to a fresh unguessable id (`generateSecret(16)`). */
  id?: string
  /** Stored as its SHA-256 only. */
  secret: string
}

/**
 * Creates an endpoint; only the hash of `secret` is stored.
 * @example const ep = await createEndpoint(database, { kind: 'project', projectId: 'PJ1', secret })
 */
export async function createEndpoint(
  database: Pick<Database, 'db'>,
  input: CreateEndpointInput,
): Promise<Endpoint> {
  const [row] = await database.db
    .insert(endpoints)
    .values({
      id: input.id ?? generateSecret(16),
      kind: input.kind,
      projectId: input.projectId ?? null,
      name: input.name ?? null,
      telerivetServiceId: input.telerivetServiceId ?? null,
      secretHash: await hashSecret(input.secret),
    })
    .returning({ id: endpoints.id, kind: endpoints.kind, projectId: endpoints.projectId })
  if (!row) throw new Error('endpoint insert returned nothing')
  return row
}

/**
 * Replaces an endpoint's secret; the old one stays valid for `graceMs` so deliveries already on
 * their way (and Telerivet's retries) still authenticate.
 */
export async function rotateEndpointSecret(
  database: Pick<Database, 'db'>,
  id: string,
  newSecret: string,
  graceMs: number,
): Promise<void> {
  const newHash = await hashSecret(newSecret)
  const updated = await database.db
    .update(endpoints)
    .set({
      previousSecretHash: sql`${endpoints.secretHash}`,
      previousSecretExpiresAt: new Date(Date.now() + Math.max(0, graceMs)),
      secretHash: newHash,
    })
    .where(eq(endpoints.id, id))
    .returning({ id: endpoints.id })
  if (updated.length === 0) throw new Error(`no endpoint ${id}`)
}

/**
 * Creates or updates the single-project endpoint (`id = 'default'`) so that `secret` is its
 * secret. A changed secret replaces the old one at once (the operator changed the configuration).
 */
export async function ensureSingleEndpoint(
  database: Pick<Database, 'db'>,
  secret: string,
): Promise<Endpoint> {
  const secretHash = await hashSecret(secret)
  const [row] = await database.db
    .insert(endpoints)
    .values({ id: SINGLE_ENDPOINT_ID, kind: 'single', secretHash })
    .onConflictDoUpdate({
      target: endpoints.id,
      set: {
        secretHash,
        previousSecretHash: null,
        previousSecretExpiresAt: null,
        disabledAt: null,
        updatedAt: new Date(),
      },
    })
    .returning({ id: endpoints.id, kind: endpoints.kind, projectId: endpoints.projectId })
  if (!row) throw new Error('endpoint upsert returned nothing')
  return row
}

interface CachedEndpoint {
  endpoint: Endpoint | null
  hashes: { hash: string; expiresAt: number }[]
  loadedAt: number
}

/** Most ids remembered; past it the cache starts over (a flood of made-up ids cannot grow it). */
const MAX_CACHED = 10_000

/**
 * A small TTL cache of endpoints and their secret hashes, and the secret check. A wrong secret, or
 * an unknown id, reaches the database at most once per `recheckMs` per id: a flood of bad
 * deliveries costs one query per second, not one per request. A secret rotated by another process
 * is therefore seen within `recheckMs` (the old one keeps working during its grace period).
 */
export function createEndpointAuthenticator(
  database: Pick<Database, 'db'>,
  ttlMs: number,
  recheckMs = 1000,
) {
  const cache = new Map<string, CachedEndpoint>()

  async function load(id: string): Promise<CachedEndpoint> {
    const [row] = await database.db.select().from(endpoints).where(eq(endpoints.id, id))
    const entry: CachedEndpoint = { endpoint: null, hashes: [], loadedAt: Date.now() }
    if (row && row.disabledAt === null) {
      entry.endpoint = { id: row.id, kind: row.kind, projectId: row.projectId }
      entry.hashes.push({ hash: row.secretHash, expiresAt: Number.POSITIVE_INFINITY })
      if (row.previousSecretHash && row.previousSecretExpiresAt) {
        entry.hashes.push({
          hash: row.previousSecretHash,
          expiresAt: row.previousSecretExpiresAt.getTime(),
        })
      }
    }
    if (cache.size >= MAX_CACHED) cache.clear()
    // Unknown ids are remembered only for `recheckMs`. Ids are unguessable: nobody posts to one
    // before it exists, so a freshly created endpoint still works at once.
    cache.set(id, entry)
    return entry
  }

  async function check(entry: CachedEndpoint, secret: string | undefined): Promise<boolean> {
    const now = Date.now()
    const live = entry.hashes.filter((h) => h.expiresAt > now).map((h) => h.hash)
    return entry.endpoint !== null && (await verifySecret(secret, live))
  }

  return {
    async authenticate(id: string, secret: string | undefined): Promise<Endpoint | null> {
      const cached = cache.get(id)
      if (cached) {
        const age = Date.now() - cached.loadedAt
        const fresh = age < (cached.endpoint ? ttlMs : Math.min(ttlMs, recheckMs))
        if (fresh) {
          if (await check(cached, secret)) return cached.endpoint
          // The secret may have been rotated by another process: look again, not too often.
          if (cached.endpoint === null || age < recheckMs) return null
        }
      }
      const loaded = await load(id)
      return (await check(loaded, secret)) ? loaded.endpoint : null
    },
    invalidate(id: string) {
      cache.delete(id)
    },
  }
}
