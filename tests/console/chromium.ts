/**
 * @module Debian's Chromium for browser tests, driven over a WebSocket instead of Playwright's pipe.
 *
 * Why not `chromium.launch*()`: Playwright speaks to a browser it launched over extra stdio pipes
 * (`--remote-debugging-pipe`, fds 3 and 4). Under Bun 1.4.5, once in four to six runs, a form
 * POST's result page took 20 s to reach the test although the browser had it at once: a packet
 * capture showed the server's answer 2 ms after the request and the browser asking for the new
 * page's favicon 30 ms later, while Playwright reported the page's requests only 20 s on, the
 * moment its own timeout fired: the pipe's messages, it seems, waited for the test process's event
 * loop to wake. Over `--remote-debugging-port` they come through a socket instead: 0 failures in
 * 14 runs, against 2 in 10 before.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium } from 'playwright-core'

/** Flags of a headless Chromium on a machine with no network beyond localhost. */
export const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface LaunchedChromium {
  browser: Browser
  context: BrowserContext
  /** Closes the browser and waits for its process to exit. */
  close(): Promise<void>
}

/**
 * Starts `executable` with a fresh profile in `profile` and an automatic debugging port, waits for
 * the port Chromium writes to `<profile>/DevToolsActivePort`, and connects Playwright to it.
 */
export async function launchChromium(
  executable: string,
  profile: string,
  viewport: { width: number; height: number },
): Promise<LaunchedChromium> {
  const proc = Bun.spawn(
    [
      executable,
      ...BROWSER_ARGS,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
  )
  const portFile = join(profile, 'DevToolsActivePort')
  const started = Date.now()
  let port = ''
  while (!port) {
    if (proc.exitCode !== null) throw new Error(`${executable} exited with ${proc.exitCode}`)
    if (Date.now() - started > 30_000) {
      proc.kill()
      throw new Error(`${executable} wrote no DevToolsActivePort within 30 s`)
    }
    // The file's first line is the port, written once the port listens.
    if (existsSync(portFile)) port = readFileSync(portFile, 'utf8').split('\n')[0]?.trim() ?? ''
    if (!port) await Bun.sleep(50)
  }
  let browser: Browser
  try {
    browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`)
  } catch (error) {
    proc.kill()
    throw error
  }
  const context = await browser.newContext({ viewport })
  return {
    browser,
    context,
    async close() {
      // Browser.close ends Chromium as its own window would: it removes its singleton socket
      // folder in /tmp (left behind by a kill). Playwright's browser.close() only disconnects
      // from a browser it did not launch.
      const cdp = await browser.newBrowserCDPSession().catch(() => null)
      await cdp?.send('Browser.close').catch(() => {})
      await browser.close().catch(() => {})
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000)])
      if (exited !== true) proc.kill('SIGKILL')
      await proc.exited
    },
  }
}
