/** @module The console's pages, rendered on the server. */
import { encodeForm } from '@telehook/protocol'
import type { JobOut } from '../jobs/model'
import type { OverviewOut } from '../overview/model'
import type { ServiceList } from '../services/model'
import type { AnswerClasses } from './answers'
import { colourOf, eventsChart } from './chart'
import { type Html, html, type Part, time } from './html'
import { csrfField, type PageOptions, page, table } from './layout'
import type { EventFilters, EventRecord, ThreadItem } from './queries'

export const EVENT_TYPES = [
  'incoming_message',
  'send_status',
  'send_broadcast',
  'contact_update',
  'message_metadata',
] as const

const json = (v: unknown) => JSON.stringify(v, null, 2)
const ago = (iso: string | null, now: number): string => {
  if (!iso) return 'never'
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (s < 90) return `${s} s ago`
  if (s < 5400) return `${Math.round(s / 60)} min ago`
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} days ago`
}

function select(
  name: string,
  label: string,
  options: readonly (readonly [string, string])[],
  value: string | undefined,
): Html {
  return html`<label>${label}<select name="${name}">${options.map(
    ([v, text]) =>
      html`<option value="${v}"${v === (value ?? '') ? html` selected` : ''}>${text}</option>`,
  )}</select></label>`
}

// ---------- sign-in ----------

export function signInPage(error: string | null, next: string): string {
  return page(
    { title: 'Sign in' },
    html`<div class="signin">
<h1>Telehook console</h1>
${error ? html`<p class="notice bad" role="alert">${error}</p>` : ''}
<form method="post" action="/console/sign-in">
<input type="hidden" name="next" value="${next}">
<label for="token">Admin token<input id="token" name="token" type="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
<p class="muted">The token is the admin API's bearer token (<code>TELEHOOK_ADMIN_TOKEN</code>, the
generated one printed by <code>telehook serve</code>, or one made with <code>telehook token create</code>).</p>
</div>`,
  )
}

// ---------- overview ----------

export function overviewPage(
  opts: PageOptions,
  o: OverviewOut,
  answers: AnswerClasses | null = null,
  now = Date.now(),
): string {
  const t = o.totals
  const card = (label: string, value: Part, href?: string) =>
    html`<div class="card">${href ? html`<a href="${href}">` : ''}<div class="label">${label}</div><div class="value">${value}</div>${href ? html`</a>` : ''}</div>`
  const byType = new Map<string, number>()
  for (const s of o.series) byType.set(s.event, (byType.get(s.event) ?? 0) + s.events)
  const silentAfterMs = 60 * 60_000
  return page(
    { ...opts, title: 'Overview', section: 'Overview' },
    html`<h1>Overview</h1>
<nav aria-label="Period" class="pager">${(['hour', 'day'] as const).map(
      (r) =>
        html`<a class="button${o.range === r ? '' : ' secondary'}" href="/?range=${r}"${o.range === r ? html` aria-current="true"` : ''}>Last ${r}</a> `,
    )}</nav>
