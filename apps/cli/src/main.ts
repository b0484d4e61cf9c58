#!/usr/bin/env bun
/** @module Entry of the `telehook` executable (and of `bun run dev`). */
import { stopOnSignals } from '@telehook/engine'
import { runCli } from './cli.ts'
import { invocationDir } from './handlers.ts'

// The first SIGINT/SIGTERM stops start-up, or drains and closes within TELEHOOK_STOP_TIMEOUT_MS;
// repeats of it that arrive together (relayed by turbo and `bun run`) are the same request; one
// 2 s later cuts the stop short with one line and exits at once (130 or 143).
const stop = stopOnSignals(process, {
  name: 'telehook',
  log: (line) => process.stderr.write(`${line}\n`),
})

const code = await runCli(
  process.argv.slice(2),
  process.env,
  {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    cwd: process.cwd(),
    invokedFrom: invocationDir(process.env, process.cwd()),
    terminal: process.stderr.isTTY === true,
  },
  stop,
)
process.exit(code)
