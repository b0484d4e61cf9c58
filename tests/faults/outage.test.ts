/** Database outage (PostgreSQL), at the `ci` size (`TELEHOOK_DRILLS=long` for the long one); see outage.drill.ts. */
import { afterAll, expect, test } from 'bun:test'
import { drillDrivers, drillSize, formatReport, removeTemplate } from './harness'
import { run } from './outage.drill'

afterAll(() => removeTemplate())

test.skipIf(!drillDrivers().includes('postgres'))(
  'database outage (postgres): 503 + Retry-After within 10 s while cut, recovery alone, nothing acknowledged lost, LISTEN resumes',
  async () => {
    const report = await run({ size: drillSize(), driver: 'postgres' })
    console.log(formatReport(report))
    expect(report.problems).toEqual([])
    expect(report.figures.lost).toBe(0)
    expect(report.figures.doubled).toBe(0)
    expect(Number(report.figures.outage_503)).toBeGreaterThan(0)
    expect(report.figures.relisten).toBe('yes')
    expect(report.figures.job_after_restart).toBe('done')
    expect(report.ok).toBe(true)
  },
  900_000,
)
