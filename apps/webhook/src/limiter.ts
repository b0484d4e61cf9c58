/**
 * @module Failed attempts per client address: a token bucket per address (IPv6 per /64), so that a
 * stranger who keeps failing (unknown endpoints, wrong secrets, refused bodies) is answered 429
 * before any work is done for them, while everyone else is served as usual.
 */

/** How many failures an address may make: a burst, then a steady rate. */
export interface FailureLimits {
  /** Failures allowed at once (default 30). */
  burst: number
  /** Failures allowed per minute once the burst is spent (default 60). */
  perMinute: number
  /** Most addresses tracked (default 50 000); past it the oldest is forgotten. */
  maxAddresses: number
}

export const DEFAULT_FAILURE_LIMITS: Readonly<FailureLimits> = Object.freeze({
  burst: 30,
  perMinute: 60,
  maxAddresses: 50_000,
})

/** The limiter of one app. */
export interface FailureLimiter {
  /** Seconds to wait when `address` has no failures left; null when it may go on. */
  retryAfter(address: string, now?: number): number | null
  /** Counts one failure of `address`; true when this one used its last allowance. */
  fail(address: string, now?: number): boolean
  /** Addresses currently tracked. */
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

/** The key an address is limited under: IPv4 as is, IPv6 by its /64 (one host holds a /64). */
export function addressKey(address: string): string {
  let a = address.toLowerCase()
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7)
  if (!a.includes(':')) return a
  const zone = a.indexOf('%')
  if (zone !== -1) a = a.slice(0, zone)
  const [head = '', tail] = a.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined
      ? left
      : [
          ...left,
          ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'),
          ...right,
        ]
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

/**
 * Creates a limiter. Buckets refill continuously; a full bucket is forgotten when the map is full.
 * @example
 * const limiter = createFailureLimiter()
 * const wait = limiter.retryAfter(ip); if (wait !== null) return tooMany(wait)
 */
export function createFailureLimiter(limits: Partial<FailureLimits> = {}): FailureLimiter {
  const { burst, perMinute, maxAddresses } = { ...DEFAULT_FAILURE_LIMITS, ...limits }
  const perMs = perMinute / 60_000
  const buckets = new Map<string, Bucket>()

  function current(key: string, now: number): Bucket | undefined {
    const bucket = buckets.get(key)
    if (!bucket) return undefined
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs)
    bucket.at = now
    return bucket
  }

  return {
    retryAfter(address, now = Date.now()) {
      const bucket = current(addressKey(address), now)
      if (!bucket || bucket.tokens >= 1) return null
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000))
    },
    fail(address, now = Date.now()) {
      const key = addressKey(address)
      let bucket = current(key, now)
      if (!bucket) {
        while (buckets.size >= maxAddresses) {
          const oldest = buckets.keys().next()
          if (oldest.done) break
          buckets.delete(oldest.value)
        }
        bucket = { tokens: burst, at: now }
        buckets.set(key, bucket)
      }
      const before = bucket.tokens
      bucket.tokens = Math.max(0, bucket.tokens - 1)
      return before >= 1 && bucket.tokens < 1
    },
    get size() {
      return buckets.size
    },
  }
}

/** Peer addresses recorded by the server for each request (the app has no socket of its own). */
const peers = new WeakMap<Request, string>()

/**
 * Records the peer address of `request` (done by startWebhookServer; the Deno entry or another
 * server can do the same). Requests without one are not rate-limited.
 */
export function rememberClientAddress(request: Request, address: string | null | undefined): void {
  if (address) peers.set(request, address)
}

/**
 * The client address of `request`: the peer, or, when the peer is one of `trustedProxies`, the
 * right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
 */
export function clientAddressOf(
  request: Request,
  trustedProxies: ReadonlySet<string>,
): string | null {
  const peer = peers.get(request) ?? null
  if (peer === null || !trustedProxies.has(peer)) return peer
  const forwarded = request.headers.get('x-forwarded-for')
  if (!forwarded) return peer
  const hops = forwarded.split(',').map((h) => h.trim())
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string
    if (hop !== '' && !trustedProxies.has(hop)) return hop.slice(0, 64)
  }
  return peer
}
