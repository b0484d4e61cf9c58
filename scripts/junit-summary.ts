/**
 * @module Totals every JUnit report in a folder (bun test and deno test write them) and prints
 * one line "N passed, N failed". A suite that crashed without a report, a failed lint or a failed
 * typecheck counts as one failure each, so a red run can never print "0 failed".
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

const [dir = '.reports', testExit = '0', extraFailures = '0'] = process.argv.slice(2)

let passed = 0
let failed = 0
let skipped = 0
for (const file of readdirSync(dir).filter((f) => f.endsWith('.xml'))) {
  const xml = readFileSync(join(dir, file), 'utf8')
  // count test cases directly: totals on <testsuites> differ in meaning between bun and deno
  const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? []
  let f = 0
  let s = 0
  for (const c of cases) {
    if (/<(failure|error)\b/.test(c)) f++
    else if (/<skipped\b/.test(c)) s++
  }
  console.log(`${file}: ${cases.length - f - s} passed, ${f} failed, ${s} skipped`)
  passed += cases.length - f - s
  failed += f
  skipped += s
}
// Every report a workspace's test script names must exist: bun exits 0 even when it could not
// write its JUnit file, and a missing report would silently drop a whole suite from the totals.
for (const group of ['apps', 'packages']) {
  for (const name of readdirSync(group)) checkReports(join(group, name, 'package.json'))
}
checkReports(join('tests', 'package.json'))

function checkReports(manifest: string): void {
  if (!existsSync(manifest)) return
  const script: string = JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test ?? ''
  for (const [, path] of script.matchAll(/(?:--reporter-outfile|--junit-path)=(\S+)/g)) {
    const file = basename(path as string)
    if (!existsSync(join(dir, file))) {
      console.log(`${file}: missing (the suite of ${manifest} wrote no report)`)
      failed += 1
    }
  }
}
if (Number(testExit) !== 0 && failed === 0) failed += 1 // a runner crashed outside any test case
failed += Number(extraFailures)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)
