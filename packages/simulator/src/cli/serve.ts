/**
 * @module cli/serve
 * `serve`: starts the simulator on a port, prints what to give Telehook, logs every webhook
 * attempt, and stops on SIGINT/SIGTERM (or the io's signal).
 */
import { newId } from '../ids.ts'
import type { Attempt, Delivery } from '../model.ts'
import { startSimulator } from '../serve.ts'
import type { ServeArgs } from './args.ts'
import type { CliIo } from './io.ts'

function logAttempt(io: CliIo) {
  return (d: Delivery, a: Attempt) => {
    const status = a.http_status === null ? (a.error ?? 'no answer') : `HTTP ${a.http_status}`
    const next =
      d.status === 'pending' && d.next_attempt_at !== null
        ? `, retry at ${new Date(d.next_attempt_at).toISOString()}`
        : d.status === 'failed'
          ? ', given up'
          : ''
    io.out(
      `[sim] ${d.event} #${a.number} -> ${d.url}: ${status} (${Math.round(a.duration_ms)} ms${next})`,
    )
  }
}

/** `serve`: listens until stopped, logging every webhook attempt. */
export async function serveCommand(args: ServeArgs, io: CliIo): Promise<number> {
  const running = await startSimulator({
    port: args.port,
    hostname: args.host,
    ...(args.apiKey === null ? {} : { apiKey: args.apiKey }),
    projectId: args.projectId ?? newId('PJ'),
    timeScale: args.timeScale,
    ...(args.anyPort ? { allowedPorts: 'any' as const } : {}),
    onAttempt: logAttempt(io),
  })
  io.out(`Telehook simulator listening on ${running.url}`)
  io.out('')
  // What Telehook reads: the API URL. The key and project id go through its admin API.
  io.out(`  Give Telehook:  TELERIVET_API_URL=${running.apiUrl}`)
  io.out(
    `  Onboard with:   {"project_id": "${running.projectId}", "api_key": "${running.apiKey}"}  (POST /v1/projects on Telehook's admin API)`,
  )
  io.out('')
  io.out(
    `Control API: POST ${running.url}/_sim/incoming {"from_number":"+16505550123","content":"hi"}`,
  )
  io.out(`             GET  ${running.url}/_sim/deliveries   (every route: --help)`)
  const signal = io.signal ?? processSignal()
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
  await running.close()
  return 0
}

function processSignal(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}
