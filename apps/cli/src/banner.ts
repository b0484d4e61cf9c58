/**
 * @module The lines `telehook serve` prints on stderr once everything listens: the addresses
 * actually bound, where the secrets are, and a curl that works when pasted in another shell.
 * Generated secrets are printed only when stderr is a terminal: elsewhere (journald, docker logs,
 * turbo's pipe) the line says which file keeps them.
 */
import { SINGLE_PROJECT_OFF, type SingleSecret, sampleCurl } from '@telehook/webhook'

const ANY = new Set(['0.0.0.0', '::', '[::]'])

/** `http://host:port` as bound, IPv6 in brackets. */
export function boundOrigin(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1')
  return `http://${bare.includes(':') ? `[${bare}]` : bare}:${port}`
}

/** How a local user reaches a listener: a wildcard address is reached on 127.0.0.1. */
export function localOrigin(host: string, port: number): string {
  return boundOrigin(ANY.has(host) ? '127.0.0.1' : host, port)
}

/** `http://0.0.0.0:8000 (every interface)` or `http://127.0.0.1:8081`. */
export function listeningOn(host: string, port: number): string {
  return ANY.has(host) ? `${boundOrigin(host, port)} (every interface)` : boundOrigin(host, port)
}

export interface BannerInput {
  host: string
  port: number
  /** `PostgreSQL` or `PGlite in /abs/data`. */
  where: string
  /** Null when the single-project endpoint is off. */
  secret: SingleSecret | null
  /** Whether stderr is a terminal: only then are generated secrets printed. */
  terminal: boolean
}

/** The webhook part of the banner. */
export function webhookBanner({ host, port, where, secret, terminal }: BannerInput): string[] {
  const local = localOrigin(host, port)
  const lines = [`Telehook webhook listening on ${listeningOn(host, port)}, ${where}`]
  if (secret === null) {
    lines.push(SINGLE_PROJECT_OFF(local))
    return lines
  }
  lines.push(`Single-project endpoint: POST ${local}/webhook`)
  let curlSecret = secret
  if (secret.source === 'generated') {
    if (terminal) {
      lines.push(`Generated webhook secret (shown once, kept in ${secret.file}): ${secret.secret}`)
    } else {
      lines.push(`Generated a webhook secret, kept in ${secret.file} (not printed into logs)`)
      // The curl reads the file instead of carrying the value.
      curlSecret = { ...secret, source: 'file' }
    }
  }
  if (secret.source === 'env') {
    // The configured secret is not printed; the curl reads it from the pasting shell.
    lines.push(
      'Try it (in a shell where TELEHOOK_SECRET holds the same secret: export TELEHOOK_SECRET=…):',
    )
  } else {
    lines.push('Try it:')
  }
  lines.push(sampleCurl(local, curlSecret))
  return lines
}
