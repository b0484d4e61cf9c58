/** @module The single-project secret (configured, kept in the data folder, or generated) and the sample curl. */
import { join } from 'node:path'
import { readOrCreateKeyFile } from '@telehook/db'
import { encodeForm, generateSecret } from '@telehook/protocol'
import type { WebhookConfig } from './config'

/** The single-project secret and where it came from. */
export interface SingleSecret {
  secret: string
  source: 'env' | 'generated' | 'file'
  /** Where a generated secret is kept, so that a restart keeps the webhook working. */
  file: string
}

/**
 * TELEHOOK_SECRET when set; else the secret kept in `<dataDir>/webhook-secret`; else a new one
 * written there (mode 0600). Only its hash goes to the database. With a `databaseUrl`, the config
 * loader has already required TELEHOOK_SECRET: a per-machine secret would break shared databases.
 */
export async function resolveSingleSecret(config: WebhookConfig): Promise<SingleSecret> {
  const file = join(config.dataDir, 'webhook-secret')
  if (config.secret) return { secret: config.secret, source: 'env', file }
  if (config.databaseUrl) {
    throw new Error('TELEHOOK_SECRET is required when DATABASE_URL is set (none is generated)')
  }
  const kept = await readOrCreateKeyFile(config.dataDir, 'webhook-secret', () => generateSecret())
  return { secret: kept.value, source: kept.created ? 'generated' : 'file', file: kept.path }
}

/**
 * A ready-to-run curl posting a sample incoming_message to the single-project endpoint. One line:
 * tools that prefix every output line (turbo) would break a command continued with backslashes.
 */
export function sampleCurl(baseUrl: string, secret: SingleSecret): string {
  const body = encodeForm({
    event: 'incoming_message',
    id: 'SMtelehooksample0001',
    message_type: 'sms',
    direction: 'incoming',
    content: 'Hello Telehook',
    from_number: '+16505550123',
    from_number_e164: '+16505550123',
    to_number: '+16505550100',
    time_created: Math.floor(Date.now() / 1000),
    contact_id: 'CTtelehooksample01',
    phone_id: 'PNtelehooksample01',
    project_id: 'PJtelehooksample01',
  })
  // The secret is printed in clear only the one time it is generated.
  const secretArg =
    secret.source === 'env'
      ? '"secret=$TELEHOOK_SECRET"'
      : secret.source === 'file'
        ? `"secret=$(cat '${secret.file}')"`
        : `'secret=${secret.secret}'`
  return [
    `curl -i -X POST '${new URL('/webhook', baseUrl).href}'`,
    `-H 'Content-Type: application/x-www-form-urlencoded'`,
    `--data '${body.replace(/'/g, '%27')}'`,
    `--data-urlencode ${secretArg}`,
  ].join(' ')
}

/**
 * The URL a local user reaches a listener on: a wildcard host is shown as 127.0.0.1, IPv6 in
 * brackets.
 * @example displayOrigin('0.0.0.0', 8000) // 'http://127.0.0.1:8000'
 */
export function displayOrigin(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`
}

/** The banner line when `TELEHOOK_SINGLE_PROJECT=0` turned the single-project endpoint off. */
export const SINGLE_PROJECT_OFF = (webhookUrl: string) =>
  `Single-project endpoint: off (TELEHOOK_SINGLE_PROJECT=0); projects' endpoints: POST ${webhookUrl}/hooks/<id>`

/**
 * The start-up banner of the single-project service: where it listens, the secret when it was
 * just generated (the only time it is printed), and the sample curl.
 * @param where the database, as shown in parentheses: `PostgreSQL`, `PGlite in /data`
 */
export function startBanner(
  webhookUrl: string,
  where: string,
  secret: SingleSecret | null,
): string[] {
  const lines = [`Telehook webhook listening on ${webhookUrl} (${where})`]
  if (secret === null) {
    lines.push(SINGLE_PROJECT_OFF(webhookUrl))
    return lines
  }
  lines.push(`Single-project endpoint: POST ${webhookUrl}/webhook`)
  if (secret.source === 'generated') {
    lines.push(`Generated webhook secret (shown once, kept in ${secret.file}): ${secret.secret}`)
  }
  lines.push('Try it:', sampleCurl(webhookUrl, secret))
  return lines
}
