/** The slow-clients drill at CI size, on each driver (see slow-clients.drill.ts). */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { TEST_DRIVERS } from '@telehook/db/testing'
import { run } from './slow-clients.drill'

setDefaultTimeout(180_000)

describe('slow clients drill', () => {
  for (const driver of TEST_DRIVERS) {
    test(`1 000 idle connections and slow uploads do not stop valid deliveries (${driver})`, async () => {
      const report = await run({ size: 'ci', driver })
      console.error(`slow-clients ${driver}: ${JSON.stringify(report.figures)}`)
      expect(report.problems).toEqual([])
      expect(report.ok).toBe(true)
    })
  }
})
