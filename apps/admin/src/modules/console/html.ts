/** @module A tagged template for HTML: every interpolated value is escaped unless it is `Html`. */

/** Markup that is already safe (built by {@link html} or {@link unsafeRaw}). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

export type Part = string | number | boolean | null | undefined | Html | readonly Part[]

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return ''
  if (part instanceof Html) return part.value
  if (Array.isArray(part)) return part.map(render).join('')
  return escapeHtml(String(part))
}

/**
 * Builds markup; `null`, `undefined` and `false` render nothing, arrays render each item.
 * @example html`<td>${row.content}</td>` // content escaped
 */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += render(values[i] as Part) + (strings[i + 1] ?? '')
  return new Html(out)
}

/** Trusted markup made by our own code (the SVG chart, the stylesheet). Never user input. */
export function unsafeRaw(markup: string): Html {
  return new Html(markup)
}

/** A time as `<time>`, readable in UTC, machine-readable in `datetime`. */
export function time(at: Date | string | null | undefined): Html {
  if (!at) return html`<span class="muted">—</span>`
  const d = typeof at === 'string' ? new Date(at) : at
  if (Number.isNaN(d.getTime())) return html`<span class="muted">—</span>`
  const iso = d.toISOString()
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)}</time>`
}
