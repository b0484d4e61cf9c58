/** The hostile-input drill at CI size, on each driver (see hostile.drill.ts). */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { TEST_DRIVERS } from '@telehook/db/testing'
import { corpus, run } from './hostile.drill'

setDefaultTimeout(180_000)

describe('hostile input drill', () => {
  test('the corpus has at least 60 cases, each with its expected status', () => {
    const cases = corpus()
    expect(cases.length).toBeGreaterThanOrEqual(60)
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
    for (const c of cases) expect(c.expect.length).toBeGreaterThan(0)
  })

  for (const driver of TEST_DRIVERS) {
    test(`every case answered as expected, the process stays up, memory comes back (${driver})`, async () => {
      const report = await run({ size: 'ci', driver })
      console.error(`hostile ${driver}: ${JSON.stringify(report.figures)}`)
      expect(report.problems).toEqual([])
      expect(report.ok).toBe(true)
    })
  }
})
