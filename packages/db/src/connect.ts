/**
 * @module The first connection to PostgreSQL, bounded in time and explained in words. postgres.js
 * alone reconnects for ever to a server that closes without answering (an HTTP server on that
 * port does), so start-up would hang without a line; here the first connection has a deadline,
 * a signal stops it at once, and a failure says why (refused, unknown host, not PostgreSQL, wrong
 * password, missing database).
 */
import { connect as tcpConnect } from 'node:net'

/** The database could not be reached at start-up; `message` names the URL (password hidden) and why. */
export class DatabaseConnectError extends Error {
  override name = 'DatabaseConnectError'
  constructor(
    /** The URL with its password replaced by `***`. */
    readonly url: string,
    /** Why, in words: `connection refused by 127.0.0.1:5432 (is PostgreSQL running there?)`. */
    readonly reason: string,
  ) {
    super(`cannot connect to ${url}: ${reason}`)
  }
}

/** Start-up was stopped by a signal (or another abort) before the database was open. */
export class StartupAbortedError extends Error {
  override name = 'StartupAbortedError'
  constructor(readonly reason: unknown) {
    super(`start-up stopped${typeof reason === 'string' ? ` by ${reason}` : ''}`)
  }
}

/** One failed attempt while waiting for PostgreSQL (`waitMs` > 0). */
export interface ConnectRetry {
  attempt: number
  reason: string
  /** Milliseconds until the next attempt. */
  retryInMs: number
  /** The URL, password hidden. */
  url: string
}

export interface ConnectOptions {
  /** Bound of one connection attempt, in milliseconds (default 10 000). */
  connectTimeoutMs?: number
  /** Keep retrying (backoff 0.5 s doubling up to 5 s) for this long before giving up (default 0: one attempt). */
  waitMs?: number
  /** Aborting it stops start-up at once, with a {@link StartupAbortedError}. */
  signal?: AbortSignal
  /** Called once per failed attempt that will be retried. */
  onRetry?: (retry: ConnectRetry) => void
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/**
 * The URL with its password hidden, for messages and logs.
 * @example redactUrl('postgres://app:s3cret@db/telehook') // 'postgres://app:***@db/telehook'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    for (const key of [...parsed.searchParams.keys()]) {
      if (key.toLowerCase() === 'password') parsed.searchParams.set(key, '***')
    }
    return parsed.toString()
  } catch {
    // Not a WHATWG URL (several hosts…): hide whatever sits between the user and the host.
    return url.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@')
  }
}

function abortError(signal: AbortSignal): StartupAbortedError {
  return new StartupAbortedError(signal.reason)
}

/** Rejects with a StartupAbortedError as soon as `signal` aborts, or with `onTimeout()` after `ms`. */
export function bounded<T>(
  work: Promise<T>,
  ms: number | null,
  onTimeout: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(signal))
  return new Promise<T>((resolve, reject) => {
    const timer = ms === null ? undefined : setTimeout(() => finish(() => reject(onTimeout())), ms)
    const onAbort = () => finish(() => reject(abortError(signal as AbortSignal)))
    signal?.addEventListener('abort', onAbort, { once: true })
    function finish(then: () => void) {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      then()
    }
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    )
  })
}

/** A plain TCP address, when the URL names exactly one (no socket path, no host list). */
function tcpAddress(url: string): { host: string; port: number } | null {
  try {
    const parsed = new URL(url)
    if (!parsed.hostname || parsed.searchParams.has('host')) return null
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
    return { host, port: parsed.port ? Number(parsed.port) : 5432 }
  } catch {
    return null
  }
}

