/**
 * @module The OpenAPI document (`/docs/json`) and its viewer (`/docs`): Elysia's OpenAPI plugin, and
 * the plugin's Scalar page with Scalar's browser bundle served from its npm package
 * (`@scalar/api-reference`, pinned) at `/docs/scalar.js`. Nothing is loaded from another origin, so
 * the page works offline and inside the compiled executable, and its Content-Security-Policy keeps
 * the viewer from sending anything anywhere but this admin API.
 */
import { toOpenAPISchema } from '@elysiajs/openapi'
import { ScalarRender } from '@elysiajs/openapi/scalar'
import { type AnyElysia, Elysia } from 'elysia'

/** Where the viewer's script is served (in the admin guard's allow-list, like `/docs`). */
export const SCALAR_SCRIPT_PATH = '/docs/scalar.js'

/** The version of OpenAPI the document declares (one the common validators accept). */
export const OPENAPI_VERSION = '3.1.0'

const INFO = {
  title: 'Telehook admin API',
  version: '0.1.0',
  description:
    'Onboard Telerivet projects, create their webhook services, read stored events. ' +
    'Every route but /healthz needs the header `Authorization: Bearer TOKEN`. ' +
    'Request bodies are JSON. ' +
    'Errors answer {"error": {"code", "message", "param"?}} (ErrorBody) with a 4xx or ' +
    '5xx status: 400 invalid input or Telerivet refusing, 401 token, 404, 409, 415 not ' +
    'JSON, 422 Idempotency-Key reused, 429 too many failed tokens, 502 Telerivet unreachable.',
}

/** The page's policy: scripts, styles, fonts and requests from this origin only. */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The `/docs` HTML: the plugin's Scalar page pointed at the local bundle and the local document. */
export function docsHtml(): string {
  return ScalarRender(
    // The plugin writes these into attributes unescaped.
    { title: attr(INFO.title), version: INFO.version, description: attr(INFO.description) },
    {
      url: '/docs/json',
      cdn: SCALAR_SCRIPT_PATH,
      // Scalar's defaults would fetch fonts from its own servers and route "try it" via its proxy.
      withDefaultFonts: false,
      telemetry: false,
      // Hosted features (AI agent, MCP generator, toolbar links) would only reach Scalar's servers.
      agent: { disabled: true },
      mcp: { disabled: true },
      showToolbar: 'never',
      showDeveloperTools: 'never',
      // The plugin types this as Scalar's parsed configuration (every default filled in); the page
      // hands it to Scalar, which fills the defaults itself.
    } as unknown as Parameters<typeof ScalarRender>[1],
  )
}

/**
 * The Scalar bundle, served by `scalar-bun.ts`: its `file` import (which the compiled executable
 * embeds) is Bun's, so it is loaded only on Bun, and the rest of the admin app also loads on Deno,
 * where `/docs/json` works and the viewer's script is a 501 saying so.
 */
async function scalarScript(request: Request): Promise<Response> {
  if (typeof Bun === 'undefined') {
    return new Response('The docs viewer is served on Bun; read /docs/json', { status: 501 })
  }
  const { serveScalarBundle } = await import('./scalar-bun')
  return serveScalarBundle(request)
}

/**
 * Replaces every inline schema carrying an `$id` (TypeBox's name for a shared schema, e.g.
 * `ErrorBody`) by a `$ref` to `components.schemas`, where it is kept once. Inline, the same `$id` would
 * appear in many places, which JSON Schema forbids and OpenAPI validators reject.
 */
export function hoistSchemaIds<T>(
  doc: T & { components?: { schemas?: Record<string, unknown> } },
): T {
  const components: Record<string, unknown> = { ...doc.components?.schemas }
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (node === null || typeof node !== 'object') return node
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(node)) if (k !== '$id') out[k] = walk(v)
    const id = (node as { $id?: unknown }).$id
    if (typeof id !== 'string') return out
    components[id] ??= out
    return { $ref: `#/components/schemas/${id}` }
  }
  const { components: _, ...rest } = doc
  const walked = walk(rest) as Record<string, unknown>
  for (const [name, schema] of Object.entries(components)) {
    // A stored schema may itself hold named ones (walk is idempotent on the rest).
    const inner = walk(schema) as Record<string, unknown>
    components[name] = inner.$ref === `#/components/schemas/${name}` ? schema : inner
  }
  return { ...walked, components: { ...doc.components, schemas: components } } as T
}

/** The OpenAPI document of `app`'s routes (hidden ones left out), with the shared error body. */
export function openApiDocument(app: AnyElysia) {
  const { paths, components } = toOpenAPISchema(
    app,
    undefined,
    undefined,
    undefined,
    OPENAPI_VERSION,
  )
  return hoistSchemaIds({
    openapi: OPENAPI_VERSION,
    info: INFO,
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { ...components.schemas },
    },
  })
}

/**
 * `/docs`, `/docs/json` and `/docs/scalar.js` (all reachable without a token). `documented.app` is the
 * finished admin app, whose routes the document describes; it is read on the first request.
 */
export const docsPlugin = (documented: { app?: AnyElysia }) => {
  const page = docsHtml()
  let doc: ReturnType<typeof openApiDocument> | undefined
  return new Elysia({ name: 'telehook-admin/docs' })
    .get(
      '/docs/json',
      () => {
        if (!documented.app) throw new Error('the admin app is not built yet')
        doc ??= openApiDocument(documented.app)
        return doc
      },
      { detail: { hide: true } },
    )
    .get(
      '/docs',
      () =>
        new Response(page, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': DOCS_CSP,
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer',
          },
        }),
      { detail: { hide: true } },
    )
    .get(SCALAR_SCRIPT_PATH, ({ request }) => scalarScript(request), { detail: { hide: true } })
}
