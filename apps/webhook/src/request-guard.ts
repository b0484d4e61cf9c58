/**
 * @module The webhook port's first check on every request: which path the router will match, and
 * whether the request has one meaning at all.
 *
 * Elysia (on Bun) routes on `url.substring(url.indexOf('/', 11))`, not on `new URL(url).pathname`.
 * The two differ for short Hosts (`Host: a` makes `/xxx/webhook` route as `/webhook`) and for
 * doubled slashes; with an empty Host, Bun hands over a relative URL that `new URL` cannot parse.
 * A request whose two paths disagree, or without a usable Host, is refused before routing, and no
 * later code parses a URL that could throw.
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

/** `host[:port]` with a DNS name, IPv4 or bracketed IPv6 literal: nothing else is a Host. */
const HOST_SHAPE =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

export type GuardVerdict =
  | { kind: 'ok'; path: string }
  | { kind: 'refuse'; status: 400; code: 'bad_host' | 'bad_url' | 'ambiguous_path'; path: string }

/**
 * Decides, before routing, whether a request has one meaning: a well-formed Host (any name: the
 * public port sits behind whatever name Telerivet is given), a URL that parses, and a path that
 * the router and the URL read the same way.
 * @example inspectRequest(new Request('http://a/xxx/webhook')) // refused: ambiguous_path
 */
export function inspectRequest(request: Request): GuardVerdict {
  const path = routerPath(request.url)
  // Over a socket Bun has the header (and answers 400 itself when HTTP/1.1 has none);
  // `app.handle(new Request(url))` has none, and then the URL's authority counts.
  const host = (request.headers.get('host') ?? urlAuthority(request.url)).trim()
  if (host === '' || !HOST_SHAPE.test(host)) {
    return { kind: 'refuse', status: 400, code: 'bad_host', path }
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

/** The answer body of each refusal. */
export const GUARD_MESSAGE: Record<'bad_host' | 'bad_url' | 'ambiguous_path', string> = {
  bad_host: 'A valid Host header is required',
  bad_url: 'The request URL is not valid',
  ambiguous_path: 'The request path is not in normal form',
}
