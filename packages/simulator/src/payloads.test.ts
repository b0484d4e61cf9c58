/**
 * Encoding fidelity: every body the simulator sends carries, parameter for parameter, what the
 * webhook documentation lists for its event (plus the object's other REST properties, which the
 * documentation says are passed too, and nothing else), and decodes with the protocol package.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { decodeEvent, type FormObject, type FormValue } from '@telehook/protocol'
import { DOCUMENTED_PARAMETERS, REST_PROPERTIES } from '@telehook/protocol/fixtures'
import { memoryReceiver, type Received, reply } from '../test/helpers.ts'
import { createSimulator } from './simulator.ts'

const DOCUMENTED = DOCUMENTED_PARAMETERS
const {
  message: MESSAGE,
  contact: CONTACT,
  phone: PHONE,
  broadcast: BROADCAST,
  state: STATE,
  media: MEDIA,
} = REST_PROPERTIES

const ALLOWED = {
  incoming_message: [...DOCUMENTED.incoming_message, ...MESSAGE],
  send_status: [...DOCUMENTED.send_status, ...MESSAGE],
  send_broadcast: [...DOCUMENTED.send_broadcast, ...BROADCAST],
  contact_update: [...DOCUMENTED.contact_update, ...CONTACT],
  message_metadata: [...DOCUMENTED.message_metadata, ...MESSAGE],
}

const keys = (v: FormValue | undefined) =>
  v !== undefined && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).sort() : []

/** Checks one body: documented keys present, no key outside the lists, decodes cleanly. */
function checkBody(r: Received, event: keyof typeof DOCUMENTED) {
  const form = r.form
  expect(form.event).toBe(event)
  const present = Object.keys(form)
  expect(present.filter((k) => !ALLOWED[event].includes(k))).toEqual([])
  expect(DOCUMENTED[event].filter((k) => !(k in form))).toEqual([])
  // nested objects carry only the REST properties of their object
  const contact = form.contact
  if (contact !== undefined) expect(keys(contact).filter((k) => !CONTACT.includes(k))).toEqual([])
  const decoded = decodeEvent(form)
  if (!decoded.ok) throw new Error(`${event} did not decode: ${JSON.stringify(decoded)}`)
  expect(decoded.event.event).toBe(event)
  // decodeEvent takes the secret out
  expect('secret' in decoded.event).toBe(false)
  // raw wire format: booleans as 1/0, no "true"/"false", no "null"/"undefined"
  expect(r.body).not.toMatch(/=(true|false|null|undefined|NaN)(&|$)/)
  return decoded.event as unknown as Record<string, unknown>
}

