/**
 * @module The overview's chart: stacked bars of events per time bucket by event type, drawn as SVG
 * on the server. No chart library: 60 or 96 bars take these 94 lines and no script, where uPlot
 * 1.6.32 would add 51 KB of minified script (22 KB gzipped) and a canvas blank until it runs.
 */
import type { OverviewOut } from '../overview/model'
import { type Html, html } from './html'

/** A fixed colour per known event type (Okabe–Ito palette: distinguishable with colour blindness). */
export const EVENT_COLOURS: Record<string, string> = {
  incoming_message: '#0072B2',
  send_status: '#E69F00',
  contact_update: '#009E73',
  message_metadata: '#CC79A7',
  send_broadcast: '#56B4E9',
}
const OTHER = '#7a7a7a'
export const colourOf = (event: string) => EVENT_COLOURS[event] ?? OTHER

const W = 720
const H = 220
const PAD = { left: 40, right: 8, top: 10, bottom: 24 }

function niceMax(n: number): number {
  if (n <= 5) return 5
  const pow = 10 ** Math.floor(Math.log10(n))
  for (const m of [1, 2, 2.5, 5, 10]) if (n <= m * pow) return m * pow
  return 10 * pow
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)

/** The chart and its legend; the event types are those of the series, in a stable order. */
export function eventsChart(o: OverviewOut): Html {
  const bucketMs = o.bucket_seconds * 1000
  const fromMs = Date.parse(o.from)
  const n = Math.round((Date.parse(o.to) - fromMs) / bucketMs)
  const types = [...new Set(o.series.map((s) => s.event))].sort(
    (a, b) =>
      (EVENT_COLOURS[a] ? 0 : 1) - (EVENT_COLOURS[b] ? 0 : 1) || (a < b ? -1 : a > b ? 1 : 0),
  )
  const buckets = Array.from({ length: n }, () => new Map<string, number>())
  for (const s of o.series) {
    const i = Math.floor((Date.parse(s.at) - fromMs) / bucketMs)
    buckets[i]?.set(s.event, s.events)
  }
  const totals = buckets.map((b) => [...b.values()].reduce((a, c) => a + c, 0))
  const max = niceMax(Math.max(0, ...totals))
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const bw = plotW / n
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH

  const grid = [0, max / 2, max].map(
    (v) =>
      html`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e7eb"/><text x="${PAD.left - 4}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
  )
  const ticks = Array.from({ length: 5 }, (_, k) => {
    const i = Math.round((k * (n - 1)) / 4)
    const x = PAD.left + i * bw + bw / 2
    const anchor = k === 0 ? 'start' : k === 4 ? 'end' : 'middle'
    const tx = k === 0 ? PAD.left : k === 4 ? W - PAD.right : x
    return html`<text x="${tx}" y="${H - 6}" text-anchor="${anchor}">${hhmm(fromMs + i * bucketMs)}</text>`
  })
  const bars = buckets.map((b, i) => {
    if (totals[i] === 0) return ''
    let top = y(0)
    const x = (PAD.left + i * bw + 0.5).toFixed(1)
    const rects = types.map((t) => {
      const v = b.get(t) ?? 0
      if (v === 0) return ''
      const h = (v / max) * plotH
      top -= h
      return html`<rect x="${x}" y="${top.toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colourOf(t)}"/>`
    })
    const label = `${hhmm(fromMs + i * bucketMs)} UTC: ${types
      .filter((t) => b.get(t))
      .map((t) => `${t} ${b.get(t)}`)
      .join(', ')}`
    return html`<g><title>${label}</title>${rects}</g>`
  })
  const per = o.bucket_seconds === 60 ? 'minute' : `${o.bucket_seconds / 60} minutes`
  return html`<figure>
<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" font-size="11" fill="#5b6470">
<title id="chart-title">Events per ${per} by type, ${hhmm(fromMs)} to ${hhmm(Date.parse(o.to))} UTC; ${o.totals.events} in all</title>
${grid}${ticks}${bars}</svg>
<ul class="legend">${
    types.length === 0
      ? html`<li class="muted">No events in this period.</li>`
      : types.map((t) => html`<li><i style="background:${colourOf(t)}"></i>${t}</li>`)
  }</ul>
<figcaption>Events per ${per} (UTC), stacked by type. Hover over a bar for its counts; the table below has the same figures.</figcaption>
</figure>`
}
