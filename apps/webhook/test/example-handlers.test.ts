import { describe, expect, test } from 'bun:test'
import { decodeEvent, type EventOf, isValidReply, parseForm } from '@telehook/protocol'
import handlers, { ASK_NAME, cleanName, STATES } from '../src/example-handlers'

const ctx = { endpointId: 'default', projectId: null, signal: new AbortController().signal }

function message(extra: string): EventOf<'incoming_message'> {
  const decoded = decodeEvent(
    parseForm(`event=incoming_message&id=SM1&content=hello&from_number=%2B16505550123&${extra}`),
  )
  if (!decoded.ok || decoded.event.event !== 'incoming_message') {
    throw new Error(`not a valid incoming_message: ${JSON.stringify(decoded)}`)
  }
  return decoded.event
}

async function answer(extra: string) {
  const handler = handlers.sync?.incoming_message
  if (!handler) throw new Error('no incoming_message handler')
  const reply = await handler(message(extra), ctx)
  expect(isValidReply(reply)).toBe(true)
  return reply
}

describe('example handlers: a two-step conversation', () => {
  test('a first message asks the name and moves to awaiting_name', async () => {
    expect(await answer('')).toEqual({
      messages: [{ content: ASK_NAME }],
      variables: { 'state.id': STATES.awaitingName },
    })
  })

  test('the next message stores the name as contact.name and thanks them', async () => {
    const reply = await answer('content=+Ada++Lovelace+&state%5Bid%5D=awaiting_name')
    expect(reply).toEqual({
      messages: [{ content: 'Thanks, Ada Lovelace! Nice to meet you.' }],
      variables: { 'contact.name': 'Ada Lovelace', 'state.id': STATES.named },
    })
  })

  test('an empty answer asks again without moving on', async () => {
    expect(await answer('content=+++&state%5Bid%5D=awaiting_name')).toEqual({
      messages: [{ content: ASK_NAME }],
    })
  })

  test('a known contact is greeted by name', async () => {
    const reply = await answer('state%5Bid%5D=named&contact%5Bname%5D=Ada')
    expect(reply).toEqual({ messages: [{ content: 'Welcome back, Ada!' }] })
  })

  test('an unknown state starts over', async () => {
    expect(await answer('state%5Bid%5D=some_other_flow')).toMatchObject({
      variables: { 'state.id': STATES.awaitingName },
    })
  })

  test('cleanName folds white space and caps the length', () => {
    expect(cleanName('  a \n b\t')).toBe('a b')
    expect(cleanName(undefined)).toBe('')
    expect(cleanName('x'.repeat(100))).toHaveLength(64)
  })
})
