/**
 * @module The webhook port's first check on every request, before routing: the check shared with
 * the admin app (`@telehook/engine/request-guard`: the router's path and the URL's must agree, the
 * Host must be well formed, the URL must parse), with this port's policy.
 */
import { inspectTarget, type TargetVerdict } from '@telehook/engine/request-guard'

/**
 * Decides, before routing, whether a request has one meaning. Any Host name is served, leniently
 * written (`_` in labels, a trailing dot): the public port sits behind whatever name Telerivet is
 * given, and a refused delivery is a lost one until Telerivet retries.
 * @example inspectRequest(new Request('http://a/xxx/webhook')) // refused: ambiguous_path
 */
export function inspectRequest(request: Request): TargetVerdict {
  return inspectTarget(request, { hostSyntax: 'lenient' })
}
