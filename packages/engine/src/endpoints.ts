import { type Database, endpoints } from '@telehook/db'
import { generateSecret, hashSecret, verifySecret } from '@telehook/protocol'
import { eq, isNull, sql } from 'drizzle-orm'

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
  if (input.id !== undefined && !isEndpointId(input.id)) {
    throw new RangeError(
      `endpoint id must match ${ENDPOINT_ID_PATTERN} (got ${JSON.stringify(input.id.slice(0, 80))})`,
    )
  }
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

/**
 * What Telehook's endpoint ids look like: `generateSecret(16)` (22 base64url characters), the
 * single-project `default`, or an id an operator chose in the same alphabet, at most 64 long.
 * Anything else (a NUL byte, a slash, 500 characters) cannot name an endpoint and is refused
 * without asking the database.
 */
export const ENDPOINT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** Whether `id` has the shape of an endpoint id (see {@link ENDPOINT_ID_PATTERN}). */
export function isEndpointId(id: string): boolean {
  return ENDPOINT_ID_PATTERN.test(id)
}

/** The answer of {@link EndpointAuthenticator.verify}: the endpoint, or why there is none. */
export type EndpointCheck =
  | { endpoint: Endpoint; reason: null }
  | { endpoint: null; reason: 'unknown_endpoint' | 'invalid_secret' }

interface CachedEndpoint {
  endpoint: Endpoint | null
  hashes: { hash: string; expiresAt: number }[]
  loadedAt: number
  /**
   * The last secret that matched one of `hashes`, until that hash expires: the next deliveries
   * are compared with it in constant time instead of being hashed again (hashing was ~5 % of the
   * webhook's CPU per delivery). It lives as long as this entry (`ttlMs`), no longer than the
   * secret already lives in every request body this process reads.
   */
  verified?: { secret: string; expiresAt: number }
}

/**
 * Compares a candidate with a known secret in time that depends only on the known secret's
 * length (every character is visited whatever differs, and a different length is a mismatch).
 */
function sameSecret(known: string, candidate: string): boolean {
  let diff = known.length ^ candidate.length
  for (let i = 0; i < known.length; i++) {
    // Past the candidate's end charCodeAt is NaN, which `^` reads as 0; the length differs then.
    diff |= known.charCodeAt(i) ^ candidate.charCodeAt(i)
  }
  return diff === 0
}

export interface EndpointCacheLimits {
  /** Most known endpoints remembered (default 10 000); the least recently loaded goes first. */
  maxHits?: number
  /** Most unknown ids remembered (default 10 000), kept apart so they never push out endpoints. */
  maxMisses?: number
  /**
   * Look-ups per second of ids in neither cache (default 20). Past it, only ids in the list of
   * enabled endpoints (read at most once per `recheckMs`) are looked up: a flood of made-up ids
   * costs this many look-ups and one read of the list per `recheckMs`, whatever their number.
   */
  coldLookupsPerSecond?: number
}

/** The endpoint cache and secret check built by {@link createEndpointAuthenticator}. */
export interface EndpointAuthenticator {
  /** The endpoint when `secret` matches its current (or unexpired previous) secret; else null. */
  authenticate(id: string, secret: string | undefined): Promise<Endpoint | null>
  /** The same check, saying whether the endpoint is unknown (or disabled) or the secret wrong. */
  verify(id: string, secret: string | undefined): Promise<EndpointCheck>
  /** Forgets what is cached about `id` (after a change made in this process). */
  invalidate(id: string): void
  /** Database look-ups made so far (for tests and benchmarks). */
  readonly lookups: number
}

/**
 * A failed look-up, saying why. Drizzle's error names the query that failed and keeps the reason
 * in its `cause`: the 503 that follows is logged with this message, which must name the reason
 * (the database unreachable, its disk turned read-only), as the disk drill checks.
 */
function lookupFailed(error: unknown): unknown {
  const cause = error instanceof Error ? error.cause : undefined
  return cause instanceof Error
    ? new Error(`endpoint look-up failed: ${cause.message}`, { cause: error })
    : error
}

const UNKNOWN: EndpointCheck = { endpoint: null, reason: 'unknown_endpoint' }
const WRONG: EndpointCheck = { endpoint: null, reason: 'invalid_secret' }

/** Deletes the oldest entries of `map` until it has room for one more. */
function makeRoom(map: Map<string, unknown>, max: number): void {
  while (map.size >= max) {
    const oldest = map.keys().next()
    if (oldest.done) return
    map.delete(oldest.value)
  }
}

/**
 * A small TTL cache of endpoints and their secret hashes, and the secret check.
 *
 * - An id that is not of Telehook's shape ({@link isEndpointId}) is unknown without a query.
 * - Concurrent checks of one id share one database look-up.
 * - Known endpoints and unknown ids are cached in two separate bounded maps: a flood of made-up
 *   ids fills only the second, and cannot push the real endpoints out of the first.
 * - A wrong secret, or an unknown id, reaches the database at most once per `recheckMs` per id.
 * - Ids in neither cache are looked up within a budget per second; past it, the ids of all
 *   enabled endpoints are read (at most once per `recheckMs`) and only ids in that list are
 *   looked up: a flood of distinct made-up ids cannot turn into one query each, nor keep valid
 *   endpoints from being looked up.
 *
 * The cache is per process: an endpoint disabled, or a secret rotated, by another instance is
 * seen here within `ttlMs` (the process that made the change calls `invalidate` and sees it at
 * once). A rotated secret is also looked up again on the first wrong-secret attempt after
 * `recheckMs`.
 */
