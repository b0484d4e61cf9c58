/** @module The forwarding worker's settings from the environment (`TELEHOOK_FORWARD_*`). */
import { forwardBackoff } from './deliver'
import type { ForwarderOptions } from './worker'

/** A bad `TELEHOOK_FORWARD_*` value; `problems` has one line per variable. */
export class ForwardConfigError extends Error {
  override name = 'ForwardConfigError'
  constructor(readonly problems: string[]) {
    super(problems.join('; '))
  }
}

/** The variables read, with their defaults (ms unless said), as the help text lists them. */
export const FORWARD_ENV = {
  TELEHOOK_FORWARD_CONCURRENCY: 'requests in flight per worker process (default 16)',
  TELEHOOK_FORWARD_TIMEOUT_MS: 'bound of one request (default 15000)',
  TELEHOOK_FORWARD_MAX_AGE_MS:
    'retries stop this long after the event was enqueued (default 86400000)',
  TELEHOOK_FORWARD_RETRY_BASE_MS: 'first retry delay, doubling up to one hour (default 2000)',
  TELEHOOK_FORWARD_LEASE_MS:
    "how long a claimed job is a worker's before another may take it (default timeout + 60000)",
} as const

type Settings = Pick<
  ForwarderOptions,
  'concurrency' | 'timeoutMs' | 'maxAgeMs' | 'leaseMs' | 'backoffMs'
>

/**
 * Reads `TELEHOOK_FORWARD_*` (see {@link FORWARD_ENV}); unset variables keep the defaults.
 * Throws a {@link ForwardConfigError} naming every bad variable.
 * @example createForwarder({ database, masterKey, logger, ...loadForwarderConfig(process.env) })
 */
export function loadForwarderConfig(env: Record<string, string | undefined>): Settings {
  const problems: string[] = []
  const int = (name: keyof typeof FORWARD_ENV, min: number, max: number): number | undefined => {
    const raw = env[name]?.trim()
    if (raw === undefined || raw === '') return undefined
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max} (got '${raw}')`)
      return undefined
    }
    return n
  }
  const concurrency = int('TELEHOOK_FORWARD_CONCURRENCY', 1, 1000)
  const timeoutMs = int('TELEHOOK_FORWARD_TIMEOUT_MS', 100, 600_000)
  const maxAgeMs = int('TELEHOOK_FORWARD_MAX_AGE_MS', 0, 30 * 86_400_000)
  const retryBaseMs = int('TELEHOOK_FORWARD_RETRY_BASE_MS', 1, 3_600_000)
  const leaseMs = int('TELEHOOK_FORWARD_LEASE_MS', 1000, 3_600_000)
  if (leaseMs !== undefined && leaseMs <= (timeoutMs ?? 15_000)) {
    problems.push(
      'TELEHOOK_FORWARD_LEASE_MS: must be longer than TELEHOOK_FORWARD_TIMEOUT_MS, or a job could be taken by a second worker while its request is still in flight',
    )
  }
  if (problems.length > 0) throw new ForwardConfigError(problems)
  const out: Settings = {}
  if (concurrency !== undefined) out.concurrency = concurrency
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs
  if (maxAgeMs !== undefined) out.maxAgeMs = maxAgeMs
  if (leaseMs !== undefined) out.leaseMs = leaseMs
  if (retryBaseMs !== undefined) out.backoffMs = forwardBackoff(retryBaseMs)
  return out
}
