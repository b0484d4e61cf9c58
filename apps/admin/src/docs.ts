/**
 * @module docs
 * The `/docs` page. The admin API runs on private hosts that may have no internet access, so the
 * page is readable on its own: every operation of the OpenAPI document, server-rendered. When the
 * Scalar viewer can be loaded from its CDN it takes over and the plain list is hidden.
 */

/** The slice of an OpenAPI document the page shows. */
export interface OpenApiDoc {
  info?: { title?: string; description?: string; version?: string }
  paths?: Record<
    string,
    Record<string, { summary?: string; description?: string; tags?: string[] }>
  >
}

/** Scalar's standalone viewer; only loaded by browsers that can reach it. */
export const SCALAR_CDN =
  'https://cdn.jsdelivr.net/npm/@scalar/api-reference/dist/browser/standalone.min.js'

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * The HTML of the docs page for `doc`, whose JSON is served at `specUrl`.
 * @example
 * new Response(docsPage(doc, '/docs/json'), { headers: { 'content-type': 'text/html; charset=utf-8' } })
 */
export function docsPage(doc: OpenApiDoc, specUrl: string): string {
  const title = escapeHtml(doc.info?.title ?? 'API')
  const rows: string[] = []
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = ops[method]
      if (op === undefined) continue
      const text = [op.summary, op.description].filter((x) => x !== undefined && x !== '')
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td>` +
          `<td>${escapeHtml(text.join(' — '))}</td></tr>`,
      )
    }
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem; max-width: 70rem }
table { border-collapse: collapse } td { padding: .3rem .8rem; border-bottom: 1px solid #ddd; vertical-align: top }
</style>
</head>
<body>
<main id="offline-docs">
<h1>${title} <small>${escapeHtml(doc.info?.version ?? '')}</small></h1>
<p>${escapeHtml(doc.info?.description ?? '')}</p>
<p>The OpenAPI document: <a href="${escapeHtml(specUrl)}">${escapeHtml(specUrl)}</a> (load it into any OpenAPI viewer or client generator).</p>
<table>
<thead><tr><th>method</th><th>path</th><th>what it does</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</main>
<script id="api-reference" data-url="${escapeHtml(specUrl)}"></script>
<script src="${SCALAR_CDN}" crossorigin onload="document.getElementById('offline-docs').hidden = true"></script>
</body>
</html>
`
}
