/**
 * The console in a real browser: Debian's Chromium (/usr/bin/chromium) driven by playwright-core,
 * against the admin app and the webhook app on real sockets, a worker and a small bot. Screenshots
 * of each page go to test-artifacts/console/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAdminApp, importMasterKey } from '@telehook/admin'
import { queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import {
  createEngine,
  createJsonLogger,
  createWorker,
  ensureSingleEndpoint,
  type Worker,
} from '@telehook/engine'
import { defineHandlers, encodeForm, reply } from '@telehook/protocol'
import { incomingMessageWire, sendStatusWire } from '@telehook/protocol/fixtures'
import { type RunningSimulator, startSimulator } from '@telehook/simulator'
import {
  createWebhookApp,
  DEFAULT_BODY_LIMIT,
  type RunningServer,
  startWebhookServer,
} from '@telehook/webhook'
import { sql } from 'drizzle-orm'
import type { BrowserContext, Page } from 'playwright-core'
import { type LaunchedChromium, launchChromium } from './chromium'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ADMIN_TOKEN = 'console-browser-token-5a4b3c2d1e'
const SECRET = 'console-browser-webhook-secret-0001'
const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const ARTIFACTS = join(import.meta.dir, '..', '..', 'test-artifacts', 'console')
const SIM_KEY = 'console_sim_key_never_shown_0001'
const CONTACT = 'CTconsole0000000001'
const PHONE = '+15550107788'

/** The async handler fails for messages that ask it to, while `failing` holds. */
let failing = true
const handlers = defineHandlers({
  sync: {
    incoming_message: (m) =>
      reply()
        .message({ content: `Got it: ${m.content ?? ''}` })
        .build(),
  },
  async: {
    incoming_message: (m) => {
      if (failing && (m.content ?? '').includes('fail-me')) throw new Error('CRM is down (503)')
    },
  },
})

// Without Chromium a developer's run skips this suite; CI (which installs it) fails instead.
const hasChromium = existsSync(CHROMIUM)
test.skipIf(hasChromium || process.env.CI !== 'true')('Chromium is installed for CI', () => {
  throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
})

