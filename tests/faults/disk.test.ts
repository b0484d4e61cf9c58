/**
 * Disk full and read-only data folder (PGlite), at the `ci` size; see disk.drill.ts. Needs root
 * (tmpfs and loop-device mounts): skipped elsewhere, with the reason printed.
 *
 * The `test.failing` case is a defect this drill found that is not fixed yet: it passes while the
 * defect is there, and fails (asking to be turned into a plain test) once it is fixed.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cannotRun, run } from './disk.drill'
import { type DrillReport, drillDrivers, drillSize, formatReport, removeTemplate } from './harness'

afterAll(() => removeTemplate())

const reason = drillDrivers().includes('pglite')
  ? await cannotRun()
  : 'PGlite not among the drivers'
if (reason) console.log(`disk drill skipped: ${reason}`)
let report: DrillReport

beforeAll(async () => {
  if (reason) return
  report = await run({ size: drillSize(), driver: 'pglite' })
  console.log(formatReport(report))
}, 900_000)

const problems = (prefix: RegExp) => report.problems.filter((p) => prefix.test(p))

test.skipIf(reason !== null)(
  'disk full (pglite): 503 + Retry-After and a log line naming the cause, recovery without a restart, nothing acknowledged lost',
  () => {
    expect(problems(/^full:/)).toEqual([])
    expect(report.figures.full_lost).toBe(0)
    expect(report.figures.full_healthz).toBeDefined()
  },
)

test.skipIf(reason !== null)(
  'read-only at start (pglite): one clear line and a failed exit',
  () => {
    expect(problems(/^read-only at start/)).toEqual([])
  },
)

// Found by this drill: after PGlite fails a WAL write (file system turned read-only), its next
// query never settles and blocks the process: deliveries get no answer at all (not a 503 at the
// deadline), SIGTERM is not handled; and acknowledged deliveries written shortly before the error
// are gone after the repair, because PGlite's data-folder file system ignores fsync.
test.failing('read-only under load (pglite): 503s, a clean stop, nothing acknowledged lost', () => {
  if (reason) throw new Error(reason)
  expect(problems(/^(read-only|ro):/)).toEqual([])
  expect(report.figures.ro_lost).toBe(0)
})
