/**
 * @module serve
 * Listens with the runtime's own server (Bun.serve or Deno.serve); the only file of the core
 * that touches a runtime global, and only through `globalThis` at call time.
 */

import type { IncomingMessageInput, IncomingOutcome } from './incoming.ts'
import type { Delivery } from './model.ts'
import { createSimulator, type Simulator, type SimulatorOptions } from './simulator.ts'

/** Options of {@link startSimulator}. */
export interface StartOptions extends SimulatorOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number
  /** Interface to bind (default 127.0.0.1). */
  hostname?: string
}

/** A listening simulator. */
export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:8088`. */
  url: string
  /** What to put in `TELERIVET_API_URL`: `${url}/v1`. */
  apiUrl: string
  apiKey: string
  projectId: string
  port: number
  sim: Simulator
  incomingMessage(input: IncomingMessageInput): Promise<IncomingOutcome>
  deliveries(filter?: Parameters<Simulator['deliveries']>[0]): Delivery[]
  advance(ms: number): Promise<void>
  close(): Promise<void>
}

interface BunLike {
  serve(o: { port: number; hostname: string; fetch: (r: Request) => Promise<Response> }): {
    port: number
    stop(force?: boolean): Promise<void> | void
  }
}
interface DenoLike {
  serve(
    o: { port: number; hostname: string; onListen?: () => void },
    handler: (r: Request) => Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> }
}

/**
 * Starts a simulator on a port.
 * @example
 * const sim = await startSimulator({ port: 0, manualClock: true })
 * // point the code under test at sim.apiUrl with sim.apiKey
 * await sim.close()
 */
export async function startSimulator(opts: StartOptions = {}): Promise<RunningSimulator> {
  const sim = createSimulator(opts)
  const hostname = opts.hostname ?? '127.0.0.1'
  const g = globalThis as { Bun?: BunLike; Deno?: DenoLike }
  let port: number
  let stop: () => Promise<void>
  if (g.Bun !== undefined) {
    const server = g.Bun.serve({ port: opts.port ?? 0, hostname, fetch: sim.fetch })
    port = server.port
    stop = async () => {
      await server.stop(true)
    }
  } else if (g.Deno !== undefined) {
    const server = g.Deno.serve({ port: opts.port ?? 0, hostname, onListen: () => {} }, sim.fetch)
    port = server.addr.port
    stop = () => server.shutdown()
  } else {
    throw new Error('startSimulator needs Bun or Deno; elsewhere use createSimulator().fetch')
  }
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
  return {
    url,
    apiUrl: `${url}/v1`,
    apiKey: sim.apiKey,
    projectId: sim.projectId,
    port,
    sim,
    incomingMessage: (input) => sim.incomingMessage(input),
    deliveries: (filter) => sim.deliveries(filter),
    advance: (ms) => sim.advance(ms),
    close: async () => {
      sim.close()
      await stop()
    },
  }
}