<div class="cards">
${card('Events', t.events)}
${card('Deliveries', t.deliveries)}
${card('Duplicate ratio', `${(o.duplicate_ratio * 100).toFixed(1)} %`)}
${card('Invalid (flagged)', t.invalid, '/console/events?valid=false')}
${card('Handler errors', t.handler_errors)}
${card('Queue: pending', o.queue.pending, '/console/jobs?state=pending')}
${card('Queue: retrying', o.queue.retrying, '/console/jobs?state=retrying')}
${card('Dead jobs', o.queue.dead, '/console/jobs?state=dead')}
</div>
<h2>Events over time</h2>
${eventsChart(o)}
<details><summary>Counts by type</summary>
${table(
  'Events by type in this period',
  html`<tr><th>Type</th><th class="num">Events</th></tr>`,
  [...byType].map(
    ([e, n]) =>
      html`<tr><td><i style="display:inline-block;width:.7rem;height:.7rem;background:${colourOf(e)}"></i> ${e}</td><td class="num">${n}</td></tr>`,
  ),
)}
</details>
${
  answers
    ? html`<h2>Webhook answers since this process started</h2>
<div class="cards">
${card('2xx (stored or duplicate)', answers['2xx'])}
${card('4xx (refused)', answers['4xx'])}
${card('5xx (not stored, Telerivet retries)', answers['5xx'])}
</div>
<p class="muted">Counted by this process (rejected deliveries are never stored); every instance's counts are at <code>/metrics</code>.</p>`
    : html`<p class="muted">Every stored delivery was answered 2xx (invalid ones too, flagged). Rejected deliveries
(403 wrong secret, 413, 415, 503) are not stored: the webhook app counts them by outcome at <code>/metrics</code>.</p>`
}
<h2>Endpoints: last delivery</h2>
<p class="muted">A service that stops receiving is the first sign that Telerivet stopped delivering.</p>
${table(
  'Endpoints and their last delivery',
  html`<tr><th>Endpoint</th><th>Kind</th><th>Project</th><th>Name</th><th>Last delivery</th></tr>`,
  o.endpoints.length === 0
    ? html`<tr><td colspan="5" class="muted">No endpoints yet.</td></tr>`
    : o.endpoints.map((e) => {
        const silent = !e.last_delivery_at || now - Date.parse(e.last_delivery_at) > silentAfterMs
        return html`<tr><td class="mono"><a href="/console/events?endpoint_id=${encodeURIComponent(e.id)}">${e.id}</a></td>
<td>${e.kind}${e.disabled ? html` <span class="badge">disabled</span>` : ''}</td><td>${e.project_id ?? '—'}</td><td>${e.name ?? '—'}</td>
<td>${time(e.last_delivery_at)} <span class="badge ${silent && !e.disabled ? 'warn' : 'ok'}">${ago(e.last_delivery_at, now)}</span></td></tr>`
      }),
)}`,
  )
}

// ---------- events ----------

function summary(e: EventRecord): string {
  const p = e.payload as Record<string, unknown>
  const pick = (k: string) =>
    typeof p[k] === 'string' || typeof p[k] === 'number' ? String(p[k]) : ''
  switch (e.event) {
    case 'incoming_message':
      return `${pick('from_number')}: ${pick('content')}`.slice(0, 120)
    case 'send_status':
      return `${pick('status')}${pick('error_message') ? ` (${pick('error_message')})` : ''} → ${pick('to_number')}`
    case 'contact_update':
      return `${pick('update_type')} ${pick('phone_number')}`
    default:
      return pick('title') || pick('content').slice(0, 120) || pick('update_type')
  }
}

/** One row of the events table; also sent down the live log. */
export function eventRow(e: EventRecord): Html {
  return html`<tr id="ev-${e.id}"><td>${time(e.receivedAt)}</td>
<td><a href="/console/events/${e.id}">${e.event || '(none)'}</a></td>
<td>${summary(e)}</td>
<td class="num">${e.deliveryCount}</td>
<td>${e.valid ? html`<span class="badge ok">valid</span>` : html`<span class="badge bad">invalid</span>`}${e.handlerError ? html` <span class="badge warn">handler error</span>` : ''}</td>
<td class="mono">${e.endpointId}</td></tr>`
}

export function eventsPage(
  opts: PageOptions,
  f: EventFilters,
  rows: EventRecord[],
  next: string | null,
  live: boolean,
): string {
  const qs = new URLSearchParams(
    Object.entries(f).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  )
  const streamUrl = `/console/events/stream${qs.size ? `?${qs}` : ''}`
  return page(
    { ...opts, title: 'Events', section: 'Events' },
    html`<h1>Events</h1>
