/**
 * @module @telehook/engine/request-guard
 * The first check both apps make on every request, before routing: which path the router will
 * match, whether the Host is usable, and whether the request has one meaning at all. Each app keeps
 * its own policy (which Hosts it serves, which paths are public) and calls {@link inspectTarget}.
 *
 * Elysia (on Bun) routes on `url.substring(url.indexOf('/', 11))`, not on `new URL(url).pathname`.
 * The two differ for short Hosts (`Host: a` makes `/xxx/webhook` route as `/webhook`) and wherever
 * the URL is not written in the form `new URL` gives it (a doubled slash, a fragment, dot segments);
 * with an empty Host, Bun hands over a relative URL that `new URL` cannot parse. A request whose
 * two paths disagree, or without a usable Host, is refused: it has no single meaning, and no later
 * code parses a URL that could throw. Web-standard APIs only, and nothing else of the engine: both
 * apps run it under Deno too.
 */

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

/**
 * `host[:port]` with a DNS name (letters, digits, inner hyphens per label), IPv4 or bracketed IPv6
 * literal: nothing else is a Host.
 */
const STRICT_HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** As {@link STRICT_HOST}, and labels may hold `_` and the name may end in a dot (`example.com.`). */
const LENIENT_HOST =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** The Host header's name without its port, lower-cased (IPv6 keeps its brackets). */
export function hostName(host: string): string {
  const h = host.toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.lastIndexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/** What an app asks of a request's target besides one meaning. */
export interface TargetPolicy {
  /**
   * Host names served (compared lower-case, without the port; IPv6 in brackets), or `'*'` for any
   * well-formed Host (the default). Another name is refused with 421 `unknown_host`.
   */
  allowedHosts?: readonly string[] | '*'
  /**
   * `'strict'` (the default): DNS names as RFC 1123 writes them. `'lenient'`: labels may also hold
   * `_` and the name may end in a dot, for a port that sits behind whatever name it is given.
   */
  hostSyntax?: 'strict' | 'lenient'
}

/** Why a request was refused, in the order the checks run. */
export type TargetCode = 'bad_host' | 'unknown_host' | 'bad_url' | 'ambiguous_path'

export type TargetVerdict =
  | { kind: 'ok'; path: string }
  | { kind: 'refuse'; status: 400 | 421; code: TargetCode; path: string }

/** The answer body of each refusal (an app may say more, e.g. which setting lists its Hosts). */
export const TARGET_MESSAGE: Record<TargetCode, string> = {
  bad_host: 'A valid Host header is required',
  unknown_host: 'This server does not serve that Host',
  bad_url: 'The request URL is not valid',
  ambiguous_path: 'The request path is not in normal form',
}

/**
 * Decides, before routing, whether a request has one meaning: a well-formed Host, one that the
 * policy serves, a URL that parses, and a path that the router and the URL read the same way.
 * `path` is always the router's path, the one every later decision must be taken on.
 * @example inspectTarget(new Request('http://a/xxx/webhook')) // refuse: ambiguous_path, path '/webhook'
 * @example inspectTarget(request, { allowedHosts: ['localhost'] }) // Host: evil.test → refuse: unknown_host (421)
 */
export function inspectTarget(request: Request, policy: TargetPolicy = {}): TargetVerdict {
  const path = routerPath(request.url)
  // Over a socket Bun has the header (and answers 400 itself when HTTP/1.1 has none) and builds
  // the URL from it; `app.handle(new Request(url))` has none, and then the URL's authority counts.
  const host = (request.headers.get('host') ?? urlAuthority(request.url)).trim()
  const shape = policy.hostSyntax === 'lenient' ? LENIENT_HOST : STRICT_HOST
  if (host === '' || !shape.test(host)) {
    return { kind: 'refuse', status: 400, code: 'bad_host', path }
  }
  const allowed = policy.allowedHosts ?? '*'
  if (allowed !== '*') {
    const name = hostName(host)
    if (!allowed.some((h) => h.toLowerCase() === name)) {
      return { kind: 'refuse', status: 421, code: 'unknown_host', path }
    }
  }
  let parsed: string
  try {
    parsed = new URL(request.url).pathname
  } catch {
    return { kind: 'refuse', status: 400, code: 'bad_url', path }
  }
  if (parsed !== path) return { kind: 'refuse', status: 400, code: 'ambiguous_path', path }
  return { kind: 'ok', path }
}
