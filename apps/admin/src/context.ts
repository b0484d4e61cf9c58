/** @module What every admin feature module shares: the dependencies and a few helpers over them. */
import type { Database } from '@telehook/db'
import { type Engine, type Logger, silentLogger } from '@telehook/engine'
import type { Handlers } from '@telehook/protocol'
import type { AuthFailureLimit } from './auth-limit'

export interface AdminDeps {
  database: Database
  /** When given, its endpoint cache is invalidated after a rotation or a delete. */
  engine?: Engine
  /** Handlers re-run by `POST /v1/events/:id/replay`. */
  handlers?: Handlers
  /** Default https://api.telerivet.com/v1 (`TELERIVET_API_URL`). */
  telerivetApiUrl?: string
  /** `TELEHOOK_PUBLIC_URL`: where Telerivet reaches the webhook app. */
  publicUrl: string | undefined
  /** `TELEHOOK_ADMIN_TOKEN`; hashed tokens in `admin_tokens` are accepted as well. */
  adminToken?: string
  /** AES-GCM key for API keys at rest (see `loadMasterKey`). */
  masterKey: CryptoKey
  /** Used for every call to Telerivet (tests inject one). */
  fetch?: typeof fetch
  logger?: Logger
  /** Grace period of a rotated secret, default 10 minutes. */
  rotationGraceMs?: number
  /** Telerivet client settings. */
  telerivetTimeoutMs?: number
  telerivetRetries?: number
  /**
   * Host names (no port) the admin API answers; `'*'` (the default) takes any well-formed Host.
   * The servers that listen pass {@link defaultAllowedHosts} of their bind address.
   */
  allowedHosts?: readonly string[] | '*'
  /**
   * Prometheus text served at `GET /metrics` on the admin port (behind the token, like every
   * path but the public ones); without it the route does not exist. `telehook serve` passes the
   * webhook app's metrics.
   */
  metrics?: () => string | Promise<string>
  /** Failed tokens allowed per client address and window (default 10 a minute). */
  authFailureLimit?: AuthFailureLimit
  /** Longest wait for `database.ping()` in `GET /healthz` (default 2000 ms). */
  healthTimeoutMs?: number
  /** How often the console's live log looks for new events (default 1000 ms). */
  consoleLivePollMs?: number
  /**
   * Aborted when the process begins to stop: the console's live logs end then (their browsers
   * reconnect to whichever instance answers), so the HTTP drain does not wait for streams that
   * never end by themselves.
   */
  stopping?: AbortSignal
}

/** The dependencies as the modules use them (built once per admin app). */
export interface AdminContext {
  deps: AdminDeps
  database: Database
  db: Database['db']
  log: Logger
  /** `TELEHOOK_PUBLIC_URL` without trailing slashes. */
  publicUrl: string | undefined
  /** Grace period of a rotated secret in ms. */
  graceMs: number
  /** Where Telerivet delivers to for endpoint `id`. */
  hookUrl(id: string): string
  /** Drops `id` from the engine's endpoint cache (a no-op without an engine). */
  invalidate(id: string): void
}

const DEFAULT_GRACE_MS = 10 * 60_000

/** Builds the shared context of one admin app. */
export function createContext(deps: AdminDeps): AdminContext {
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '')
  return {
    deps,
    database: deps.database,
    db: deps.database.db,
    log: deps.logger ?? silentLogger,
    publicUrl,
    graceMs: deps.rotationGraceMs ?? DEFAULT_GRACE_MS,
    hookUrl: (id) => `${publicUrl}/hooks/${id}`,
    invalidate: (id) => deps.engine?.invalidateEndpoint(id),
  }
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)
