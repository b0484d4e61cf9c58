import { expect, test } from 'bun:test'
import { decodeEvent, parseForm } from '@telehook/protocol'
import { sampleCurl, sampleIncomingMessage } from '../src/sample.ts'

test('the sample message is a valid incoming_message once its secret is removed', () => {
  const fields = sampleIncomingMessage('s3cret-value', 1_700_000_000_000)
  const decoded = decodeEvent(parseForm(new URLSearchParams(fields).toString()))
  expect(decoded.ok).toBe(true)
  if (decoded.ok) {
    expect(decoded.event.event).toBe('incoming_message')
    expect(JSON.stringify(decoded.event)).not.toContain('s3cret-value')
  }
})

test('the curl quotes values for the shell', () => {
  const curl = sampleCurl('http://localhost:8000/webhook', "it's", 0)
  expect(curl).toStartWith("curl -sS 'http://localhost:8000/webhook' ")
  expect(curl).toContain(`--data-urlencode 'secret=it'\\''s'`)
  expect(curl).toContain(`--data-urlencode 'event=incoming_message'`)
})