<form class="filters" method="get" action="/console/events">
${select('event', 'Type', [['', 'Any'], ...EVENT_TYPES.map((t) => [t, t] as const)], f.event)}
${select(
  'valid',
  'Validity',
  [
    ['', 'Any'],
    ['true', 'Valid'],
    ['false', 'Invalid'],
  ],
  f.valid,
)}
<label>Project<input name="project_id" value="${f.project_id ?? ''}" size="14"></label>
<label>Endpoint<input name="endpoint_id" value="${f.endpoint_id ?? ''}" size="14"></label>
<label>Since (UTC)<input name="since" value="${f.since ?? ''}" size="16" placeholder="2026-01-31T14:00"></label>
<label>Until (UTC)<input name="until" value="${f.until ?? ''}" size="16" placeholder="2026-01-31T15:00"></label>
<button type="submit">Filter</button>
</form>
<p id="live-status" class="muted" role="status" aria-live="polite">${live ? 'Live log: connecting…' : 'Older events (the live log runs on the first page).'}</p>
${table(
  'Events, newest first',
  html`<tr><th>Received (UTC)</th><th>Type</th><th>Summary</th><th class="num">Deliveries</th><th>State</th><th>Endpoint</th></tr>`,
  rows.length === 0
    ? html`<tr id="no-events"><td colspan="6" class="muted">No events match.</td></tr>`
    : rows.map(eventRow),
  { bodyAttrs: live ? html` data-stream="${streamUrl}"` : undefined },
)}
${next ? html`<p class="pager"><a class="button secondary" href="/console/events?${String(new URLSearchParams([...qs, ['cursor', next]]))}">Older events</a></p>` : ''}`,
  )
}

/** The form fields as Telerivet sent them (decoded values re-encoded; the secret is never kept). */
function formFields(payload: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = []
  for (const [k, v] of new URLSearchParams(encodeForm(payload))) out.push([k, v])
  return out
}

export function eventPage(
  opts: PageOptions,
  e: EventRecord,
  jobs: {
    id: number
    handler: string
    status: string
    attempts: number
    lastError: string | null
  }[],
): string {
  const fields = formFields(e.payload as Record<string, unknown>)
  return page(
    { ...opts, title: `Event ${e.event}`, section: 'Events' },
    html`<h1>Event <span class="mono">${e.event || '(none)'}</span></h1>
<form method="post" action="/console/events/${e.id}/replay" class="inline-fields">${csrfField(opts.csrf)}
<button type="submit">Replay</button>
<span class="muted">Re-applies its projections and enqueues its async handlers again.</span></form>
<dl class="fields">
<dt>Id</dt><dd class="mono">${e.id}</dd>
<dt>Received</dt><dd>${time(e.receivedAt)} (last delivery ${time(e.lastReceivedAt)})</dd>
<dt>Delivery count</dt><dd>${e.deliveryCount}</dd>
<dt>Endpoint</dt><dd class="mono">${e.endpointId}</dd>
<dt>Project</dt><dd>${e.projectId ?? '—'}</dd>
<dt>Telerivet id</dt><dd class="mono">${e.telerivetId ?? '—'}</dd>
<dt>Valid</dt><dd>${e.valid ? html`<span class="badge ok">valid</span>` : html`<span class="badge bad">invalid</span>`}</dd>
<dt>Async jobs</dt><dd>${
      jobs.length === 0
        ? 'none'
        : jobs.map(
            (j) =>
              html`<a href="/console/jobs?event_id=${e.id}">#${j.id}</a> ${j.handler} <span class="badge">${j.status}</span>${j.lastError ? html` <span class="muted">${j.lastError}</span>` : ''} `,
          )
    }</dd>
</dl>
${e.handlerError ? html`<h2>Handler error</h2><pre>${e.handlerError}</pre>` : ''}
${e.valid ? '' : html`<h2>Validation errors</h2><pre>${json(e.errors)}</pre>`}
<h2>Reply sent</h2>
${e.reply ? html`<pre>${json(e.reply)}</pre>` : html`<p class="muted">An empty reply (no messages, no variables).</p>`}
<h2>Decoded payload</h2>
<pre>${json(e.payload)}</pre>
<h2>Form fields</h2>
<p class="muted">As received, with <code>secret</code> removed (it is never stored).</p>
${table(
  'Form fields',
  html`<tr><th>Field</th><th>Value</th></tr>`,
  fields.map(([k, v]) => html`<tr><td class="mono">${k}</td><td class="mono">${v}</td></tr>`),
)}`,
  )
}

// ---------- conversations ----------

export function conversationsPage(
  opts: PageOptions,
  phone: string,
  contacts: {
    id: string
    name: string | null
    phoneNumber: string | null
    messageCount: number | null
    lastMessageTime: Date | null
    projectId: string | null
  }[],
): string {
  return page(
    { ...opts, title: 'Conversations', section: 'Conversations' },
    html`<h1>Conversations</h1>
