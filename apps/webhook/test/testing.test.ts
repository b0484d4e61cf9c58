import { expect, test } from 'bun:test'
import { freePorts, waitUntilHealthy } from '../src/testing'

test('freePorts gives distinct ports; waitUntilHealthy waits for 200 and for until()', async () => {
  const [a, b, c] = await freePorts(3)
  expect(new Set([a, b, c]).size).toBe(3)
  let healthy = false
  const server = Bun.serve({
    port: a,
    hostname: '127.0.0.1',
    fetch: () => new Response(null, { status: healthy ? 200 : 503 }),
  })
  try {
    let polls = 0
    const waiting = waitUntilHealthy(`http://127.0.0.1:${a}`, {
      intervalMs: 5,
      until: () => ++polls > 3,
    })
    setTimeout(() => {
      healthy = true
    }, 20)
    await waiting
    expect(healthy).toBe(true)
    expect(polls).toBeGreaterThan(3)
  } finally {
    await server.stop(true)
  }
})

test('waitUntilHealthy stops at once when the process exits, and after its timeout', async () => {
  const [port] = await freePorts(1)
  const base = `http://127.0.0.1:${port}`
  await expect(
    waitUntilHealthy(base, { exitCode: () => 3, context: () => 'boom' }),
  ).rejects.toThrow('the server exited with 3: boom')
  await expect(waitUntilHealthy(base, { timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(
    'within 50 ms',
  )
})
