#!/usr/bin/env bun
/**
 * @module Runs the deno binary that `bun install` put in node_modules, passing SIGINT and SIGTERM
 * on. `node_modules/.bin/deno` is a Node script that starts deno with `spawnSync` and passes no
 * signal on: stopping that wrapper (a process manager, `kill <pid>`) left the real deno serving.
 *
 *   bun apps/cli/deno/run-deno.ts run --no-check --allow-net --allow-env --allow-read \
 *     --allow-write --allow-sys apps/cli/deno/serve.ts
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// The deno package's own locator: the platform package's binary (copied next to it when it can).
const { runInstall } = require('deno/install_api.cjs') as { runInstall(): string }

const child = Bun.spawn([runInstall(), ...process.argv.slice(2)], {
  stdio: ['inherit', 'inherit', 'inherit'],
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal))
}
const code = await child.exited
process.exit(child.signalCode ? 128 + (child.signalCode === 'SIGTERM' ? 15 : 2) : code)
