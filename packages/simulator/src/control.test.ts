import { afterAll, describe, expect, test } from 'bun:test'
import { reply, socketReceiver } from '../test/helpers.ts'
import { startSimulator } from './serve.ts'

// One listening simulator and one receiver for the file: the control API over real sockets.
const rx = socketReceiver((r) => {
  if (r.form.event === 'incoming_message') {
    return reply({
      messages: [{ content: `got ${r.form.content}` }],
      variables: { 'contact.name': 'Zoe' },
    })
  }
  return new Response('')
})
const sim = await startSimulator({
  manualClock: true,
  allowedPorts: 'any',
  apiKey: 'CK',
  projectId: 'PJctl',
})
afterAll(async () => {
  await sim.close()
  rx.stop()
})

async function ctl(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  return {
    status: res.status,
    json: (await res.json()) as Record<string, unknown> & { error?: Record<string, string> },
  }
}

describe('control API over HTTP', () => {
  test('GET /_sim tells the project and key', async () => {
    expect((await ctl('GET', '')).json).toMatchObject({
      project_id: 'PJctl',
      api_key: 'CK',
      manual_clock: true,
    })
  })

  test('POST /_sim/incoming delivers and answers each outcome with the messages it caused', async () => {
    sim.sim.createService('PJctl', {
      service_type: 'incoming_message_webhook',
      config: { url: `${rx.url}/svc`, secret: 'x' },
    })
    const r = await ctl('POST', '/incoming', {
      project_id: 'PJctl',
      from_number: '+16505557777',
      content: 'yo',
    })
    expect(r.status).toBe(200)
    const d = (r.json.deliveries as Record<string, unknown>[])[0]
    expect(d).toMatchObject({
      http_status: 200,
      ok: true,
      reply: { messages: [{ content: 'got yo' }] },
    })
    expect(
      ((d?.messages ?? []) as { content: string; to_number: string }[]).map((m) => [
        m.content,
        m.to_number,
      ]),
    ).toEqual([['got yo', '+16505557777']])
    expect(r.json.contact).toMatchObject({ name: 'Zoe', phone_number: '+16505557777' })
    const bad = await ctl('POST', '/incoming', { content: 'no sender' })
    expect(bad.status).toBe(400)
    expect(bad.json.error).toMatchObject({ code: 'invalid_param', param: 'from_number' })
  })

  test('project webhook, contacts, metadata, status, broadcast, deliveries and advance', async () => {
    const hook = await ctl('POST', '/projects/PJctl/webhook', {
      url: `${rx.url}/project`,
      secret: 'ps',
    })
    expect(hook.json).toMatchObject({
      url: `${rx.url}/project`,
      secret: 'ps',
      events: { send_status: true },
    })
    const added = await ctl('POST', '/contacts', { phone_number: '+16505558888', name: 'Max' })
    const contactId = (added.json.contact as { id: string }).id
    expect(added.json.delivery).toMatchObject({ event: 'contact_update', status: 'delivered' })
    const blocked = await ctl('POST', `/contacts/${contactId}`, { send_blocked: true })
    expect((blocked.json.contact as { send_blocked: boolean }).send_blocked).toBe(true)
    const group = await ctl('POST', '/groups', { name: 'Team' })
    await ctl('POST', `/contacts/${contactId}`, { add_group_ids: [group.json.id] })
    const bc = await ctl('POST', '/broadcast', {
      content: 'hello all',
      group_ids: [group.json.id],
      to_numbers: ['+16505559999'],
    })
    expect((bc.json.broadcast as { estimated_count: number }).estimated_count).toBe(2)
    const bcMessages = bc.json.messages as { id: string; to_number: string }[]
    const messageId = bcMessages.find((m) => m.to_number === '+16505559999')?.id as string
    const meta = await ctl('POST', `/messages/${messageId}/metadata`, { update_type: 'star' })
    expect(meta.json.message).toMatchObject({ starred: true })
    const st = await ctl('POST', `/messages/${messageId}/status`, { status: 'cancelled' })
    expect(st.json.message).toMatchObject({ status: 'cancelled' })
    expect((await ctl('DELETE', `/contacts/${contactId}`)).status).toBe(200)
    expect((await ctl('GET', `/contacts/${contactId}`)).status).toBe(404)

    const adv = await ctl('POST', '/advance', { ms: 120_000 })
    expect(adv.json.pending).toBe(0)
    const events = (
      (await ctl('GET', '/deliveries')).json.data as { event: string; url: string }[]
    ).map((d) => d.event)
    expect(new Set(events)).toEqual(
      new Set([
        'incoming_message',
        'contact_update',
        'send_broadcast',
        'send_status',
        'message_metadata',
      ]),
    )
    const onlyMeta = (await ctl('GET', '/deliveries?event=message_metadata')).json.data as unknown[]
    expect(onlyMeta).toHaveLength(1)
    // the blocked contact's broadcast message failed instead of being sent
    const msgs = (await ctl('GET', '/messages?project_id=PJctl')).json.data as {
      to_number: string
      status: string
      broadcast_id: string | null
    }[]
    expect(msgs.filter((m) => m.broadcast_id !== null).map((m) => [m.to_number, m.status])).toEqual(
      [
        ['+16505559999', 'cancelled'],
        ['+16505558888', 'failed'],
      ],
    )
    expect((await ctl('GET', '/deliveries?status=bogus')).status).toBe(400)
    expect((await ctl('POST', '/advance', { ms: -1 })).status).toBe(400)
    expect((await ctl('GET', '/nowhere')).json.error?.code).toBe('not_found')
  })

  test('the REST API on the same socket, and the programmatic handles', async () => {
    const res = await fetch(`${sim.apiUrl}/projects/PJctl`, {
      headers: { authorization: `Basic ${btoa('CK:')}` },
    })
    expect(((await res.json()) as { id: string }).id).toBe('PJctl')
    const out = await sim.incomingMessage({ from_number: '+16505550001', content: 'direct' })
    expect(out.deliveries[0]?.ok).toBe(true)
    expect(sim.deliveries({ event: 'incoming_message' }).length).toBeGreaterThanOrEqual(2)
  })
})