const SSL_REQUEST = new Uint8Array([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/**
 * Asks the server at `host:port` whether it speaks PostgreSQL: a PostgreSQL server answers the
 * 8-byte SSLRequest with one byte, `S` or `N`. Resolves to null when it does, else the reason.
 */
export function probePostgres(
  address: { host: string; port: number },
  timeoutMs: number,
): Promise<string | null> {
  const where = `${address.host}:${address.port}`
  return new Promise((resolve) => {
    let settled = false
    const socket = tcpConnect({ host: address.host, port: address.port })
    const done = (reason: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(reason)
    }
    const timer = setTimeout(
      () => done(`no answer from ${where} within ${seconds(timeoutMs)}`),
      timeoutMs,
    )
    socket.once('connect', () => socket.write(SSL_REQUEST))
    socket.once('data', (chunk: Buffer) => {
      const first = chunk[0]
      // 'S'/'N' answer the SSLRequest; 'E' is a (pre-9.x) server's error for it.
      if (first === 0x53 || first === 0x4e || first === 0x45) return done(null)
      const text =
        chunk
          .toString('latin1')
          .split(/\r?\n/)[0]
          ?.replace(/[^\x20-\x7e]/g, '?') ?? ''
      done(
        `the server at ${where} is not PostgreSQL (it answered ${JSON.stringify(text.slice(0, 60))})`,
      )
    })
    socket.once('end', () =>
      done(
        `the server at ${where} closed the connection without answering as PostgreSQL (is that port a PostgreSQL server?)`,
      ),
    )
    socket.once('error', (error: NodeJS.ErrnoException) => done(socketReason(error, address)))
  })
}

function socketReason(
  error: NodeJS.ErrnoException,
  { host, port }: { host: string; port: number },
): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}:${port} (is PostgreSQL running and listening there?)`
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `unknown host '${host}'`
    case 'ETIMEDOUT':
      return `no answer from ${host}:${port} (timed out)`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} is unreachable (${error.code})`
    case 'ECONNRESET':
      return `${host}:${port} reset the connection (is that port a PostgreSQL server?)`
    default:
      return error.message
  }
}

/** Words for an error of postgres.js's first query. */
export function connectReason(error: unknown, url: string): string {
  const e = error as { code?: string; message?: string; errno?: string }
  const address = tcpAddress(url) ?? { host: '?', port: 5432 }
  let user = ''
  let database = ''
  try {
    const parsed = new URL(url)
    user = decodeURIComponent(parsed.username)
    database = decodeURIComponent(parsed.pathname.slice(1))
  } catch {}
  switch (e.code) {
    case '28P01':
    case '28000':
      return `authentication failed for user '${user}' (check the user and password in the URL): ${e.message}`
    case '3D000':
      return `database '${database}' does not exist on the server (create it: createdb ${database || '<name>'})`
    case '57P03':
      return 'the server is starting up or shutting down (the database system is not ready)'
    case 'CONNECT_TIMEOUT':
      return `no answer from ${address.host}:${address.port} (timed out)`
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return socketReason(e as NodeJS.ErrnoException, address)
    default:
      return e.message ?? String(error)
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return bounded(new Promise<void>(() => {}), ms, () => new Error('slept'), signal).catch(
    (error: unknown) => {
      if (error instanceof StartupAbortedError) throw error
    },
  )
}

/**
 * Makes the first connection: a probe, then `attempt()` (the driver's first query), both under
 * `connectTimeoutMs`, repeated with backoff while `waitMs` lasts; `cancel()` runs after each
 * failed attempt (to end the driver, which would otherwise go on reconnecting). Throws a
 * DatabaseConnectError naming the redacted URL and the last reason, or a StartupAbortedError as
 * soon as `signal` aborts.
 */
export async function connectWithin(
  url: string,
  opts: ConnectOptions,
  attempt: () => Promise<void>,
  cancel: () => Promise<void>,
): Promise<void> {
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const deadline = Date.now() + (opts.waitMs ?? 0)
  const shown = redactUrl(url)
  const address = tcpAddress(url)
  let delay = 500
  for (let n = 1; ; n++) {
    let reason: string
    try {
      const started = Date.now()
      const probed = address
        ? await bounded(
            probePostgres(address, timeoutMs),
            timeoutMs,
            () => new Error('probe'),
            opts.signal,
          )
        : null
      if (probed === null) {
        const left = Math.max(1, timeoutMs - (Date.now() - started))
        try {
          await bounded(
            attempt(),
            left,
            () => Object.assign(new Error('timeout'), { code: 'CONNECT_TIMEOUT' }),
            opts.signal,
          )
        } catch (error) {
          await cancel().catch(() => {})
          throw error
        }
        return
      }
      reason = probed
    } catch (error) {
      if (error instanceof StartupAbortedError) throw error
      reason =
        (error as { code?: string }).code === 'CONNECT_TIMEOUT'
          ? `no PostgreSQL answer within ${seconds(timeoutMs)}`
          : connectReason(error, url)
    }
    const left = deadline - Date.now()
    if (left <= 0) throw new DatabaseConnectError(shown, reason)
    const retryInMs = Math.min(delay, left)
    opts.onRetry?.({ attempt: n, reason, retryInMs, url: shown })
    await sleep(retryInMs, opts.signal)
    delay = Math.min(delay * 2, 5000)
  }
}
