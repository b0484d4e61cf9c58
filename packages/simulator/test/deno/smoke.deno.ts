/**
 * @module deno smoke
 * The simulator core under Deno: `createSimulator().fetch` serves REST and control calls,
 * delivers a webhook to a `Deno.serve` receiver, retries it in simulated time, and
 * `startSimulator` listens with `Deno.serve`. Plain assertions: no remote standard library.
 */
import { decodeEvent, parseForm } from '@telehook/protocol'
import { createSimulator, startSimulator } from '../../src/index.ts'

declare const Deno: {
  test(name: string, fn: () => void | Promise<void>): void
  serve(
    o: { port: number; hostname: string; onListen?: () => void },
    handler: (r: Request) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> }
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`)
}

function receiver(answer: (n: number, form: Record<string, unknown>) => Response) {
  const bodies: string[] = []
  const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, async (req) => {
    const body = await req.text()
    bodies.push(body)
    return answer(bodies.length, parseForm(body))
  })
  return { url: `http://127.0.0.1:${server.addr.port}`, bodies, stop: () => server.shutdown() }
}

Deno.test('REST: auth, createService validation, paging', async () => {
  const sim = createSimulator({ manualClock: true, apiKey: 'K', projectId: 'PJdeno' })
  const call = (method: string, path: string, body?: unknown, key = 'K') =>
    sim.fetch(
      new Request(`http://sim.local/v1/projects/PJdeno${path}`, {
        method,
        headers: { authorization: `Basic ${btoa(`${key}:`)}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    )
  assert((await call('GET', '', undefined, 'wrong')).status === 401, 'wrong key is 401')
  const bad = await call('POST', '/services', {
    service_type: 'incoming_message_webhook',
    config: { url: 'http://x.example:3000/' },
  })
  const err = (await bad.json()) as { error: { code: string; param: string } }
  assert(bad.status === 400 && err.error.param === 'config.url', 'port 3000 refused')
  for (let i = 0; i < 3; i++) {
    const ok = await call('POST', '/services', {
      service_type: 'incoming_message_webhook',
      config: { url: 'https://x.example/' },
    })
    assert(ok.status === 200, 'service created')
  }
  const page = (await (await call('GET', '/services?page_size=2')).json()) as {
    data: unknown[]
    truncated: boolean
    next_marker: string
  }
  assert(page.data.length === 2 && page.truncated, 'first page truncated')
  const rest = (await (
    await call('GET', `/services?page_size=2&marker=${page.next_marker}`)
  ).json()) as {
    data: unknown[]
    truncated: boolean
  }
  assert(rest.data.length === 1 && !rest.truncated, 'second page')
  sim.close()
})

Deno.test('webhook delivery to Deno.serve: decodes, retried in simulated time, reply acted upon', async () => {
  const rx = receiver((n) =>
    n === 1
      ? new Response('no', { status: 500 })
      : Response.json({
          messages: [{ content: 'hi from deno' }],
          variables: { 'contact.name': 'Den' },
        }),
  )
  const sim = createSimulator({ manualClock: true, allowedPorts: 'any' })
  try {
    sim.createService(sim.projectId, {
      service_type: 'incoming_message_webhook',
      config: { url: `${rx.url}/hook`, secret: 'sec' },
    })
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hello' })
    assert(out.deliveries[0]?.http_status === 500, 'first attempt failed')
    const decoded = decodeEvent(parseForm(rx.bodies[0] as string))
    assert(decoded.ok && decoded.event.event === 'incoming_message', 'body decodes')
    await sim.advance(24 * 3_600_000)
    const d = sim.deliveries()[0]
    assert(d?.status === 'delivered' && d.attempts.length === 2, 'delivered on the retry')
    assert(sim.contact(out.contact.id).name === 'Den', 'variables applied')
    assert(
      sim.messages().some((m) => m.direction === 'outgoing' && m.content === 'hi from deno'),
      'reply message queued',
    )
  } finally {
    sim.close()
    await rx.stop()
  }
})

Deno.test('startSimulator listens with Deno.serve; control API over HTTP', async () => {
  const running = await startSimulator({ manualClock: true, apiKey: 'DK' })
  try {
    const info = (await (await fetch(`${running.url}/_sim`)).json()) as { api_key: string }
    assert(info.api_key === 'DK', 'control API answers')
    const res = await fetch(`${running.url}/_sim/incoming`, {
      method: 'POST',
      body: JSON.stringify({ from_number: '+16505550000', content: 'x' }),
    })
    const out = (await res.json()) as { deliveries: unknown[]; contact: { phone_number: string } }
    assert(res.status === 200 && out.contact.phone_number === '+16505550000', 'incoming via HTTP')
  } finally {
    await running.close()
  }
})
