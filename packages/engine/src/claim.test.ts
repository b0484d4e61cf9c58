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
    await releaser.stop(Date.now())
  })

  test('a claim that works sends a waiting release at once', async () => {
    // Without the nudge the retry would wait a minute.
    const { releaser, calls } = setup(1, 60_000)
    await releaser.release('a', Date.now() + 600_000)
    releaser.nudge()
    await until(() => calls.length === 2)
    expect(calls).toEqual([['a'], ['a']])
    await releaser.stop(Date.now())
  })

  test('gives up when the lease is over', async () => {
    const over = setup(100)
    await over.releaser.release('a', Date.now() + 50)
    await until(() => over.lines.some((l) => l.msg.startsWith('gave up')))
    const tries = over.calls.length
    expect(tries).toBeGreaterThanOrEqual(1)
    await Bun.sleep(100)
    expect(over.calls.length).toBe(tries)
  })

  test('stop() gives back at once what waits, rather than leaving it to the lease', async () => {
    // Without stop() the retry would wait a minute.
    const { releaser, calls, lines } = setup(1, 60_000)
    await releaser.release('a', Date.now() + 600_000)
    expect(await releaser.stop(Date.now() + 5000)).toBe(0)
    expect(calls).toEqual([['a'], ['a']])
    expect(lines.some((l) => l.msg.startsWith('stopped'))).toBe(false)
  })

  test('stop() gives up at its deadline, hung statement or not, and says so', async () => {
    const down = setup(1e9)
    await down.releaser.release('b', Date.now() + 60_000)
    const stopping = Date.now()
    expect(await down.releaser.stop(Date.now() + 200)).toBe(1)
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(190)
    // Tried again every 20 ms meanwhile, and never after.
    const tries = down.calls.length
    expect(tries).toBeGreaterThan(3)
    await Bun.sleep(100)
    expect(down.calls.length).toBe(tries)
    expect(down.lines.at(-1)).toMatchObject({
      level: 'warn',
      msg: 'stopped without giving back jobs of failed claims: the database did not take it in time; their leases hand them on',
      claims: 1,
    })

    let calls = 0
    const hung = createClaimReleaser({
      retryMs: 20,
      what: 'jobs',
      logger: createJsonLogger(() => {}),
      release: () => {
        calls++
        // The first try fails; the next one never answers (a black-holed connection).
        return calls === 1
          ? Promise.reject(new Error('connect ECONNREFUSED'))
          : new Promise(() => {})
      },
    })
    await hung.release('c', Date.now() + 60_000)
    const started = Date.now()
    expect(await hung.stop(Date.now() + 200)).toBe(1)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(calls).toBe(2)
  })
})
