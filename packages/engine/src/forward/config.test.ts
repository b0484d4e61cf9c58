import { expect, test } from 'bun:test'
import { ForwardConfigError, loadForwarderConfig } from './config'
import { forwardBackoff } from './deliver'

test('unset variables keep the defaults', () => {
  expect(loadForwarderConfig({})).toEqual({})
})

test('values are read as numbers; the retry base makes the backoff', () => {
  const c = loadForwarderConfig({
    TELEHOOK_FORWARD_CONCURRENCY: '8',
    TELEHOOK_FORWARD_TIMEOUT_MS: '2000',
    TELEHOOK_FORWARD_MAX_AGE_MS: '60000',
    TELEHOOK_FORWARD_LEASE_MS: '5000',
    TELEHOOK_FORWARD_RETRY_BASE_MS: '100',
  })
  expect(c).toMatchObject({ concurrency: 8, timeoutMs: 2000, maxAgeMs: 60_000, leaseMs: 5000 })
  for (let attempt = 1; attempt <= 5; attempt++) {
    const full = 100 * 2 ** (attempt - 1)
    const d = c.backoffMs?.(attempt) ?? -1
    expect(d).toBeGreaterThanOrEqual(full / 2)
    expect(d).toBeLessThanOrEqual(full)
  }
})

test('every bad variable is named; a lease not longer than the timeout is refused', () => {
  let error: unknown
  try {
    loadForwarderConfig({
      TELEHOOK_FORWARD_CONCURRENCY: '0',
      TELEHOOK_FORWARD_TIMEOUT_MS: 'soon',
      TELEHOOK_FORWARD_LEASE_MS: '10000',
    })
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(ForwardConfigError)
  const problems = (error as ForwardConfigError).problems
  expect(problems[0]).toStartWith('TELEHOOK_FORWARD_CONCURRENCY:')
  expect(problems[1]).toStartWith('TELEHOOK_FORWARD_TIMEOUT_MS:')
  expect(problems[2]).toStartWith('TELEHOOK_FORWARD_LEASE_MS: must be longer')
})

test('the backoff is capped', () => {
  expect(forwardBackoff(1000, 5000)(30)).toBeLessThanOrEqual(5000)
})
