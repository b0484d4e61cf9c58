/**
 * @module The admin port's first check on every request: which path the router will match, whether
 * the Host is one the admin API serves, and whether the path may be reached without a token.
 *
 * Elysia (on Bun) routes on `url.substring(url.indexOf('/', 11))`, not on `new URL(url).pathname`.
 * The two differ for short or odd Hosts (`Host: a` makes `/xxx/v1/projects` route as `/v1/projects`),
 * for dot segments and for empty Hosts. Every decision here is taken from the router's own path, and a
 * request whose two paths disagree is refused: it has no single meaning.
 */

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

/** The path Elysia's router matches for `url` (same rule as Elysia 1.4's `getPath`). */
export function routerPath(url: string): string {
  const start = url.indexOf('/', 11)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.substring(start) : url.substring(start, query)
}

/** The authority of an absolute URL as written (empty for a relative one). */
function urlAuthority(url: string): string {
  const start = url.indexOf('//')
  if (start === -1 || start > 6) return ''
  const end = url.indexOf('/', start + 2)
  return end === -1 ? url.substring(start + 2) : url.substring(start + 2, end)
}

/** `host[:port]` with a DNS name, IPv4 or bracketed IPv6 literal: nothing else is a Host. */
const HOST_SHAPE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** The Host header's name without its port, lower-cased (IPv6 keeps its brackets). */
export function hostName(host: string): string {
  const h = host.toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.lastIndexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
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
  | { kind: 'refuse'; status: 400 | 421; code: string; message: string; path: string }

/**
 * Decides, before routing, what a request is: refused (no usable Host, a path the router and the URL
 * read differently), public (the allow-list), a console path (needs a console session), or in need
 * of a bearer token (everything else, including paths no route serves: deny by default).
 */
export function inspectRequest(
  request: Request,
  allowedHosts: readonly string[] | '*',
): GuardVerdict {
  const path = routerPath(request.url)
  // Over a socket Bun always has the header (it answers 400 itself when it is missing) and builds
  // the URL from it; `app.handle(new Request(url))` has none, and then the URL's authority counts.
  const host = request.headers.get('host') ?? urlAuthority(request.url)
  if (host === null || host.trim() === '' || !HOST_SHAPE.test(host.trim())) {
    return {
      kind: 'refuse',
      status: 400,
      code: 'bad_host',
      message: 'A valid Host header is required',
      path,
    }
  }
  if (allowedHosts !== '*') {
    const name = hostName(host.trim())
    if (!allowedHosts.some((h) => h.toLowerCase() === name)) {
      return {
        kind: 'refuse',
        status: 421,
        code: 'unknown_host',
        message: 'This admin API does not serve that Host (see ADMIN_ALLOWED_HOSTS)',
        path,
      }
    }
  }
  let parsed: string
  try {
    parsed = new URL(request.url).pathname
  } catch {
    return {
      kind: 'refuse',
      status: 400,
      code: 'bad_url',
      message: 'The request URL is not valid',
      path,
    }
  }
  if (parsed !== path) {
    return {
      kind: 'refuse',
      status: 400,
      code: 'ambiguous_path',
      message: 'The request path is not in normal form',
      path,
    }
  }
  const pub = PUBLIC_PATHS.has(path)
  return { kind: 'ok', path, public: pub, console: !pub && isConsolePath(path) }
}
