/**
 * @module Failed admin tokens are limited per client address: after `max` failures within a window,
 * every request from that address is answered 429 until the window ends (the right token too, or
 * a guesser would learn from the difference). The client address comes from the server that
 * accepted the connection: {@link adminFetch} records it; a request handled in-process has none and
 * is not limited.
 */
import type { Server } from 'bun'

export interface AuthFailureLimit {
  /** Failed tokens allowed per address within `windowMs` (default 10). */
  max: number
  /** Length of the window in ms (default 60 000). */
  windowMs: number
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { max: 10, windowMs: 60_000 }

/** Addresses tracked at most; beyond it the oldest windows are dropped first. */
const MAX_ADDRESSES = 10_000

export interface AuthFailureLimiter {
  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string, now?: number): number
  /** Counts a failed token from `address`. */
  fail(address: string, now?: number): void
}

export function createAuthFailureLimiter(
  limit: AuthFailureLimit = DEFAULT_AUTH_FAILURE_LIMIT,
): AuthFailureLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>()
  return {
    retryAfter(address, now = Date.now()) {
      const w = windows.get(address)
      if (!w) return 0
      if (now >= w.endsAt) {
        windows.delete(address)
        return 0
      }
      return w.count >= limit.max ? Math.ceil((w.endsAt - now) / 1000) : 0
    },
    fail(address, now = Date.now()) {
      const w = windows.get(address)
      if (w && now < w.endsAt) {
        w.count++
        return
      }
      windows.delete(address)
      // Full: drop the oldest window. Every window has the same length and a new one is always
      // inserted last, so the Map's first entry is also the one that ends first.
      if (windows.size >= MAX_ADDRESSES) {
        const oldest = windows.keys().next()
        if (!oldest.done) windows.delete(oldest.value)
      }
      windows.set(address, { count: 1, endsAt: now + limit.windowMs })
    },
  }
}

const clientAddresses = new WeakMap<Request, string>()

/** The address of the client that sent `request`, when the server recorded it. */
export function clientAddress(request: Request): string | undefined {
  return clientAddresses.get(request)
}

/**
 * A `fetch` for `Bun.serve` that records each request's client address (for the per-address limit
 * on failed tokens), then hands the request to `app`.
 * @example
 * Bun.serve({ port: 8081, hostname: '127.0.0.1', fetch: adminFetch(createAdminApp(deps)) })
 */
export function adminFetch(app: {
  fetch: (request: Request) => Response | Promise<Response>
}): (request: Request, server: Server<unknown>) => Response | Promise<Response> {
  return (request, server) => {
    const address = server?.requestIP(request)?.address
    if (address) clientAddresses.set(request, address)
    return app.fetch(request)
  }
}
