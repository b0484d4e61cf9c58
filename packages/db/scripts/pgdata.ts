/**
 * @module `bun run --cwd packages/db pgdata`: makes `assets/pgdata.tar.gz`, the initialised PGlite
 * data directory a new database starts from, and `assets/pgdata.json`, the PGlite version that
 * made it (src/pgdata.ts). Run it again after upgrading PGlite: a test and `bun run compile` check
 * that the two agree.
 */
import { makePgdata } from '../src/pgdata'

const started = performance.now()
const { path, bytes } = await makePgdata()
console.log(
  `wrote ${path} (${(bytes / 1024 / 1024).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
)
