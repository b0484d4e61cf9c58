import { describe, expect, test } from 'bun:test'
import { decodeEvent, type FormObject, parseForm } from '@telehook/protocol'
import { dedupeKey } from './dedupe'
import { createJsonLogger } from './logger'

const key = (body: string) => {
  const form: FormObject = parseForm(body)
  return dedupeKey(decodeEvent(form), form)
}

describe('dedupeKey', () => {
  test('messages and broadcasts by id, whatever else changed', async () => {
    expect(await key('event=incoming_message&id=SM1&content=a&secret=x')).toBe(
      'incoming_message:SM1',
    )
    expect(await key('event=incoming_message&id=SM1&content=b&secret=y')).toBe(
      'incoming_message:SM1',
    )
    expect(await key('event=send_broadcast&id=BC1&estimated_count=3')).toBe('send_broadcast:BC1')
  })

  test('send_status by (id, status, time_clicked)', async () => {
    expect(await key('event=send_status&id=SM1&status=sent')).toBe('send_status:SM1:sent:')
    expect(await key('event=send_status&id=SM1&status=sent&time_clicked=1700000000')).toBe(
      'send_status:SM1:sent:1700000000',
    )
    expect(await key('event=send_status&id=SM1&status=delivered')).not.toBe(
      await key('event=send_status&id=SM1&status=sent'),
    )
  })

  test('contact_update and message_metadata by the canonical payload: order and secret do not matter', async () => {
    const a = await key(
      'event=contact_update&update_type=update&id=CT1&name=Bo&vars[a]=1&vars[b]=2&secret=one',
    )
    const b = await key(
      'secret=two&vars[b]=2&id=CT1&vars[a]=1&name=Bo&update_type=update&event=contact_update',
    )
    expect(a).toBe(b)
    expect(a).toMatch(/^contact_update:sha256:[0-9a-f]{64}$/)
    const c = await key(
      'event=contact_update&update_type=update&id=CT1&name=Bob&vars[a]=1&vars[b]=2',
    )
    expect(c).not.toBe(a)
    const m1 = await key('event=message_metadata&update_type=star&id=SM1&starred=1')
    const m2 = await key('event=message_metadata&update_type=unstar&id=SM1&starred=0')
    expect(m1).toMatch(/^message_metadata:sha256:/)
    expect(m1).not.toBe(m2)
  })

  test('unknown and invalid events by the canonical payload', async () => {
    expect(await key('event=teleport&id=1&secret=a')).toBe(
      await key('id=1&event=teleport&secret=b'),
    )
    expect(await key('event=teleport&id=1')).toMatch(/^unknown_event:sha256:/)
    expect(await key('event=incoming_message&content=no+id')).toMatch(
      /^invalid:incoming_message:sha256:/,
    )
  })
})

describe('createJsonLogger', () => {
  test('writes one JSON object per line with time and level, errors as name and message', () => {
    const lines: string[] = []
    const log = createJsonLogger((l) => lines.push(l))
    log.info({ msg: 'hello', n: 1 })
    log.error({ msg: 'bad', error: new TypeError('nope') })
    expect(lines).toHaveLength(2)
    const first = JSON.parse(lines[0] ?? '')
    expect(first).toMatchObject({ level: 'info', msg: 'hello', n: 1 })
    expect(Number.isNaN(Date.parse(first.time))).toBe(false)
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({
      level: 'error',
      error: { name: 'TypeError', message: 'nope' },
    })
    expect(lines.every((l) => !l.includes('\n'))).toBe(true)
  })
})
