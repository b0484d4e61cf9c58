import { afterEach, describe, expect, test } from 'bun:test'
import { reply, socketReceiver } from '../test/helpers.ts'
import { DEFAULT_RETRY_DELAYS_MS, DEFAULT_RETRY_HORIZON_MS } from './delivery.ts'
import { createSimulator } from './simulator.ts'

const HOUR = 3_600_000
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f()
})

/** The attempt times the default schedule gives, relative to the first attempt. */
function expectedAttemptOffsets(): number[] {
  const offsets = [0]
  for (let i = 0; ; i++) {
    const delay = DEFAULT_RETRY_DELAYS_MS[Math.min(i, DEFAULT_RETRY_DELAYS_MS.length - 1)] ?? 0
    const next = (offsets.at(-1) ?? 0) + delay
    if (next > DEFAULT_RETRY_HORIZON_MS) return offsets
    offsets.push(next)
  }
}

describe('webhook delivery over real sockets', () => {
  test('500, then 302, then a timeout, then 200: exactly four attempts, then delivered', async () => {
    let release: () => void = () => {}
    const hanging = new Promise<void>((r) => {
      release = r
    })
    let n = 0
    const rx = socketReceiver(async (r) => {
      if (new URL(r.url).pathname === '/elsewhere') return new Response('followed!')
      n++
      if (n === 1) return new Response('oops', { status: 500 })
      if (n === 2) return new Response(null, { status: 302, headers: { location: '/elsewhere' } })
      if (n === 3) {
        await hanging
        return new Response('too late')
      }
      return reply({ messages: [{ content: 'finally' }] })
    })
    cleanup.push(() => {
      release()
      rx.stop()
    })
    // 10 s simulated is 500 ms real at this scale, so the hanging attempt times out quickly.
    const sim = createSimulator({ manualClock: true, timeScale: 20, allowedPorts: 'any' })
    cleanup.push(() => sim.close())
    sim.createService(sim.projectId, {
      service_type: 'incoming_message_webhook',
      config: { url: `${rx.url}/hook`, secret: 's' },
    })
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(out.deliveries[0]).toMatchObject({ http_status: 500, ok: false, reply_body: 'oops' })

    await sim.advance(DEFAULT_RETRY_HORIZON_MS + HOUR)
    const [d] = sim.deliveries({ event: 'incoming_message' })
    expect(d?.status).toBe('delivered')
    expect(d?.next_attempt_at).toBeNull()
    expect(d?.attempts.map((a) => a.http_status)).toEqual([500, 302, null, 200])
    expect(d?.attempts.map((a) => a.error)).toEqual([
      'HTTP 500',
      'redirect (HTTP 302 to /elsewhere) is not followed',
      'timed out',
      null,
    ])
    expect(d?.attempts[3]?.response_body).toBe('{"messages":[{"content":"finally"}]}')
    const offsets = d?.attempts.map((a) => a.time - (d?.created_at ?? 0))
    expect(offsets).toEqual(expectedAttemptOffsets().slice(0, 4))
    // the receiver saw four requests and the redirect target none
    expect(rx.seen.map((r) => new URL(r.url).pathname)).toEqual([
      '/hook',
      '/hook',
      '/hook',
      '/hook',
    ])
    // every attempt carried the same body; the reply of the successful retry was acted upon
    expect(new Set(rx.seen.map((r) => r.body)).size).toBe(1)
    const outgoing = sim.messages().filter((m) => m.direction === 'outgoing')
    expect(outgoing.map((m) => [m.content, m.to_number])).toEqual([['finally', '+16505551234']])
  })

  test('a receiver that never answers 200 is retried until the 24 h horizon, then given up', async () => {
    const rx = socketReceiver(() => new Response('nope', { status: 503 }))
    cleanup.push(() => rx.stop())
    const sim = createSimulator({ manualClock: true, allowedPorts: 'any' })
    cleanup.push(() => sim.close())
    sim.setProjectWebhook(sim.projectId, { url: `${rx.url}/project`, secret: 'p' })
    const { delivery } = await sim.addContact(sim.projectId, { phone_number: '+16505550001' })
    expect(delivery?.status).toBe('pending')

    await sim.advance(23 * HOUR)
    expect(sim.deliveries()[0]?.status).toBe('pending')
    await sim.advance(2 * HOUR)
    const d = sim.deliveries()[0]
    const expected = expectedAttemptOffsets()
    expect(d?.status).toBe('failed')
    expect(d?.next_attempt_at).toBeNull()
    expect(d?.attempts.map((a) => a.time - (d?.created_at ?? 0))).toEqual(expected)
    expect(d?.attempts.every((a) => a.http_status === 503 && a.response_body === 'nope')).toBe(true)
    expect(rx.seen).toHaveLength(expected.length)
    // given up means no more attempts, however long we wait
    await sim.advance(72 * HOUR)
    expect(rx.seen).toHaveLength(expected.length)
    expect(expected.at(-1)).toBeLessThanOrEqual(DEFAULT_RETRY_HORIZON_MS)
    expect(expected.length).toBeGreaterThan(8)
  })

  test('onAttempt sees the state each attempt left: its own retry time, then given up', async () => {
    const rx = socketReceiver(() => new Response('nope', { status: 503 }))
    cleanup.push(() => rx.stop())
    const seen: { number: number; status: string; next: number | null; time: number }[] = []
    const sim = createSimulator({
      manualClock: true,
      allowedPorts: 'any',
      onAttempt: (d, a) =>
        seen.push({ number: a.number, status: d.status, next: d.next_attempt_at, time: a.time }),
    })
    cleanup.push(() => sim.close())
    sim.setProjectWebhook(sim.projectId, { url: `${rx.url}/project`, secret: 'p' })
    await sim.addContact(sim.projectId, { phone_number: '+16505550002' })
    await sim.advance(DEFAULT_RETRY_HORIZON_MS + HOUR)
    const expected = expectedAttemptOffsets()
    expect(seen).toHaveLength(expected.length)
    // Every attempt but the last announces the time of the next one, which is when it happened.
    for (let i = 0; i < seen.length - 1; i++) {
      expect(seen[i]).toMatchObject({ number: i + 1, status: 'pending', next: seen[i + 1]?.time })
    }
    expect(seen.at(-1)).toMatchObject({ number: expected.length, status: 'failed', next: null })
  })

  test('onAttempt sees a delivered attempt as delivered', async () => {
    const rx = socketReceiver(() => reply({}))
    cleanup.push(() => rx.stop())
    const seen: string[] = []
    const sim = createSimulator({
      manualClock: true,
      allowedPorts: 'any',
      onAttempt: (d) => seen.push(d.status),
    })
    cleanup.push(() => sim.close())
    sim.setProjectWebhook(sim.projectId, { url: `${rx.url}/project`, secret: 'p' })
    await sim.addContact(sim.projectId, { phone_number: '+16505550003' })
    expect(seen).toEqual(['delivered'])
  })

  test('a refused connection is a failure with an error and no status', async () => {
    const rx = socketReceiver()
    const url = `${rx.url}/gone`
    await rx.stop()
    const sim = createSimulator({ manualClock: true, allowedPorts: 'any' })
    cleanup.push(() => sim.close())
    sim.createService(sim.projectId, { service_type: 'incoming_message_webhook', config: { url } })
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(out.deliveries[0]?.http_status).toBeNull()
    expect(out.deliveries[0]?.error).toStartWith('request failed')
    expect(sim.deliveries()[0]?.status).toBe('pending')
  })

  test('the wall-clock mode retries by itself on a scaled clock', async () => {
    let n = 0
    const rx = socketReceiver(() => new Response('', { status: ++n < 3 ? 500 : 200 }))
    cleanup.push(() => rx.stop())
    // one simulated hour per real 10 ms: retries at +1 min and +6 min come within a few ms
    const sim = createSimulator({
      timeScale: 360_000,
      webhookTimeoutMs: 3_600_000_000,
      allowedPorts: 'any',
    })
    cleanup.push(() => sim.close())
    sim.setProjectWebhook(sim.projectId, { url: rx.url })
    await sim.addContact(sim.projectId, { phone_number: '+16505550001' })
    for (let i = 0; i < 1000 && sim.deliveries()[0]?.status !== 'delivered'; i++)
      await Bun.sleep(10)
    expect(sim.deliveries()[0]?.attempts.map((a) => a.http_status)).toEqual([500, 500, 200])
  })
})