<form class="filters" method="get" action="/console/conversations" role="search">
<label>Phone number<input name="phone" type="search" inputmode="tel" value="${phone}" placeholder="+1 555…"></label>
<button type="submit">Search</button>
</form>
${table(
  'Contacts',
  html`<tr><th>Contact</th><th>Phone number</th><th>Project</th><th class="num">Messages</th><th>Last message</th></tr>`,
  contacts.length === 0
    ? html`<tr><td colspan="5" class="muted">No contacts${phone ? ' with that number' : ''}.</td></tr>`
    : contacts.map(
        (c) =>
          html`<tr><td><a href="/console/conversations/${encodeURIComponent(c.id)}?project=${encodeURIComponent(c.projectId ?? '')}">${c.name || c.id}</a></td><td>${c.phoneNumber ?? '—'}</td><td>${c.projectId ?? '—'}</td><td class="num">${c.messageCount ?? ''}</td><td>${time(c.lastMessageTime)}</td></tr>`,
      ),
)}`,
  )
}

const statusBadge = (status: string | null) => {
  const kind =
    status === 'delivered'
      ? 'ok'
      : status === 'failed' || status === 'failed_queued' || status === 'not_delivered'
        ? 'bad'
        : 'info'
  return html`<span class="badge ${kind}">${status ?? 'unknown'}</span>`
}

function replyMessages(reply: Record<string, unknown> | null): string[] {
  const list = reply?.messages
  if (!Array.isArray(list)) return []
  return list.map((m) =>
    typeof m === 'object' && m && 'content' in m ? String((m as { content: unknown }).content) : '',
  )
}

export function threadPage(
  opts: PageOptions,
  projectId: string,
  contactId: string,
  contact: { name: string | null; phoneNumber: string | null } | null,
  items: ThreadItem[],
): string {
  const title = contact?.name || contact?.phoneNumber || contactId
  return page(
    { ...opts, title: `Conversation with ${title}`, section: 'Conversations' },
    html`<p><a href="/console/conversations">← All conversations</a></p>
<h1>Conversation with ${title}</h1>
<p class="muted">${contact?.phoneNumber ?? ''} · contact <span class="mono">${contactId}</span>${projectId ? html` · project <span class="mono">${projectId}</span>` : ''}</p>
${
  items.length === 0
    ? html`<p class="muted">No messages with this contact.</p>`
    : html`<ol class="thread">${items.map(({ message: m, history, reply }) => {
        const out = m.direction === 'outgoing'
        const replies = replyMessages(reply)
        return html`<li class="msg ${out ? 'outgoing' : 'incoming'}" id="msg-${m.id}">
<div class="meta"><span>${out ? 'Out' : 'In'}</span>${time(m.timeCreated ?? m.createdAt)}${statusBadge(m.status)}<span class="mono">${m.id}</span></div>
<div class="content">${m.content ?? ''}</div>
${m.errorMessage ? html`<div class="badge bad">${m.errorMessage}</div>` : ''}
${
  history.length > 0
    ? html`<ol class="timeline" aria-label="Status timeline">${history.map(
        (h) =>
          html`<li>${statusBadge(h.status)} ${time(h.receivedAt)}${h.errorMessage ? html` <span class="muted">${h.errorMessage}</span>` : ''}</li>`,
      )}</ol>`
    : ''
}
${replies.map((r) => html`<div class="reply"><span class="muted">Bot's reply:</span> ${r}</div>`)}
</li>`
      })}</ol>`
}`,
  )
}

// ---------- jobs ----------

export function jobsPage(
  opts: PageOptions,
  filters: {
    state?: string | undefined
    handler?: string | undefined
    event_id?: string | undefined
  },
  rows: JobOut[],
  next: string | null,
  handlers: { handler: string; dead: number }[],
): string {
  const qs = new URLSearchParams(
    Object.entries(filters).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
    ),
  )
  const stateBadge = (s: string) =>
    html`<span class="badge ${s === 'dead' ? 'bad' : s === 'done' ? 'ok' : s === 'retrying' ? 'warn' : 'info'}">${s}</span>`
  const withDead = handlers.filter((h) => h.dead > 0)
  return page(
    { ...opts, title: 'Jobs', section: 'Jobs' },
    html`<h1>Jobs</h1>
