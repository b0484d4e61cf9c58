import { describe, expect, test } from 'bun:test'
import { WEBHOOK_PORTS, webhookPort } from './rest.ts'

describe('webhookPort', () => {
  test.each([
    ['https://hooks.example.com/hooks/x', 443],
    ['http://hooks.example.com/hooks/x', 80],
    ['http://127.0.0.1:8000/hooks/x', 8000],
    ['https://hooks.example.com:8443', 8443],
    ['http://hooks.example.com:3000/', 3000],
    // An explicit default port is normalised away by URL; it is still that port.
    ['https://hooks.example.com:443/', 443],
  ])('%s → %p', (url, port) => {
    expect(webhookPort(url)).toBe(port)
  })

  test.each(['ftp://example.com/', 'not a url', '/hooks/x', ''])('%p is no webhook URL', (url) => {
    expect(webhookPort(url)).toBeNull()
  })

  test("Telerivet's ports", () => {
    expect([...WEBHOOK_PORTS]).toEqual([80, 443, 8000, 8080, 8443])
    expect(WEBHOOK_PORTS.includes(webhookPort('http://h:3000') ?? 0)).toBe(false)
  })
})
