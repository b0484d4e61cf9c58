/** @module Admin configuration from the environment, validated once at start-up. */

import {
  DEFAULT_STOP_TIMEOUT_MS,
  MAX_STOP_TIMEOUT_MS,
  MIN_STOP_TIMEOUT_MS,
  STOP_TIMEOUT_RULE,
} from '@telehook/engine'
import { WEBHOOK_PORTS, webhookPort } from '@telehook/protocol'
import { defaultAllowedHosts } from './request-guard'

export interface AdminConfig {
  /** `ADMIN_PORT`, default 8081. */
  port: number
  /** `ADMIN_HOST`, default 127.0.0.1: the admin API is private unless said otherwise. */
  host: string
  /** `TELEHOOK_PUBLIC_URL`: where Telerivet reaches the webhook app (no trailing slash). */
  publicUrl: string | undefined
  /** `TELERIVET_API_URL`, default https://api.telerivet.com/v1. */
  telerivetApiUrl: string
  /** `TELEHOOK_ADMIN_TOKEN`: a bearer token accepted besides the hashed ones in `admin_tokens`. */
  adminToken: string | undefined
  /** `TELEHOOK_MASTER_KEY` (base64 of 32 bytes); when absent a key file in the data folder is used. */
  masterKey: string | undefined
  /**
   * `ADMIN_ALLOWED_HOSTS` (comma-separated host names, or `*`): the Host headers the admin API answers.
   * Default: the loopback names when bound to loopback, any well-formed Host otherwise.
   */
  allowedHosts: string[] | '*'
  /**
   * `TELEHOOK_STOP_TIMEOUT_MS`, default 8000: how long a stop may take in all, from the signal to
   * the exit (the engine's `stopBudget` splits it).
   */
  stopTimeoutMs: number
}

/** A configuration error; `problems` has one line per bad variable. */
export class AdminConfigError extends Error {
  override readonly name = 'AdminConfigError'
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
  }
}

/**
 * Why `url` cannot be a Telerivet webhook base URL, or null when it can: an absolute http or
 * https URL on a port Telerivet delivers to (80, 443, 8000, 8080, 8443), for https as well.
 */
export function publicUrlProblem(url: string): string | null {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return `TELEHOOK_PUBLIC_URL is not a URL: ${JSON.stringify(url)}`
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    return `TELEHOOK_PUBLIC_URL must be http or https, got ${u.protocol.replace(':', '')}`
  }
  if (u.search || u.hash) return 'TELEHOOK_PUBLIC_URL must not have a query or fragment'
  const port = webhookPort(u.href) ?? 0
  if (!WEBHOOK_PORTS.includes(port)) {
    return `TELEHOOK_PUBLIC_URL uses port ${port}; Telerivet only delivers webhooks to ports ${WEBHOOK_PORTS.join(', ')}`
  }
  return null
}

/** Validates a base64 master key: it must decode to exactly 32 bytes. */
export function masterKeyProblem(value: string): string | null {
  let bytes: Uint8Array
  try {
    bytes = Uint8Array.from(atob(value.trim()), (c) => c.charCodeAt(0))
  } catch {
    return 'TELEHOOK_MASTER_KEY is not base64 (expected 32 random bytes, e.g. `openssl rand -base64 32`)'
  }
  if (bytes.length !== 32) {
    return `TELEHOOK_MASTER_KEY decodes to ${bytes.length} bytes; expected 32 (\`openssl rand -base64 32\`)`
  }
  return null
}

const nonEmpty = (v: string | undefined) =>
  v === undefined || v.trim() === '' ? undefined : v.trim()

/**
 * Reads and validates the admin configuration. Throws {@link AdminConfigError} listing every bad
 * value, one line each, so the operator fixes them all at once.
 *
 * `TELEHOOK_PUBLIC_URL` is only checked to be a URL here: the stricter port rule is reported when a
 * service is created (a 400), so the rest of the admin API works while it is being set up.
 * @example
 * const config = loadAdminConfig(process.env)
 */
export function loadAdminConfig(env: Record<string, string | undefined>): AdminConfig {
  const problems: string[] = []
  let port = 8081
  const rawPort = nonEmpty(env.ADMIN_PORT)
  if (rawPort !== undefined) {
    port = Number(rawPort)
    if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) {
      problems.push(`ADMIN_PORT must be a port number 1-65535, got ${JSON.stringify(rawPort)}`)
    }
  }
  const host = nonEmpty(env.ADMIN_HOST) ?? '127.0.0.1'
  if (/[\s/]/.test(host)) problems.push(`ADMIN_HOST is not a host name: ${JSON.stringify(host)}`)

  const publicUrl = nonEmpty(env.TELEHOOK_PUBLIC_URL)?.replace(/\/+$/, '')
  if (publicUrl !== undefined) {
    try {
      const u = new URL(publicUrl)
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
    } catch {
      problems.push(`TELEHOOK_PUBLIC_URL must be an http(s) URL, got ${JSON.stringify(publicUrl)}`)
    }
  }

  const telerivetApiUrl =
    nonEmpty(env.TELERIVET_API_URL)?.replace(/\/+$/, '') ?? 'https://api.telerivet.com/v1'
  try {
    const u = new URL(telerivetApiUrl)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
  } catch {
    problems.push(
      `TELERIVET_API_URL must be an http(s) URL, got ${JSON.stringify(telerivetApiUrl)}`,
    )
  }

  const adminToken = nonEmpty(env.TELEHOOK_ADMIN_TOKEN)
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('TELEHOOK_ADMIN_TOKEN is too short: use at least 16 characters')
  }

  const masterKey = nonEmpty(env.TELEHOOK_MASTER_KEY)
  if (masterKey !== undefined) {
    const p = masterKeyProblem(masterKey)
    if (p) problems.push(p)
  }

  let allowedHosts = defaultAllowedHosts(host)
  const rawHosts = nonEmpty(env.ADMIN_ALLOWED_HOSTS)
  if (rawHosts === '*') allowedHosts = '*'
  else if (rawHosts !== undefined) {
    allowedHosts = rawHosts
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '')
    const bad = allowedHosts.filter((h) => !/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(h))
    if (bad.length > 0 || allowedHosts.length === 0) {
      problems.push(
        `ADMIN_ALLOWED_HOSTS must be host names without ports, comma-separated, or *; got ${JSON.stringify(rawHosts)}`,
      )
    }
  }

  let stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS
  const rawStop = nonEmpty(env.TELEHOOK_STOP_TIMEOUT_MS)
  if (rawStop !== undefined) {
    const digits = /^\d{1,15}$/.test(rawStop)
    stopTimeoutMs = Number(rawStop)
    if (!digits || stopTimeoutMs < MIN_STOP_TIMEOUT_MS || stopTimeoutMs > MAX_STOP_TIMEOUT_MS) {
      // The webhook app's loader says the same words: `telehook serve` prints the line once.
      const got = JSON.stringify(digits ? stopTimeoutMs : rawStop)
      problems.push(`TELEHOOK_STOP_TIMEOUT_MS ${STOP_TIMEOUT_RULE} (got ${got})`)
    }
  }

  if (problems.length > 0) throw new AdminConfigError(problems)
  return {
    port,
    host,
    publicUrl,
    telerivetApiUrl,
    adminToken,
    masterKey,
    allowedHosts,
    stopTimeoutMs,
  }
}