export function createEndpointAuthenticator(
  database: Pick<Database, 'db'>,
  ttlMs: number,
  recheckMs = 1000,
  limits: EndpointCacheLimits = {},
): EndpointAuthenticator {
  const maxHits = limits.maxHits ?? 10_000
  const maxMisses = limits.maxMisses ?? 10_000
  const hits = new Map<string, CachedEndpoint>()
  /** Unknown (or disabled) ids and when they were looked up. */
  const misses = new Map<string, number>()
  const inflight = new Map<string, Promise<CachedEndpoint>>()
  let lookups = 0
  const coldPerSecond = limits.coldLookupsPerSecond ?? 20
  let cold = { tokens: coldPerSecond, at: Date.now() }
  let known: { ids: Set<string>; at: number } | null = null
  let reading: Promise<Set<string>> | null = null

  /** The ids of every enabled endpoint, read again when older than `recheckMs`. */
  function knownIds(now: number): { ids: Set<string> } | Promise<Set<string>> {
    if (known && now - known.at < recheckMs) return { ids: known.ids }
    reading ??= (async () => {
      lookups += 1
      const rows = await database.db
        .select({ id: endpoints.id })
        .from(endpoints)
        .where(isNull(endpoints.disabledAt))
        .catch((error: unknown) => {
          throw lookupFailed(error)
        })
      known = { ids: new Set(rows.map((r) => r.id)), at: Date.now() }
      return known.ids
    })().finally(() => {
      reading = null
    })
    return reading
  }

  /** One look-up of an id in neither cache, if the budget allows. */
  function takeCold(now: number): boolean {
    cold = {
      tokens: Math.min(coldPerSecond, cold.tokens + ((now - cold.at) / 1000) * coldPerSecond),
      at: now,
    }
    if (cold.tokens < 1) return false
    cold.tokens -= 1
    return true
  }

  async function query(id: string): Promise<CachedEndpoint> {
    lookups += 1
    const [row] = await database.db
      .select()
      .from(endpoints)
      .where(eq(endpoints.id, id))
      .catch((error: unknown) => {
        throw lookupFailed(error)
      })
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
    hits.delete(id)
    misses.delete(id)
    if (entry.endpoint) {
      makeRoom(hits, maxHits)
      hits.set(id, entry)
    } else {
      // Unknown ids are remembered only for `recheckMs`. Ids are unguessable: nobody posts to
      // one before it exists, so a freshly created endpoint still works at once.
      makeRoom(misses, maxMisses)
      misses.set(id, entry.loadedAt)
    }
    return entry
  }

  function load(id: string): Promise<CachedEndpoint> {
    const running = inflight.get(id)
    if (running) return running
    const started = query(id).finally(() => inflight.delete(id))
    inflight.set(id, started)
    return started
  }

  async function check(entry: CachedEndpoint, secret: string | undefined): Promise<EndpointCheck> {
    if (entry.endpoint === null) return UNKNOWN
    const now = Date.now()
    const known = entry.verified
    if (
      known &&
      known.expiresAt > now &&
      typeof secret === 'string' &&
      sameSecret(known.secret, secret)
    ) {
      return { endpoint: entry.endpoint, reason: null }
    }
    const live = entry.hashes.filter((h) => h.expiresAt > now)
    if (
      !(await verifySecret(
        secret,
        live.map((h) => h.hash),
      ))
    )
      return WRONG
    // Which hash matched decides how long the secret is remembered (a rotated-out one expires).
    const hash = await hashSecret(secret as string)
    const matched = live.find((h) => h.hash.toLowerCase() === hash)
    if (matched) entry.verified = { secret: secret as string, expiresAt: matched.expiresAt }
    return { endpoint: entry.endpoint, reason: null }
  }

  async function verify(id: string, secret: string | undefined): Promise<EndpointCheck> {
    if (!isEndpointId(id)) return UNKNOWN
    const now = Date.now()
    const hit = hits.get(id)
    if (hit && now - hit.loadedAt < ttlMs) {
      const result = await check(hit, secret)
      // On a wrong secret, the secret may have been rotated by another process: look again,
      // not too often.
      if (result.endpoint || now - hit.loadedAt < recheckMs) return result
    } else {
      const missedAt = misses.get(id)
      if (missedAt !== undefined && now - missedAt < Math.min(ttlMs, recheckMs)) return UNKNOWN
      // A cold id is looked up within a budget per second; past it (a flood of made-up ids),
      // only if it is in the list of endpoint ids, read at most once per `recheckMs`.
      if (!hit && !inflight.has(id) && !takeCold(now)) {
        const list = knownIds(now)
        const ids = list instanceof Promise ? await list : list.ids
        if (!ids.has(id)) return UNKNOWN
      }
    }
    return check(await load(id), secret)
  }

  return {
    verify,
    async authenticate(id, secret) {
      return (await verify(id, secret)).endpoint
    },
    invalidate(id: string) {
      hits.delete(id)
      misses.delete(id)
      known = null
    },
    get lookups() {
      return lookups
    },
  }
}
