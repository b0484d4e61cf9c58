/// <reference lib="deno.ns" />
/**
 * @module What the Deno forwarding suites share: a destination that records what it receives, a
 * scratch PostgreSQL database, the Deno entry as a child process, and the checks of a delivery.
 */
import { Webhook } from 'standardwebhooks'

export function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

export interface Received {
  headers: Record<string, string>
  body: string
}

/** A destination on a free port that records each request; `delivered` settles on the first. */
export function startDestination(signal: AbortSignal) {
  const received: Received[] = []
  let arrived: () => void = () => {}
  const delivered = new Promise<void>((r) => {
    arrived = r
  })
  const server = Deno.serve(
    { port: 0, hostname: '127.0.0.1', signal, onListen() {} },
    async (req) => {
      received.push({ headers: Object.fromEntries(req.headers), body: await req.text() })
      arrived()
      return new Response('ok')
    },
  )
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, received, delivered }
}

/** Waits for the first delivery (at most `ms`), then checks it is the only one, for `eventId`. */
export async function firstDelivery(
  dest: ReturnType<typeof startDestination>,
  eventId: string,
  secret: string,
  ms = 30_000,
): Promise<Record<string, unknown>> {
  let timer = 0
  await Promise.race([dest.delivered, new Promise((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
  assertEquals(dest.received.length, 1, 'one delivery')
  const got = dest.received[0] as Received
  assertEquals(got.headers['webhook-id'], eventId, 'webhook-id is the event id')
  return new Webhook(secret).verify(got.body, got.headers) as Record<string, unknown>
}

/** POSTs an `incoming_message` with `fields` to a webhook URL; expects 200. */
export async function postIncoming(url: string, fields: Record<string, string>): Promise<void> {
  const posted = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ event: 'incoming_message', ...fields }).toString(),
  })
  assertEquals(posted.status, 200, 'webhook stored')
  await posted.body?.cancel()
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const port = (l.addr as Deno.NetAddr).port
  l.close()
  return port
}

/** A fresh database on the test PostgreSQL, and how to drop it. */
export async function scratchDatabase(): Promise<{ url: URL; drop(): Promise<void> }> {
  const { openDb } = await import('@telehook/db')
  const { TEST_DATABASE_URL } = await import('@telehook/db/testing')
  const { sql } = await import('drizzle-orm')
  const name = `telehook_test_deno_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
  const pg = await openDb({ databaseUrl: TEST_DATABASE_URL, migrate: false })
  await pg.db.execute(sql.raw(`create database ${name}`))
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return {
    url,
    async drop() {
      await pg.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
      await pg.close()
    },
  }
}

/** `apps/cli/deno/serve.ts` as a child Deno process with `env`. */
export function spawnEntry(env: Record<string, string>): Deno.ChildProcess {
  const entry = new URL('../../apps/cli/deno/serve.ts', import.meta.url).pathname
  return new Deno.Command(Deno.execPath(), {
    args: ['run', '--no-check', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', entry],
    env,
    stdout: 'null',
    stderr: 'null',
  }).spawn()
}

/** Polls `url` until it answers 200 or `deadline` (ms since the epoch) passes. */
export async function waitFor200(
  url: string,
  headers: HeadersInit,
  deadline: number,
): Promise<void> {
  for (;;) {
    const ok = await fetch(url, { headers })
      .then(async (r) => {
        await r.body?.cancel()
        return r.status === 200
      })
      .catch(() => false)
    if (ok) return
    if (Date.now() > deadline) throw new Error('the Deno entry did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Stops a child with SIGTERM and checks it exits 0; SIGKILL in any case afterwards. */
export async function stopEntry(child: Deno.ChildProcess): Promise<void> {
  child.kill('SIGTERM')
  assertEquals((await child.status).code, 0, 'exit code after SIGTERM')
}

export function killEntry(child: Deno.ChildProcess): void {
  try {
    child.kill('SIGKILL')
  } catch {
    // already exited
  }
}
