import { describe, expect, test } from 'bun:test'
import { memoryReceiver, reply } from '../test/helpers.ts'
import { createSimulator } from './simulator.ts'

const api = (sim: ReturnType<typeof createSimulator>, path: string, body: unknown) =>
  sim.fetch(
    new Request(`http://sim.local/v1/projects/${sim.projectId}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${sim.apiKey}:`)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    }),
  )

describe('test numbers', () => {
  const cases: [string, [string, string | undefined][]][] = [
    ['+15005550011', [['failed', 'Example error message.']]],
    [
      '+15005550012',
      [
        ['sent', undefined],
        ['delivered', undefined],
      ],
    ],
    [
      '+15005550013',
      [
        ['sent', undefined],
        ['not_delivered', 'Example delivery failure message.'],
      ],
    ],
    [
      '+15005550014',
      [
        ['failed_queued', 'Example temporary failure message.'],
        ['sent', undefined],
      ],
    ],
    ['+16505550100', [['sent', undefined]]],
  ]
  for (const [number, expected] of cases) {
    test(`REST send from the test route to ${number} notifies ${expected.map((e) => e[0]).join(' -> ')}`, async () => {
      const rx = memoryReceiver()
      const sim = createSimulator({ manualClock: true, fetch: rx.fetch })
      const res = await api(sim, '/messages/send', {
        to_number: number,
        content: 'hello',
        route_id: sim.testRoute().id,
        status_url: 'https://status.example/cb',
        status_secret: 'sts',
      })
      expect(res.status).toBe(200)
      const message = (await res.json()) as { id: string; status: string; source: string }
      expect(message).toMatchObject({ status: 'queued', source: 'api' })
      await sim.advance(5 * 60_000)
      // an individual REST send is not notified as queued, only its later changes
      expect(rx.seen.map((r) => [r.form.status, r.form.error_message])).toEqual(expected)
      expect(rx.seen.every((r) => r.form.id === message.id && r.form.secret === 'sts')).toBe(true)
      expect(sim.message(message.id).status).toBe(expected.at(-1)?.[0] as string)
    })
  }

  test('webhook replies are notified from queued on, to the project webhook when no status_url', async () => {
    const rx = memoryReceiver((r) =>
      r.form.event === 'incoming_message'
        ? reply({ messages: [{ content: 'pong' }] })
        : new Response(''),
    )
    const sim = createSimulator({ manualClock: true, fetch: rx.fetch })
    sim.setProjectWebhook(sim.projectId, { url: 'https://project.example/hook', secret: 'ps' })
    sim.createService(sim.projectId, {
      service_type: 'incoming_message_webhook',
      config: { url: 'https://service.example/hook' },
    })
    await sim.incomingMessage({ from_number: '+15005550012', content: 'ping' })
    await sim.advance(60_000)
    const statuses = rx.seen.filter((r) => r.form.event === 'send_status')
    expect(statuses.map((r) => [r.url, r.form.status, r.form.secret])).toEqual([
      ['https://project.example/hook', 'queued', 'ps'],
      ['https://project.example/hook', 'sent', 'ps'],
      ['https://project.example/hook', 'delivered', 'ps'],
    ])
  })

  test('status notifications can be switched off per project setting', async () => {
    const rx = memoryReceiver()
    const sim = createSimulator({ manualClock: true, fetch: rx.fetch })
    sim.setProjectWebhook(sim.projectId, {
      url: 'https://project.example/hook',
      events: { send_status: false },
    })
    await api(sim, '/messages/send', { to_number: '+15005550012', content: 'x' })
    await sim.advance(60_000)
    expect(rx.seen).toEqual([])
  })
})
