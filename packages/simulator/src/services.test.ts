import { describe, expect, test } from 'bun:test'
import { memoryReceiver, reply } from '../test/helpers.ts'
import { createSimulator, type Simulator } from './simulator.ts'

function setup(answer: Parameters<typeof memoryReceiver>[0]) {
  const rx = memoryReceiver(answer)
  const sim = createSimulator({ manualClock: true, fetch: rx.fetch })
  return { sim, rx }
}

function webhook(sim: Simulator, name: string, extra: Record<string, unknown> = {}) {
  return sim.createService(sim.projectId, {
    service_type: 'incoming_message_webhook',
    name,
    config: { url: `https://hooks.example/${name}`, secret: `secret-${name}` },
    ...extra,
  })
}

const hookName = (url: string) => url.split('/').pop()

describe('services: order, apply_mode, filters, fall-through', () => {
  test('services run in priority order; a service that sends a message stops the chain', async () => {
    const { sim, rx } = setup((r) =>
      hookName(r.url) === 'b' ? reply({ messages: [{ content: 'from b' }] }) : reply({}),
    )
    const c = webhook(sim, 'c', { priority: 3 })
    webhook(sim, 'a', { priority: 1 })
    webhook(sim, 'b', { priority: 2 })
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(rx.seen.map((r) => hookName(r.url))).toEqual(['a', 'b'])
    expect(out.handled).toBe(true)
    expect(out.deliveries.map((d) => d.messages.length)).toEqual([0, 1])
    expect(out.deliveries.some((d) => d.service_id === c.id)).toBe(false)
    // message_service_id names the service that handled the message; service_id the invoker
    const [first, second] = rx.seen
    expect(first?.form.message_service_id).toBe(first?.form.service_id)
    expect(second?.form.message_service_id).toBe(first?.form.service_id)
    expect(second?.form.secret).toBe('secret-b')
  })

  test('return_value false falls through even after sending a message', async () => {
    const { sim, rx } = setup((r) =>
      reply({
        messages: [{ content: `from ${hookName(r.url)}` }],
        variables: { return_value: false },
      }),
    )
    webhook(sim, 'a')
    webhook(sim, 'b')
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(rx.seen.map((r) => hookName(r.url))).toEqual(['a', 'b'])
    expect(out.handled).toBe(false)
    expect(out.deliveries.flatMap((d) => d.messages.map((m) => m.content))).toEqual([
      'from a',
      'from b',
    ])
  })

  test("apply_mode 'always' runs even when the message was handled; inactive services never run", async () => {
    const { sim, rx } = setup(() => reply({ messages: [{ content: 'ok' }] }))
    webhook(sim, 'a')
    webhook(sim, 'b')
    webhook(sim, 'off', { active: false, apply_mode: 'always' })
    webhook(sim, 'c', { apply_mode: 'always' })
    await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(rx.seen.map((r) => hookName(r.url))).toEqual(['a', 'c'])
  })

  test('a failed webhook (non-200) sent nothing, so the next service runs', async () => {
    const { sim, rx } = setup((r) =>
      hookName(r.url) === 'a'
        ? new Response('boom', { status: 500 })
        : reply({ messages: [{ content: 'b' }] }),
    )
    webhook(sim, 'a')
    webhook(sim, 'b')
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(out.deliveries.map((d) => [d.http_status, d.ok])).toEqual([
      [500, false],
      [200, true],
    ])
    expect(rx.seen).toHaveLength(2)
  })

  test('message_types, phone_ids and contact_number_filter select services', async () => {
    const { sim, rx } = setup(() => reply({}))
    const test = sim.testRoute()
    webhook(sim, 'sms-only', { message_types: ['sms'] })
    webhook(sim, 'text', { message_types: ['text'] })
    webhook(sim, 'ussd', { message_types: ['ussd_session'] })
    webhook(sim, 'test-route', { phone_ids: [test.id] })
    webhook(sim, 'all-numbers', { contact_number_filter: 'all' })
    const names = () => rx.seen.splice(0).map((r) => hookName(r.url))

    await sim.incomingMessage({ from_number: '+16505551234', content: 'x' })
    expect(names()).toEqual(['sms-only', 'text', 'all-numbers'])
    await sim.incomingMessage({
      from_number: '+16505551234',
      content: 'x',
      media: [{ url: 'https://m/1.jpg' }],
    })
    expect(names()).toEqual(['text', 'all-numbers'])
    // a USSD response comes "from" the USSD code: the long_number filter does not drop it
    await sim.incomingMessage({ from_number: '*123#', content: 'Balance: 5', message_type: 'ussd' })
    expect(names()).toEqual(['ussd', 'all-numbers'])
    await sim.incomingMessage({ from_number: '+16505551234', content: 'x', phone_id: test.id })
    expect(names()).toEqual(['sms-only', 'text', 'test-route', 'all-numbers'])
    // an alphanumeric sender is not a long number
    await sim.incomingMessage({ from_number: 'ACME', content: 'x' })
    expect(names()).toEqual(['all-numbers'])
  })
})

