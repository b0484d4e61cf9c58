/**
 * @module Scalar's browser bundle (`@scalar/api-reference`, pinned) as a file: a Bun `file` import,
 * so `bun build --compile` embeds it in the executable. Loaded by `docs.ts` on Bun only.
 */
// @ts-expect-error the browser bundle has no type declarations: a `file` import gives its path
import scalarBundle from '../node_modules/@scalar/api-reference/dist/browser/standalone.js' with {
  type: 'file',
}

let gzipped: Uint8Array<ArrayBuffer> | undefined

/** The Scalar bundle (4 MB; 1 MB gzipped, compressed once on first request). */
export async function serveScalarBundle(request: Request): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=86400',
    vary: 'accept-encoding',
  }
  if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
    gzipped ??= Bun.gzipSync(new Uint8Array(await Bun.file(scalarBundle as string).arrayBuffer()))
    return new Response(gzipped, { headers: { ...headers, 'content-encoding': 'gzip' } })
  }
  return new Response(Bun.file(scalarBundle as string), { headers })
}