describe('encoding fidelity', () => {
  const rx = memoryReceiver((r) =>
    r.form.event === 'incoming_message' && r.form.content === 'first'
      ? reply({
          messages: [
            { content: 'reply', status_url: 'https://status.example/cb', status_secret: 'st' },
          ],
          variables: {
            'state.id': 'asked',
            'state.vars.step': 1,
            'contact.vars.lang': 'fr',
            'phone.vars.site': 'north',
          },
        })
      : reply({}),
  )
  const sim = createSimulator({ manualClock: true, fetch: rx.fetch })
  const seen: Record<string, Received[]> = {}

  beforeAll(async () => {
    sim.setProjectWebhook(sim.projectId, {
      url: 'https://project.example/hook',
      secret: 'project-secret',
    })
    sim.createService(sim.projectId, {
      service_type: 'incoming_message_webhook',
      config: { url: 'https://service.example/hook', secret: 'service-secret' },
    })
    const group = sim.group(sim.projectId, 'Farmers')
    await sim.addContact(sim.projectId, {
      phone_number: '+15005550013',
      name: 'Grace',
      vars: { village: 'Kisumu', acres: 3 },
      group_ids: [group.id],
    })
    await sim.incomingMessage({ from_number: '+15005550013', content: 'first' })
    await sim.incomingMessage({
      from_number: '+15005550013',
      content: 'second',
      media: [
        { url: 'https://media.example/a.jpg', type: 'image/jpeg', filename: 'a.jpg', size: 2048 },
      ],
    })
    await sim.advance(10_000) // queued -> sent -> not_delivered
    const reply0 = sim.messages().find((m) => m.direction === 'outgoing')
    if (reply0 === undefined) throw new Error('no reply message')
    await sim.clickMessage(reply0.id)
    await sim.broadcast(sim.projectId, {
      content: 'Market day',
      group_ids: [group.id],
      to_numbers: ['+16505550777'],
    })
    const call = await sim.incomingMessage({
      from_number: '+16505550555',
      content: '',
      message_type: 'call',
    })
    await sim.messageMetadata(call.message.id, {
      update_type: 'set_variable',
      name: 'pressed',
      value: '1',
    })
    await sim.messageMetadata(call.message.id, { update_type: 'add_label', label_id: 'LB1' })
    await sim.messageMetadata(call.message.id, { update_type: 'call_complete' })
    const grace = sim.contactByNumber(sim.projectId, '+15005550013')
    if (grace === undefined) throw new Error('no contact')
    await sim.updateContact(grace.id, { send_blocked: true })
    await sim.deleteContact(grace.id)
    for (const r of rx.seen) {
      const name = String(r.form.event)
      seen[name] = [...(seen[name] ?? []), r]
    }
  })

  test('incoming_message: documented parameters, contact[...], phone[...], state[...], media[n][...]', () => {
    const all = seen.incoming_message ?? []
    expect(all.length).toBe(3)
    const second = all[1] as Received
    const e = checkBody(second, 'incoming_message')
    expect(second.form.secret).toBe('service-secret')
    expect(second.form.from_number_e164).toBe('+15005550013')
    expect(keys(second.form.phone).filter((k) => !PHONE.includes(k))).toEqual([])
    expect(keys(second.form.phone)).toEqual(
      expect.arrayContaining(['name', 'phone_type', 'country', 'vars']),
    )
    expect(keys(second.form.state)).toEqual([...STATE].sort())
    expect((second.form.media as FormObject[]).map((m) => Object.keys(m).sort())).toEqual([
      [...MEDIA].sort(),
    ])
    expect(second.body).toContain('media%5B0%5D%5Burl%5D=https%3A%2F%2Fmedia.example%2Fa.jpg')
    expect(second.body).toContain('contact%5Bvars%5D%5Bvillage%5D=Kisumu')
    expect(second.body).toContain('state%5Bvars%5D%5Bstep%5D=1')
    expect(e.state).toMatchObject({ id: 'asked' })
    expect(e.contact).toMatchObject({
      name: 'Grace',
      vars: { village: 'Kisumu', acres: '3', lang: 'fr' },
    })
    expect(e.message_type).toBe('mms')
    expect(typeof e.time_created).toBe('number')
    // the first message had no state yet: no state[...] parameters at all
    expect('state' in (all[0] as Received).form).toBe(false)
  })

  test('send_status: every status with error_message, time_sent, time_clicked as they apply', () => {
    const all = seen.send_status ?? []
    const ofReply = all.filter((r) => r.url === 'https://status.example/cb')
    expect(ofReply.map((r) => r.form.status)).toEqual([
      'queued',
      'sent',
      'not_delivered',
      'not_delivered',
    ])
    expect(ofReply.every((r) => r.form.secret === 'st')).toBe(true)
    expect('time_sent' in (ofReply[0] as Received).form).toBe(false)
    expect('error_message' in (ofReply[1] as Received).form).toBe(false)
    expect((ofReply[2] as Received).form.error_message).toBe('Example delivery failure message.')
    const clicked = checkBody(ofReply[3] as Received, 'send_status')
    expect(typeof clicked.time_clicked).toBe('number')
    for (const r of all) {
      const f = r.form
      const missing = DOCUMENTED.send_status.filter((k) => !(k in f))
      const optional = ['error_message', 'time_sent', 'time_clicked']
      expect(missing.filter((k) => !optional.includes(k))).toEqual([])
      expect(decodeEvent(f).ok).toBe(true)
    }
    // broadcast messages notify the project webhook with the project secret
    expect(
      all
        .filter((r) => r.url === 'https://project.example/hook')
        .every((r) => r.form.secret === 'project-secret'),
    ).toBe(true)
  })

  test('send_broadcast: recipients[n][...], recipients_str, estimated_count', () => {
    const [b] = seen.send_broadcast ?? []
    const e = checkBody(b as Received, 'send_broadcast')
    expect(e.estimated_count).toBe(2)
    expect(b?.form.recipients).toEqual([
      { type: 'phone_number', phone_number: '+16505550777' },
      expect.objectContaining({ type: 'group', name: 'Farmers' }),
    ])
    expect(b?.form.recipients_str).toBe('+16505550777, Farmers')
  })

  test('contact_update: add, auto_add, block_send and delete carry the documented parameters', () => {
    const all = seen.contact_update ?? []
    expect(all.map((r) => r.form.update_type)).toEqual(['add', 'auto_add', 'block_send', 'delete'])
    const add = checkBody(all[0] as Received, 'contact_update')
    expect(add).toMatchObject({ name: 'Grace', send_blocked: false, vars: { village: 'Kisumu' } })
    expect((all[2] as Received).form.send_blocked).toBe('1')
    for (const r of all.slice(1)) {
      const missing = DOCUMENTED.contact_update.filter((k) => !(k in r.form))
      // a contact without a name or groups has no such parameters (empty values are absent)
      expect(missing.filter((k) => !['name', 'vars', 'group_ids'].includes(k))).toEqual([])
      expect(decodeEvent(r.form).ok).toBe(true)
    }
  })

  test('message_metadata: set_variable, add_label, call_complete with in_progress', () => {
    const all = seen.message_metadata ?? []
    expect(all.map((r) => [r.form.update_type, r.form.in_progress])).toEqual([
      ['set_variable', '1'],
      ['add_label', '1'],
      ['call_complete', '0'],
    ])
    const e = checkBody(all[2] as Received, 'message_metadata')
    expect(e).toMatchObject({
      starred: false,
      label_ids: ['LB1'],
      vars: { pressed: '1' },
      in_progress: false,
    })
  })
})