describe('replies are acted upon', () => {
  test('messages[] go to the sender, to to_number, as ussd, from route_id', async () => {
    const { sim } = setup(() =>
      reply({
        messages: [
          { content: 'to sender' },
          { content: 'to other', to_number: '+16505550999', route_id: sim.testRoute().id },
          { message_type: 'ussd', to_number: '*104*1#' },
        ],
      }),
    )
    webhook(sim, 'a')
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    const msgs = out.deliveries[0]?.messages ?? []
    expect(
      msgs.map((m) => [m.to_number, m.content, m.message_type, m.direction, m.source]),
    ).toEqual([
      ['+16505551234', 'to sender', 'sms', 'outgoing', 'webhook'],
      ['+16505550999', 'to other', 'sms', 'outgoing', 'webhook'],
      ['*104*1#', '', 'ussd', 'outgoing', 'webhook'],
    ])
    const def = sim.project().project.default_route_id
    expect(msgs.map((m) => m.route_id)).toEqual([def, sim.testRoute().id, def])
    expect(msgs[1]?.from_number).toBe(sim.testRoute().phone_number)
  })

  test('variables update contact, state (per service) and $vars; the next message carries them', async () => {
    let turn = 0
    const { sim, rx } = setup(() => {
      turn++
      if (turn === 1) {
        return reply({
          variables: {
            'contact.name': 'Ada',
            'contact.vars.lang': 'en',
            'state.id': 'ask_age',
            'state.vars.tries': 2,
            $tmp: 42,
          },
        })
      }
      return reply({ variables: { 'contact.vars.lang': null, 'state.id': null } })
    })
    const svc = webhook(sim, 'a')
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(out.contact.name).toBe('Ada')
    expect(out.contact.vars).toEqual({ lang: 'en' })
    expect(out.deliveries[0]?.temporary_variables).toEqual({ $tmp: 42 })
    expect(sim.serviceState(out.contact.id, svc.id)).toMatchObject({
      id: 'ask_age',
      vars: { tries: 2 },
    })

    await sim.incomingMessage({ from_number: '+16505551234', content: 'again' })
    const second = rx.seen[1]?.form
    expect(second?.contact).toMatchObject({ name: 'Ada', vars: { lang: 'en' } })
    expect(second?.state).toMatchObject({ id: 'ask_age', vars: { tries: '2' }, service_id: svc.id })
    expect(sim.contact(out.contact.id).vars).toEqual({})
    expect(sim.serviceState(out.contact.id, svc.id)).toBeUndefined()
  })

  test('a JSON reply without Content-Type application/json is acted upon with a warning', async () => {
    const { sim } = setup(
      () =>
        new Response('{"messages":[{"content":"plain"}]}', {
          headers: { 'content-type': 'text/plain' },
        }),
    )
    webhook(sim, 'a')
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(out.deliveries[0]?.messages.map((m) => m.content)).toEqual(['plain'])
    expect(out.deliveries[0]?.reply_warnings).toEqual([
      'the reply has Content-Type text/plain; Telerivet asks for application/json',
    ])
    const { sim: sim2 } = setup(() => reply({ messages: [{ content: 'json' }] }))
    webhook(sim2, 'a')
    const ok = await sim2.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    expect(ok.deliveries[0]?.reply_warnings).toEqual([])
  })

  test('an invalid reply body is recorded and not acted upon', async () => {
    const { sim } = setup(() => reply({ messages: [{ text: 'wrong field' }] }))
    webhook(sim, 'a')
    const out = await sim.incomingMessage({ from_number: '+16505551234', content: 'hi' })
    const d = out.deliveries[0]
    expect(d?.ok).toBe(true)
    expect(d?.reply).toBeNull()
    expect(d?.reply_errors.length).toBeGreaterThan(0)
    expect(d?.messages).toEqual([])
    expect(sim.messages().filter((m) => m.direction === 'outgoing')).toHaveLength(0)
  })
})