describe.skipIf(!hasChromium).each(TEST_DRIVERS)('console in Chromium (%s)', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let webhook: RunningServer
  let admin: ReturnType<typeof Bun.serve>
  let worker: Worker
  let sim: RunningSimulator
  let context: BrowserContext
  let launched: LaunchedChromium | undefined
  let page: Page
  let profile = ''
  let base = ''
  let webhookBase = ''
  const logs: string[] = []

  async function deliver(wire: Record<string, unknown>) {
    const res = await fetch(`${webhookBase}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encodeForm({ ...wire, secret: SECRET }),
    })
    expect(res.status).toBe(200)
    return res.text()
  }

  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${driver}-${name}.png`), fullPage: true })

  beforeAll(async () => {
    failing = true
    mkdirSync(ARTIFACTS, { recursive: true })
    database = await openTestDb(driver)
    const logger = createJsonLogger((l) => logs.push(l))
    await ensureSingleEndpoint(database, SECRET)
    const engine = createEngine({ database, handlers, logger })
    webhook = startWebhookServer(
      createWebhookApp({ engine, database, logger, singleProject: true }),
      {
        port: 0,
        hostname: '127.0.0.1',
        bodyLimit: DEFAULT_BODY_LIMIT,
      },
    )
    webhookBase = `http://127.0.0.1:${webhook.port}`
    worker = createWorker({ database, handlers, logger, pollMs: 50, backoffMs: () => 0 })
    worker.start()
    sim = await startSimulator({ apiKey: SIM_KEY, projectName: 'Alpha Clinic' })
    const app = createAdminApp({
      database,
      engine,
      handlers,
      telerivetApiUrl: sim.apiUrl,
      publicUrl: 'http://127.0.0.1:8000',
      adminToken: ADMIN_TOKEN,
      masterKey: await importMasterKey(MASTER),
      logger,
      consoleLivePollMs: 100,
    })
    admin = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => app.fetch(r) })
    base = `http://127.0.0.1:${admin.port}`
    // An hour of earlier traffic, so that the overview's chart has something to show.
    await database.db.execute(sql`
      insert into telehook.events (endpoint_id, event, telerivet_id, dedupe_key, payload, valid,
        delivery_count, received_at, last_received_at)
      select 'default', (array['incoming_message','send_status','send_status','send_status',
               'contact_update','message_metadata','send_broadcast'])[1 + abs(hashtext('e' || i)) % 7],
             'SMseed' || i, 'seed:' || i, '{}'::jsonb, i % 37 <> 0, 1 + (i % 11 = 0)::int, t, t
      from generate_series(1, 500) as i,
        lateral (select now() - make_interval(secs => abs(hashtext('t' || i)) % 3540) as t) s`)
    profile = mkdtempSync(join(tmpdir(), 'telehook-chromium-'))
    launched = await launchChromium(CHROMIUM, profile, { width: 1280, height: 860 })
    context = launched.context
    page = await context.newPage()
    // A step that hangs fails alone, with Playwright's account of what it waited for, instead of
    // the test's own timeout killing Chromium under every later test.
    context.setDefaultTimeout(20_000)
    context.setDefaultNavigationTimeout(20_000)
  }, 120_000)

  afterAll(async () => {
    await launched?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
    await worker?.stop()
    await sim?.close()
    await admin?.stop(true)
    await webhook?.stop()
    await database?.drop()
  })

  test('sign in: a wrong token is refused, the right one opens the overview', async () => {
    await context.clearCookies()
    await page.goto(`${base}/`)
    expect(new URL(page.url()).pathname).toBe('/console/sign-in')
    await shot('sign-in')
    await page.getByLabel('Admin token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid')
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/')
    const cookies = await context.cookies(base)
    const session = cookies.find((c) => c.name === 'telehook_session')
    expect(session?.httpOnly).toBe(true)
    expect(session?.sameSite).toBe('Strict')
    // The chart shows the seeded hour.
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(20)
    await shot('overview')
  }, 60_000)

  test('a webhook posted now appears in the live log without a reload; opened and replayed', async () => {
    const content = 'live log check'
    await page.goto(`${base}/console/events`)
    await page.getByText('Live: new deliveries appear').waitFor()
    const marker = await page.evaluate(() => {
      ;(window as unknown as { marker: number }).marker = 42
      return 42
    })
    await deliver(
      incomingMessageWire('sms', {
        id: 'SMlive0000000001',
        content,
        contact_id: 'CTlive000000000001',
        from_number: '+15550000001',
        contact: undefined,
        state: undefined,
      }),
    )
    const row = page.locator('tbody[data-stream] tr', { hasText: content })
    await row.waitFor()
    // Same document: no navigation happened.
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(marker)
    await shot('events-live')
    await row.getByRole('link', { name: 'incoming_message' }).click()
    await page.getByRole('heading', { name: 'Decoded payload' }).waitFor()
    const text = (await page.locator('main').textContent()) ?? ''
    expect(text).toContain(`Got it: ${content}`)
    expect(text).not.toContain(SECRET)
    expect(await page.locator('td', { hasText: /^secret$/ }).count()).toBe(0)
    await shot('event')
    await page.getByRole('button', { name: 'Replay' }).click()
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Replayed')
  }, 60_000)

  test('a conversation: inbound message, the bot reply, and a later delivered status', async () => {
    await deliver(
      incomingMessageWire('sms', {
        id: 'SMconv0000000001',
        content: 'Is my order ready?',
        contact_id: CONTACT,
        from_number: PHONE,
        from_number_e164: PHONE,
        contact: { id: CONTACT, name: 'Amina Diallo', phone_number: PHONE },
        state: undefined,
      }),
    )
    const out = {
      id: 'SMconv0000000002',
      content: 'Got it: Is my order ready?',
      time_created: '1390347815',
      contact_id: CONTACT,
      to_number: PHONE,
      contact: { id: CONTACT, name: 'Amina Diallo', phone_number: PHONE },
    }
    await deliver(sendStatusWire('sent', out))
    await deliver(sendStatusWire('delivered', out))
    await page.goto(`${base}/console/conversations`)
    await page.getByLabel('Phone number').fill('555 0107')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('link', { name: 'Amina Diallo' }).click()
    await page.getByRole('heading', { name: /Conversation with Amina Diallo/ }).waitFor()
    const inbound = page.locator('#msg-SMconv0000000001')
    expect(await inbound.textContent()).toContain('Is my order ready?')
    expect(await inbound.locator('.reply').textContent()).toContain('Got it: Is my order ready?')
    const outbound = page.locator('#msg-SMconv0000000002')
    expect(await outbound.getAttribute('class')).toContain('outgoing')
    const timeline = await outbound.getByRole('list', { name: 'Status timeline' }).textContent()
    expect(timeline).toMatch(/sent.*delivered/s)
    await shot('conversation')
  })

  test('a dead job is retried from the jobs page and succeeds', async () => {
    const messageId = 'SMjob00000000001'
    failing = true
    await deliver(
      incomingMessageWire('sms', {
        id: messageId,
        content: 'please fail-me',
        contact_id: 'CTjob000000000001',
        contact: undefined,
        state: undefined,
      }),
    )
    // The worker retries at once (backoff 0) until the job is out of attempts.
    let dead: { id: number }[] = []
    for (let i = 0; i < 400 && dead.length === 0; i++) {
      dead = await queryRows<{ id: number }>(
        database.db,
        sql`select j.id::int as id from telehook.jobs j join telehook.events e on e.id = j.event_id
            where j.status = 'dead' and e.telerivet_id = ${messageId}`,
      )
      if (dead.length === 0) await Bun.sleep(50)
    }
    expect(dead).toHaveLength(1)
    const id = dead[0]?.id
    failing = false
    await page.goto(`${base}/console/jobs?state=dead`)
    const row = page.locator(`#job-${id}`)
    expect(await row.textContent()).toContain('CRM is down (503)')
    await shot('jobs-dead')
    await row.getByRole('button', { name: `Retry job ${id}` }).click()
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      `Job ${id} is queued again`,
    )
    let state = ''
    for (let i = 0; i < 200 && state !== 'done'; i++) {
      await page.goto(`${base}/console/jobs`)
      state = (await page.locator(`#job-${id} .badge`).textContent()) ?? ''
      if (state !== 'done') await Bun.sleep(50)
    }
    expect(state).toBe('done')
    await shot('jobs')
  }, 60_000)

  test('a state-changing request without the CSRF token is refused', async () => {
    await page.goto(`${base}/console/jobs`)
    const statuses = await page.evaluate(async () => {
      const post = (body: string) =>
        fetch('/console/jobs/retry-dead', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }).then((r) => r.status)
      return [await post('handler=incoming_message'), await post('handler=x&csrf=forged')]
    })
    expect(statuses).toEqual([403, 403])
  })

  test('projects: onboard, create a service, see drift explained, rotate, project webhook secret once', async () => {
    await page.goto(`${base}/console/projects`)
    await page.getByLabel('Telerivet project id').fill(sim.projectId)
    await page.getByLabel('API key').fill(SIM_KEY)
    await page.getByRole('button', { name: 'Onboard' }).click()
    await page.getByRole('heading', { name: /Alpha Clinic/ }).waitFor()
    expect(await page.getByRole('status').first().textContent()).toContain('onboarded')
    expect(await page.locator('main').textContent()).not.toContain(SIM_KEY)
    await page.getByLabel('Service name').fill('Inbox bot')
    await page.getByRole('button', { name: 'Create service' }).click()
    await page.getByText('Service Inbox bot created on Telerivet.').waitFor()
    const row = page.locator('tr', { hasText: 'Inbox bot' })
    expect(await row.locator('.badge').first().textContent()).toBe('in sync')
    // Someone points the service elsewhere on Telerivet: the console shows and explains it.
    const sid = ((await row.locator('td.mono').textContent()) ?? '').trim()
    sim.sim.setServiceConfig(sim.projectId, sid, {
      url: 'http://127.0.0.1:8000/hooks/somewhere-else',
      secret: 'x'.repeat(24),
    })
    await page.reload()
    expect(await row.locator('.badge').first().textContent()).toBe('drift')
    expect(await row.textContent()).toContain('somewhere-else')
    await shot('project-drift')
    await row.getByRole('button', { name: /Rotate the secret/ }).click()
    await page.getByText(/New secret set on Telerivet for Inbox bot/).waitFor()
    expect(await row.locator('.badge').first().textContent()).toBe('in sync')
    await page.getByRole('button', { name: 'Make URL and a new secret' }).click()
    const secret = ((await page.locator('#new-secret').textContent()) ?? '').trim()
    expect(secret.length).toBeGreaterThan(20)
    await shot('project')
    // Shown once: the page loaded again does not have it.
    await page.goto(`${base}/console/projects/${sim.projectId}`)
    expect(await page.locator('main').textContent()).not.toContain(secret)
  }, 60_000)

  test('the overview on a phone-sized screen', async () => {
    // First at desktop width, now that the endpoints of the onboarded project have a row each.
    await page.goto(`${base}/`)
    expect(await page.locator('main table tbody tr').count()).toBeGreaterThan(1)
    await shot('overview-endpoints')
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${base}/`)
    // Nothing wider than the screen but the scrolling tables.
    const overflow = await page.evaluate(() => document.body.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await shot('overview-phone')
    await page.setViewportSize({ width: 1280, height: 860 })
  })

  test('signing out ends access', async () => {
    await page.goto(`${base}/console/events`)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Admin token').waitFor()
    await page.goto(`${base}/console/jobs`)
    expect(new URL(page.url()).pathname).toBe('/console/sign-in')
    const rows = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from telehook.console_sessions`,
    )
    expect(rows[0]?.n).toBe(0)
  })
})
