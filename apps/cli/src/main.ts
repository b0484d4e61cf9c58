#!/usr/bin/env bun
/** @module Entry of the `telehook` executable (and of `bun run dev`). */
import { runCli } from './cli.ts'

const stop = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'))
  process.once('SIGTERM', () => resolve('SIGTERM'))
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