<form class="filters" method="get" action="/console/jobs">
${select(
  'state',
  'State',
  [
    ['', 'Any'],
    ['pending', 'Pending'],
    ['running', 'Running'],
    ['retrying', 'Retrying'],
    ['dead', 'Dead'],
    ['done', 'Done'],
    ['cancelled', 'Cancelled'],
  ],
  filters.state,
)}
${select('handler', 'Handler', [['', 'Any'], ...handlers.map((h) => [h.handler, h.handler] as const)], filters.handler)}
${filters.event_id ? html`<input type="hidden" name="event_id" value="${filters.event_id}">` : ''}
<button type="submit">Filter</button>
</form>
${withDead.map(
  (h) =>
    html`<form method="post" action="/console/jobs/retry-dead" class="inline-fields">${csrfField(opts.csrf)}<input type="hidden" name="handler" value="${h.handler}"><button type="submit" class="secondary">Retry all dead ${h.handler} jobs (${h.dead})</button></form>`,
)}
${table(
  'Jobs, newest first',
  html`<tr><th class="num">Job</th><th>Handler</th><th>State</th><th class="num">Attempts</th><th>Run at (UTC)</th><th>Last error</th><th>Event</th><th>Action</th></tr>`,
  rows.length === 0
    ? html`<tr><td colspan="8" class="muted">No jobs match.</td></tr>`
    : rows.map(
        (
          j,
        ) => html`<tr id="job-${j.id}"><td class="num">${j.id}</td><td>${j.handler}</td><td>${stateBadge(j.state)}</td>
<td class="num">${j.attempts}/${j.max_attempts}</td><td>${time(j.run_at)}</td><td>${j.last_error ?? ''}</td>
<td><a href="/console/events/${j.event_id}" class="mono">${j.event_id.slice(0, 8)}</a></td>
<td>${
          j.state === 'dead'
            ? html`<form method="post" action="/console/jobs/${j.id}/retry" class="inline">${csrfField(opts.csrf)}<button type="submit" aria-label="Retry job ${j.id}">Retry</button></form>`
            : j.state === 'pending' || j.state === 'retrying'
              ? html`<form method="post" action="/console/jobs/${j.id}/cancel" class="inline">${csrfField(opts.csrf)}<button type="submit" class="danger" aria-label="Cancel job ${j.id}">Cancel</button></form>`
              : ''
        }</td></tr>`,
      ),
)}
${next ? html`<p class="pager"><a class="button secondary" href="/console/jobs?${String(new URLSearchParams([...qs, ['cursor', next]]))}">Older jobs</a></p>` : ''}`,
  )
}

// ---------- projects and services ----------

export interface ProjectSummary {
  id: string
  name: string
  createdAt: Date
}

export function projectsPage(opts: PageOptions, projects: ProjectSummary[]): string {
  return page(
    { ...opts, title: 'Projects', section: 'Projects' },
    html`<h1>Projects and services</h1>
${table(
  'Onboarded Telerivet projects',
  html`<tr><th>Project</th><th>Name</th><th>Onboarded (UTC)</th></tr>`,
  projects.length === 0
    ? html`<tr><td colspan="3" class="muted">No project yet: onboard one below.</td></tr>`
    : projects.map(
        (p) =>
          html`<tr><td class="mono"><a href="/console/projects/${encodeURIComponent(p.id)}">${p.id}</a></td><td>${p.name}</td><td>${time(p.createdAt)}</td></tr>`,
      ),
)}
<h2>Onboard a project</h2>
<p class="muted">The API key is checked on Telerivet, then stored encrypted; it is never shown again.</p>
<form method="post" action="/console/projects" class="inline-fields">${csrfField(opts.csrf)}
<label>Telerivet project id<input name="project_id" required maxlength="64" placeholder="PJ…" autocomplete="off"></label>
<label>API key<input name="api_key" type="password" required maxlength="256" autocomplete="off"></label>
<label>Name (optional)<input name="name" maxlength="200"></label>
<button type="submit">Onboard</button>
</form>`,
  )
}

type ServiceListOut = typeof ServiceList.static
type ServiceItem = ServiceListOut['data'][number]

const DRIFT_TEXT: Record<string, string> = {
  webhook_url:
    "Telerivet sends this service's webhooks to another URL. Rotate the secret to set the URL and secret on Telerivet again.",
  active: 'The service is inactive on Telerivet: it calls no webhook. Activate it in Telerivet.',
  service_type: 'The service on Telerivet is no longer a webhook service.',
}

function stateExplained(s: ServiceItem, telerivetError: string | null): Html {
  switch (s.state) {
    case 'ok':
      return html`<span class="badge ok">in sync</span>`
    case 'drift':
      return html`<span class="badge warn">drift</span><ul>${s.drift.map((d) => html`<li>${DRIFT_TEXT[d] ?? d}${d === 'webhook_url' ? html` <span class="mono">(Telerivet: ${s.telerivet?.webhook_url ?? 'none'})</span>` : ''}</li>`)}</ul>`
    case 'missing_on_telerivet':
      return html`<span class="badge bad">missing on Telerivet</span><div class="muted">Deleted on Telerivet: nothing is delivered here. Create a new service.</div>`
    case 'pending':
      return html`<span class="badge warn">pending</span><div class="muted">Telerivet's answer to the creation was lost; the service is adopted as soon as Telerivet lists it.</div>`
    default:
      return html`<span class="badge">unknown</span><div class="muted">Telerivet could not be asked${telerivetError ? `: ${telerivetError}` : ''}.</div>`
  }
}

