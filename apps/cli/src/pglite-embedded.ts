/** @module PGlite's WebAssembly and file-system bundle, embedded so the compiled binary needs no files. */
import initdbWasmPath from '@electric-sql/pglite/initdb.wasm' with { type: 'file' }
import fsBundlePath from '@electric-sql/pglite/pglite.data' with { type: 'file' }
import pgliteWasmPath from '@electric-sql/pglite/pglite.wasm' with { type: 'file' }
import pgdataPath from '@telehook/db/pgdata.tar.gz' with { type: 'file' }

/** The options PGlite accepts in place of fetching its assets next to its own module file. */
export interface PgliteAssets {
  pgliteWasmModule: WebAssembly.Module
  initdbWasmModule: WebAssembly.Module
  fsBundle: Blob
}

let assets: Promise<PgliteAssets> | undefined

/**
 * Loads PGlite's assets from the files Bun embedded (or from node_modules when run from source).
 * PGlite otherwise resolves them with `new URL('./pglite.wasm', import.meta.url)`, which points
 * nowhere inside a compiled binary. Compiled once per process: the modules are reused by every open.
 */
export function pgliteAssets(): Promise<PgliteAssets> {
  assets ??= (async () => {
    const [pglite, initdb, data] = await Promise.all([
      Bun.file(pgliteWasmPath).arrayBuffer(),
      Bun.file(initdbWasmPath).arrayBuffer(),
      Bun.file(fsBundlePath).arrayBuffer(),
    ])
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      WebAssembly.compile(pglite),
      WebAssembly.compile(initdb),
    ])
    return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([data]) }
  })()
  return assets
}

/**
 * The initialised data directory a new data folder starts from (@telehook/db ships it, made with
 * this PGlite version), embedded so that the binary reads no file for it.
 */
export function pgdataSeed(): Promise<Uint8Array> {
  return Bun.file(pgdataPath).bytes()
}
