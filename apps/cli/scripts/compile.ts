/**
 * @module `bun run compile`: builds `dist/telehook` at the repository root, one executable with
 * PGlite's WebAssembly, its file bundle, an initialised data directory and the SQL migrations
 * inside.
 *
 *   bun run compile                                   # bun-linux-x64 → dist/telehook
 *   bun run compile -- -- --target bun-linux-arm64    # → dist/telehook-bun-linux-arm64 (via turbo)
 *   bun run --cwd apps/cli compile --outfile /tmp/telehook
 */
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { makePgdata, pgliteVersion, seedVersion } from '@telehook/db/pgdata'

const DEFAULT_TARGET = 'bun-linux-x64'
const here = import.meta.dir
const root = resolve(here, '../../..')

/** Builds the executable and returns its path. */
export async function compile({
  target = DEFAULT_TARGET,
  outfile,
}: {
  target?: string
  outfile?: string
} = {}): Promise<string> {
  const suffix = target === DEFAULT_TARGET ? '' : `-${target}`
  const exe = target.includes('windows') ? '.exe' : ''
  const out = resolve(outfile ?? join(root, 'dist', `telehook${suffix}${exe}`))
  // The embedded data directory must come from the PGlite that is embedded.
  if ((await seedVersion()) !== pgliteVersion()) {
    console.log(
      'packages/db/assets/pgdata.tar.gz is missing or was made by another PGlite: making it again',
    )
    await makePgdata()
  }
  const proc = Bun.spawn(
    [
      process.execPath,
      'build',
      '--compile',
      '--minify',
      // A bunfig.toml in the working folder must not change how the server runs (preloads …).
      '--no-compile-autoload-bunfig',
      `--target=${target}`,
      join(here, '..', 'src', 'main.ts'),
      '--outfile',
      out,
    ],
    { cwd: join(here, '..'), stdout: 'inherit', stderr: 'inherit' },
  )
  if ((await proc.exited) !== 0) throw new Error(`bun build --compile failed for ${target}`)
  return out
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: { target: { type: 'string' }, outfile: { type: 'string' } },
    strict: true,
  })
  const started = performance.now()
  const out = await compile({ target: values.target, outfile: values.outfile })
  const size = (await stat(out)).size
  console.log(
    `compiled ${out} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
}
