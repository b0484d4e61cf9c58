/** @module A sample incoming_message delivery, for the ready-to-run curl printed at start-up. */

/** The fields Telerivet posts for an incoming SMS, with a fresh message id so it is not a duplicate. */
export function sampleIncomingMessage(secret: string, now = Date.now()): Record<string, string> {
  const suffix = now.toString(36).toUpperCase()
  return {
    event: 'incoming_message',
    id: `SMdev${suffix}`,
    message_type: 'sms',
    direction: 'incoming',
    status: 'received',
    content: 'Hello',
    from_number: '+16505550123',
    from_number_e164: '+16505550123',
    to_number: '+16505550001',
    time_created: String(Math.floor(now / 1000)),
    contact_id: 'CTdev0000000000001',
    phone_id: 'PNdev0000000000001',
    project_id: 'PJdev0000000000001',
    secret,
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * A `curl` command that posts the sample message to `url`, as Telerivet would.
 * @example console.log(sampleCurl('http://localhost:8000/webhook', secret))
 */
export function sampleCurl(url: string, secret: string, now = Date.now()): string {
  const fields = sampleIncomingMessage(secret, now)
  const data = Object.entries(fields)
    .map(([key, value]) => `--data-urlencode ${shellQuote(`${key}=${value}`)}`)
    .join(' ')
  return `curl -sS ${shellQuote(url)} ${data}`
}
