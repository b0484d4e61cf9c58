/** @module Health of the admin app: the database answers within a bound. */
import type { AdminContext } from '../../context'

const DEFAULT_HEALTH_TIMEOUT_MS = 2000

/** True when the database answers a ping within `healthTimeoutMs`. */
export async function databaseHealthy(ctx: AdminContext): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      ctx.database.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('ping timed out')),
          ctx.deps.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
        )
      }),
    ])
    return true
  } catch (error) {
    ctx.log.warn({
      msg: 'health check failed',
      error: error instanceof Error ? error.message : String(error),
    })
    return false
  } finally {
    clearTimeout(timer)
  }
}
