/** @module The console's page frame: head, navigation, sign-out, flash messages. */
import { type Html, html, type Part } from './html'

export const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/console/events', label: 'Events' },
  { href: '/console/conversations', label: 'Conversations' },
  { href: '/console/projects', label: 'Projects' },
  { href: '/console/jobs', label: 'Jobs' },
] as const

export type Section = (typeof NAV)[number]['label']

export interface PageOptions {
  title: string
  section?: Section
  /** The session's CSRF token: the sign-out form and every action form carry it. */
  csrf?: string
  /** A one-line message after an action (`?done=` / `?error=`). */
  flash?: { kind: 'ok' | 'bad'; text: string } | null
}

/** A hidden field with the CSRF token, for a form that changes something. */
export const csrfField = (csrf: string | undefined) =>
  html`<input type="hidden" name="csrf" value="${csrf ?? ''}">`

export function page(opts: PageOptions, body: Part): string {
  const nav = opts.csrf
    ? html`<header>
<span class="brand">Telehook</span>
<nav aria-label="Console">${NAV.map(
        (n) =>
          html`<a href="${n.href}"${opts.section === n.label ? html` aria-current="page"` : ''}>${n.label}</a>`,
      )}</nav>
<form method="post" action="/console/sign-out">${csrfField(opts.csrf)}<button type="submit">Sign out</button></form>
</header>`
    : ''
  const flash = opts.flash
    ? html`<p class="notice ${opts.flash.kind}" role="status">${opts.flash.text}</p>`
    : ''
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Telehook console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${nav}
<main id="main">
${flash}
${body}
</main>
</body>
</html>
`.value
}

/** A table in a scrolling wrapper, so that it stays readable on a phone. */
export function table(caption: string, head: Html, rows: Part, opts: { bodyAttrs?: Html } = {}) {
  return html`<div class="table-wrap"><table><caption class="visually-hidden">${caption}</caption>
<thead>${head}</thead><tbody${opts.bodyAttrs ?? ''}>${rows}</tbody></table></div>`
}

/** `?done=` and `?error=` of a redirect after an action, as a flash message. */
export function flashOf(query: Record<string, string | undefined>): PageOptions['flash'] {
  if (query.error) return { kind: 'bad', text: query.error.slice(0, 300) }
  if (query.done) return { kind: 'ok', text: query.done.slice(0, 300) }
  return null
}
