/** Duplicate storm, at the `ci` size (`TELEHOOK_DRILLS=long` for the long one); see storm.drill.ts. */
import { afterAll, expect, test } from 'bun:test'
import { drillDrivers, drillSize, formatReport, removeTemplate } from './harness'
import { run } from './storm.drill'

afterAll(() => removeTemplate())

for (const driver of drillDrivers()) {
  test(`duplicate storm (${driver}): one row per event, every copy counted, one reply, same mirror`, async () => {
    const report = await run({ size: drillSize(), driver })
    console.log(formatReport(report))
    expect(report.problems).toEqual([])
    expect(report.figures.rows).toBe(report.figures.distinct)
    expect(report.figures.delivery_count_sum).toBe(report.figures.deliveries)
    expect(report.figures.replies_per_event_max).toBe(1)
    expect(report.figures.mirror_tables_equal).toBe('5/5')
    expect(report.ok).toBe(true)
  }, 900_000)
}
