import { describe, expect, test } from 'bun:test'
import { createJsonLogger } from './logger'
import { createSettleRetries } from './settle'

function setup(retryMs: number) {
  const lines: Record<string, unknown>[] = []
  const retries = createSettleRetries({
    retryMs,
    logger: createJsonLogger((l) => lines.push(JSON.parse(l))),
  })
  /** A write the database refuses `failures` times, then takes (or never answers: `hang`). */
  const write = (failures: number, hang = false) => {
    let tries = 0
    return {
      tries: () => tries,
      write: () => {
        tries++
        if (tries <= failures) return Promise.reject(new Error('connect ECONNREFUSED'))
        return hang ? new Promise(() => {}) : Promise.resolve()
      },
    }
  }
  const leaseOver = Date.now() + 600_000
  const failed = { what: 'job requeue', leaseOver, error: new Error('connect ECONNREFUSED') }
  return { retries, lines, write, failed }
}

describe('settle retries at stop', () => {
  test('a write waiting for its next try goes at once, and stop() waits for it', async () => {
    // Without stop() the next try would be a minute away.
    const { retries, lines, write, failed } = setup(60_000)
    const w = write(0)
    retries.retry({ ...failed, write: w.write, job: 1 })
    expect(w.tries()).toBe(0)
    expect(await retries.stop(Date.now() + 5000)).toEqual([])
    expect(w.tries()).toBe(1)
    expect(lines.at(-1)).toMatchObject({ msg: 'recorded job requeue after retrying', job: 1 })
  })

  test('refused again, it is tried every retryMs until the deadline', async () => {
    const { retries, write, failed } = setup(20)
    const w = write(3)
    // At stop the tries are retryMs apart, no longer doubling.
    retries.retry({ ...failed, write: w.write, job: 2 })
    const stopping = Date.now()
    expect(await retries.stop(Date.now() + 5000)).toEqual([])
    expect(w.tries()).toBe(4)
    expect(Date.now() - stopping).toBeLessThan(1000)
  })

  test('stop() resolves at the deadline with the jobs not written, hung or refused', async () => {
    const { retries, lines, write, failed } = setup(20)
    const refused = write(1e9)
    const hung = write(0, true)
    const taken = write(1)
    retries.retry({ ...failed, write: refused.write, job: 3 })
    retries.retry({ ...failed, write: hung.write, job: 4 })
    retries.retry({ ...failed, write: taken.write, job: 5 })
    const stopping = Date.now()
    expect((await retries.stop(Date.now() + 200)).sort()).toEqual([3, 4])
    const took = Date.now() - stopping
    expect(took).toBeGreaterThanOrEqual(190)
    expect(took).toBeLessThan(1000)
    expect(hung.tries()).toBe(1)
    // Nothing is tried after stop() returned; a later failure is not retried either.
    const tries = refused.tries()
    await Bun.sleep(100)
    expect(refused.tries()).toBe(tries)
    retries.retry({ ...failed, write: write(1e9).write, job: 6 })
    expect(lines.at(-1)).toMatchObject({
      level: 'warn',
      msg: 'could not record job requeue and the worker has stopped; the lease hands it on',
      job: 6,
    })
  })

  test('a write whose lease is over is given up, stopping or not', async () => {
    const { retries, lines, write, failed } = setup(20)
    const w = write(1e9)
    retries.retry({ ...failed, write: w.write, job: 7, leaseOver: Date.now() + 100 })
    expect(await retries.stop(Date.now() + 5000)).toEqual([])
    expect(lines.at(-1)).toMatchObject({
      msg: 'gave up recording job requeue; the lease hands it on',
      job: 7,
    })
  })
})
