#!/usr/bin/env bun
/** @module Entry of the `telehook` executable (and of `bun run dev`). */
import { runCli } from './cli.ts'

// The first SIGINT/SIGTERM drains and closes; a second one, during a stuck drain, exits at once.
let signals = 0
const stop = new Promise<string>((resolve) => {
  const onSignal = (signal: string) => {
    signals += 1
    if (signals > 1) process.exit(130)
    resolve(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
})

const code = await runCli(
  process.argv.slice(2),
  process.env,
  {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    cwd: process.cwd(),
  },
  stop,
)
process.exit(code)
