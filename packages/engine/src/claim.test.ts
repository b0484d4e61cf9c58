import { describe, expect, test } from 'bun:test'
import { createClaimReleaser } from './claim'
import { createJsonLogger } from './logger'

function setup(failures: number, retryMs = 20) {
  const calls: string[][] = []
  const lines: { msg: string }[] = []
  let left = failures
  const releaser = createClaimReleaser({
    retryMs,
    what: 'jobs',
    logger: createJsonLogger((l) => lines.push(JSON.parse(l))),
    release: async (tokens) => {
      calls.push(tokens)
      if (left-- > 0) throw new Error('connect ECONNREFUSED')
      return tokens.length
    },
  })
  return { releaser, calls, lines }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await Bun.sleep(10)
}

describe('claim releaser', () => {
  test('gives back at once when the database answers', async () => {
    const { releaser, calls, lines } = setup(0)
    await releaser.release('a', Date.now() + 60_000)
    expect(calls).toEqual([['a']])
    expect(lines.map((l) => l.msg)).toEqual(['gave back jobs of a claim whose answer was lost'])
  })

  test('retries with backoff; the claims that fail meanwhile go in the same statement', async () => {
    const { releaser, calls, lines } = setup(2)
    await releaser.release('a', Date.now() + 60_000)
    // A retry waits: the next failed claim does not send a statement of its own.
    await releaser.release('b', Date.now() + 60_000)
    expect(calls).toEqual([['a']])
    await until(() => calls.length === 3)
    expect(calls).toEqual([['a'], ['a', 'b'], ['a', 'b']])
    expect(lines.map((l) => l.msg)).toEqual([
      'could not give back jobs of a failed claim; retrying until the lease is over',
      'gave back lost claims after retrying',
      'gave back jobs of a claim whose answer was lost',
    ])
    await releaser.stop()
  })

  test('a claim that works sends a waiting release at once', async () => {
    // Without the nudge the retry would wait a minute.
    const { releaser, calls } = setup(1, 60_000)
    await releaser.release('a', Date.now() + 600_000)
    releaser.nudge()
    await until(() => calls.length === 2)
    expect(calls).toEqual([['a'], ['a']])
    await releaser.stop()
  })

  test('gives up when the lease is over; stop() drops what waits', async () => {
    const over = setup(100)
    await over.releaser.release('a', Date.now() + 50)
    await until(() => over.lines.some((l) => l.msg.startsWith('gave up')))
    const tries = over.calls.length
    expect(tries).toBeGreaterThanOrEqual(1)
    await Bun.sleep(100)
    expect(over.calls.length).toBe(tries)

    const stopped = setup(100)
    await stopped.releaser.release('b', Date.now() + 60_000)
    await stopped.releaser.stop()
    await Bun.sleep(100)
    expect(stopped.calls).toEqual([['b']])
  })
})
