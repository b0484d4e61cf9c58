/**
 * @module The admin port's first check on every request: which path the router will match, whether
 * the Host is one the admin API serves, and whether the path may be reached without a token.
 *
 * Which path the router matches, and the refusal of a request whose router path and URL path
 * disagree (`Host: a` makes `/xxx/v1/projects` route as `/v1/projects`), are shared with the webhook
 * app in `@telehook/engine/request-guard`; this file holds the admin API's policy. Every decision
 * here is taken from the router's own path.
 */

import { inspectTarget, TARGET_MESSAGE, type TargetCode } from '@telehook/engine/request-guard'

/** Paths reachable without a token: exact matches only, decided on the router's path. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/docs',
  '/docs/json',
  '/docs/scalar.js',
  '/healthz',
  '/console/sign-in',
  '/console/assets/console.css',
  '/console/assets/console.js',
])

/** Everything of the console but its home page (`/`) lives under this prefix. */
export const CONSOLE_PREFIX = '/console/'

/**
 * Paths of the console (`/` and `/console/…`), where a session cookie takes the place of the bearer
 * token. Every other path (the JSON API under `/v1`) accepts only the bearer token.
 */
export function isConsolePath(path: string): boolean {
  return path === '/' || path.startsWith(CONSOLE_PREFIX)
}

/**
 * Host names the admin API answers by default for a bind address: loopback names when bound to
 * loopback (a web page on another origin cannot reach it by DNS rebinding), any well-formed Host when
 * bound to all interfaces or another address (set `ADMIN_ALLOWED_HOSTS` to narrow it).
 */
export function defaultAllowedHosts(bindHost: string): string[] | '*' {
  const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])
  if (!loopback.has(bindHost.toLowerCase())) return '*'
  return ['localhost', '127.0.0.1', '[::1]']
}

export type GuardVerdict =
  | { kind: 'ok'; path: string; public: boolean; console: boolean }
  | { kind: 'refuse'; status: 400 | 421; code: TargetCode; message: string; path: string }

/** The answer body of each refusal: the shared ones, and where this API's Hosts are set. */
const GUARD_MESSAGE: Record<TargetCode, string> = {
  ...TARGET_MESSAGE,
  unknown_host: 'This admin API does not serve that Host (see ADMIN_ALLOWED_HOSTS)',
}

/**
 * Decides, before routing, what a request is: refused (no usable Host, one not in `allowedHosts`,
 * a path the router and the URL read differently: see `@telehook/engine/request-guard`), public
 * (the allow-list), a console path (needs a console session), or in need of a bearer token
 * (everything else, including paths no route serves: deny by default).
 */
export function inspectRequest(
  request: Request,
  allowedHosts: readonly string[] | '*',
): GuardVerdict {
  // The private port takes names only as DNS writes them: no `_`, no trailing dot.
  const target = inspectTarget(request, { allowedHosts, hostSyntax: 'strict' })
  if (target.kind === 'refuse') return { ...target, message: GUARD_MESSAGE[target.code] }
  const { path } = target
  const pub = PUBLIC_PATHS.has(path)
  return { kind: 'ok', path, public: pub, console: !pub && isConsolePath(path) }
}
