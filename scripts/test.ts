/**
 * @module `bun run test`: every suite through turbo (all of them, even after a failure), then the
 * same one-line total that CI prints: "N passed, N failed, N skipped", read from the JUnit reports.
 */
import { mkdirSync, rmSync } from 'node:fs'

// bun's JUnit reporter does not create the folder, and a stale report must not be counted
rmSync('.reports', { recursive: true, force: true })
mkdirSync('.reports', { recursive: true })

const turbo = Bun.spawnSync(
  ['bun', 'x', 'turbo', 'run', 'test', '--concurrency=1', '--continue', '--ui=stream'],
  { stdio: ['inherit', 'inherit', 'inherit'] },
)
const summary = Bun.spawnSync(
  ['bun', 'scripts/junit-summary.ts', '.reports', String(turbo.exitCode ?? 1), '0'],
  { stdio: ['inherit', 'inherit', 'inherit'] },
)
process.exit(summary.exitCode ?? 1)
