/**
 * @module `bun run drills`: runs every `tests/faults/*.drill.ts` on each driver it applies to
 * (its `drivers` export, else both; `TELEHOOK_TEST_DRIVERS` narrows them) and prints one line per
 * drill and driver with its figures, then the same as a Markdown table. Exits 1 when a drill
 * found a problem.
 *
 *   bun run drills                      # the ci size, every drill
 *   TELEHOOK_DRILLS=long bun run drills # the long size
 *   bun run drills crash storm          # only these drills
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  type DrillDriver,
  type DrillOptions,
  type DrillReport,
  drillDrivers,
  drillSize,
  formatReport,
  removeTemplate,
} from '../tests/faults/harness.ts'

interface DrillModule {
  run(opts: DrillOptions): Promise<DrillReport>
  drivers?: DrillDriver[]
}

/** The order of the issue's list; drills not named here follow alphabetically. */
const ORDER = ['crash', 'outage', 'storm', 'hostile', 'disk', 'slow-clients']

const dir = join(import.meta.dir, '..', 'tests', 'faults')
const only = process.argv.slice(2)
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.drill.ts'))
  .map((f) => f.slice(0, -'.drill.ts'.length))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort((a, b) => {
    const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length)
    return rank(a) - rank(b) || a.localeCompare(b)
  })
const unknown = only.filter((name) => !names.includes(name))
if (unknown.length > 0) {
  console.error(`no such drill: ${unknown.join(', ')} (tests/faults/<name>.drill.ts)`)
  process.exit(2)
}

const size = drillSize()
const enabled = drillDrivers()
const reports: (DrillReport & { seconds: number })[] = []
console.log(`drills (${size}) on ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}`)
for (const name of names) {
  const mod = (await import(join(dir, `${name}.drill.ts`))) as DrillModule
  for (const driver of (mod.drivers ?? ['postgres', 'pglite']).filter((d) => enabled.includes(d))) {
    const started = performance.now()
    let report: DrillReport
    try {
      report = await mod.run({ size, driver })
    } catch (error) {
      report = {
        name,
        driver,
        ok: false,
        figures: {},
        problems: [`threw: ${error instanceof Error ? error.message : String(error)}`],
      }
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10
    reports.push({ ...report, seconds })
    console.log(`${formatReport(report)}  (${seconds} s)`)
  }
}

const cell = (text: string) => text.replaceAll('|', '\\|')
console.log('\n| drill | driver | result | figures |\n|---|---|---|---|')
for (const r of reports) {
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  const result = r.ok ? 'ok' : `FAILED: ${r.problems.join('; ')}`
  console.log(`| ${r.name} | ${r.driver} | ${cell(result)} | ${cell(figures)} |`)
}
await removeTemplate()
const failed = reports.filter((r) => !r.ok)
console.log(`\n${reports.length - failed.length} ok, ${failed.length} failed`)
process.exit(failed.length > 0 ? 1 : 0)
