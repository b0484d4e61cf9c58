/**
 * @module Helpers for tests that stop an entry point as a process (`@telehook/engine/testing`):
 * something that holds its stop, and the two signals whose second cuts it short. The rules
 * themselves (stopBudget, stopOnSignals) are tested in `stop.test.ts`; these serve the tests of
 * the apps' `main.ts`, `telehook serve` and the Deno entry, which must all behave alike.
 */
import { access, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Opens a request on `port` that sends `head` (request line, headers, and the start of a body
 * shorter than its Content-Length) and then nothing: it holds an HTTP drain until the connection
 * is closed. Destroy the socket when done.
 */
export async function stalledRequest(port: number, head: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.on('connect', resolve))
  socket.on('error', () => {})
  socket.write(head)
  return socket
}

/** A webhook delivery whose body stops arriving: holds a webhook server's drain. */
export const stalledDelivery = (port: number): Promise<Socket> =>
  stalledRequest(
    port,
    'POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nevent=',
  )

/**
 * Writes a handlers module into `dir` whose async `incoming_message` handler writes the file
 * `started` when its job begins and then never ends: it holds a worker's stop for its grace.
 */
export async function neverEndingHandlers(
  dir: string,
  name = 'never-ending',
): Promise<{ module: string; started: string }> {
  const started = join(dir, `${name}-started`)
  const module = join(dir, `${name}.ts`)
  await writeFile(
    module,
    `import { writeFileSync } from 'node:fs'
export default {
  async: {
    incoming_message: async () => {
      writeFileSync(${JSON.stringify(started)}, 'started')
      await new Promise(() => {})
    },
  },
}
`,
  )
  return { module, started }
}

/** Resolves once `path` exists (a handler's mark that its job began). */
export async function untilExists(path: string): Promise<void> {
  for (;;) {
    try {
      await access(path)
      return
    } catch {
      await sleep(20)
    }
  }
}

/**
 * Delivers one incoming message (id `id`) to the webhook on `port`, waits until the job of a
 * {@link neverEndingHandlers} module has begun (`started`), then sends SIGTERM and waits for the
 * exit. Resolves the delivery's HTTP status, the exit code and how long the stop took.
 */
export async function stopDuringJob(
  proc: { kill(signal: 'SIGTERM'): void; exited: Promise<number> },
  opts: { port: number; secret: string; id: string; started: string },
): Promise<{ status: number; exitCode: number; tookMs: number }> {
  const r = await fetch(`http://127.0.0.1:${opts.port}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ event: 'incoming_message', id: opts.id, secret: opts.secret }),
  })
  if (r.status !== 200) return { status: r.status, exitCode: Number.NaN, tookMs: Number.NaN }
  await untilExists(opts.started)
  const stopping = performance.now()
  proc.kill('SIGTERM')
  const exitCode = await proc.exited
  return { status: r.status, exitCode, tookMs: performance.now() - stopping }
}

/** What {@link signalTwice} saw. */
export interface TwoSignals {
  /** The process had not exited when the second signal was sent. */
  runningAtSecond: boolean
  exitCode: number | null
  /** From the second signal to the exit, ms. */
  exitAfterMs: number
}

/**
 * Sends SIGTERM, waits past the window in which a repeat is the same request (`sameRequestMs` +
 * 300 ms: one Ctrl-C relayed by `bun run` arrives more than once), sends SIGTERM again and waits
 * for the exit.
 */
export async function signalTwice(
  proc: { kill(signal: 'SIGTERM'): void; exitCode: number | null; exited: Promise<number> },
  sameRequestMs = 2000,
): Promise<TwoSignals> {
  proc.kill('SIGTERM')
  await sleep(sameRequestMs + 300)
  const runningAtSecond = proc.exitCode === null
  const second = performance.now()
  proc.kill('SIGTERM')
  const exitCode = await proc.exited
  return { runningAtSecond, exitCode, exitAfterMs: performance.now() - second }
}

/** The start of the line a later signal prints, as `name` (see stopOnSignals). */
export const cutShortLine = (name: string) =>
  `${name}: SIGTERM while stopping: stop cut short, exit 143 now; running jobs not given back are left to their leases`