export function projectPage(
  opts: PageOptions,
  project: ProjectSummary,
  list: ServiceListOut,
  secret: { url: string; secret: string; previous_secret_expires_at: string | null } | null,
): string {
  return page(
    { ...opts, title: `Project ${project.name}`, section: 'Projects' },
    html`<p><a href="/console/projects">← All projects</a></p>
<h1>${project.name} <span class="mono muted">${project.id}</span></h1>
${
  secret
    ? html`<div class="notice secret" role="alert"><strong>Shown once:</strong> paste this URL and secret into the project's webhook settings in Telerivet. Telehook keeps only a hash of the secret.
<dl class="fields"><dt>URL</dt><dd class="mono secret-value">${secret.url}</dd><dt>Secret</dt><dd class="mono secret-value" id="new-secret">${secret.secret}</dd>${secret.previous_secret_expires_at ? html`<dt>Old secret valid until</dt><dd>${time(secret.previous_secret_expires_at)}</dd>` : ''}</dl></div>`
    : ''
}
<h2>Webhook services</h2>
${list.telerivet_error ? html`<p class="notice bad" role="status">Telerivet could not be asked, so drift is unknown: ${list.telerivet_error}</p>` : ''}
${table(
  'Webhook services of this project',
  html`<tr><th>Service</th><th>Telerivet id</th><th>State</th><th>Created (UTC)</th><th>Action</th></tr>`,
  list.data.length === 0
    ? html`<tr><td colspan="5" class="muted">No webhook service yet.</td></tr>`
    : list.data.map(
        (
          s,
        ) => html`<tr id="svc-${s.id}"><td>${s.name ?? '(unnamed)'}<div class="mono muted">${s.url}</div></td>
<td class="mono">${s.telerivet_service_id ?? '—'}</td>
<td>${stateExplained(s, list.telerivet_error)}${s.previous_secret_expires_at ? html`<div class="muted">Previous secret valid until ${time(s.previous_secret_expires_at)}</div>` : ''}</td>
<td>${time(s.created_at)}</td>
<td>${
          s.telerivet_service_id
            ? html`<form method="post" action="/console/projects/${encodeURIComponent(project.id)}/services/${encodeURIComponent(s.id)}/rotate-secret" class="inline">${csrfField(opts.csrf)}<button type="submit" class="secondary" aria-label="Rotate the secret of ${s.name ?? s.id}">Rotate secret</button></form>`
            : ''
        }</td></tr>`,
      ),
)}
${
  list.unmanaged.length > 0
    ? html`<p class="notice bad">Services on Telerivet that deliver to this Telehook but are unknown here (made by hand, or their endpoint was deleted): ${list.unmanaged.map((u) => html`<span class="mono">${u.telerivet_service_id}</span> `)}</p>`
    : ''
}
<h2>Create a webhook service</h2>
<p class="muted">Telehook creates an incoming-message webhook service on Telerivet with a fresh secret and this Telehook's URL; nothing to paste.</p>
<form method="post" action="/console/projects/${encodeURIComponent(project.id)}/services" class="inline-fields">${csrfField(opts.csrf)}
<label>Service name<input name="name" maxlength="200" placeholder="Inbox bot"></label>
<button type="submit">Create service</button>
</form>
<h2>Project webhook</h2>
<p class="muted">For project-level notifications (send status, contact updates…), which Telerivet configures in the project's settings: Telehook makes the URL and a secret (a new secret each time; the old one stays valid for the grace period).</p>
<form method="post" action="/console/projects/${encodeURIComponent(project.id)}/project-webhook" class="inline-fields">${csrfField(opts.csrf)}
<button type="submit" class="secondary">Make URL and a new secret</button>
</form>`,
  )
}
