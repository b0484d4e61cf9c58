/** Crash under load, at the `ci` size (`TELEHOOK_DRILLS=long` for the long one); see crash.drill.ts. */
import { afterAll, expect, test } from 'bun:test'
import { run } from './crash.drill'
import { drillDrivers, drillSize, formatReport, removeTemplate } from './harness'

afterAll(() => removeTemplate())

for (const driver of drillDrivers()) {
  test(`crash under load (${driver}): every acknowledged delivery survives SIGKILLs, stored once`, async () => {
    const report = await run({ size: drillSize(), driver })
    console.log(formatReport(report))
    expect(report.problems).toEqual([])
    expect(report.figures.lost).toBe(0)
    expect(report.figures.doubled).toBe(0)
    expect(report.figures.kills).toBe(drillSize() === 'long' ? 20 : 5)
    expect(Number(report.figures.acknowledged)).toBeGreaterThan(0)
    expect(report.ok).toBe(true)
  }, 900_000)
}
