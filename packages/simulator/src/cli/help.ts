/** @module cli/help The `--help` text, with the control API of a running simulator. */

/**
 * The help text; `prog` is how the user runs it (`bun run sim --` in the repository, `telehook
 * sim` from the executable).
 */
export function usageText(prog = 'bun run sim --'): string {
  return `telehook simulator: a local Telerivet (REST API + webhooks) for development and tests

Usage:
  ${prog} [--port 8088] [--host 127.0.0.1] [--api-key KEY] [--project-id PJ...] [--time-scale N]
      [--any-port]
      Start the simulator. Prints the URL to give Telehook as TELERIVET_API_URL, and the
      API key and project id to onboard with through Telehook's admin API.
  ${prog} send --url <webhook url> [--secret S] [--from +16505550123] "text"
  ${prog} send --sim <simulator url> [--project-id PJ...] [--from +16505550123] "text"
      Send one incoming message and print what the webhook answered.
  ${prog} chat --url <webhook url> [--secret S] [--from +16505550123]
  ${prog} chat --sim <simulator url> [--project-id PJ...] [--from +16505550123]
      Chat with your webhook in the terminal: you are the phone user, replies print as SMS.

Options:
  --port N          port to listen on (default 8088; 0 picks a free one)
  --host H          interface to bind (default 127.0.0.1)
  --api-key KEY     the API key the REST API accepts (generated when absent)
  --project-id ID   the project id (generated when absent)
  --time-scale N    simulated seconds per real second for retries and statuses (default 1)
  --any-port        accept webhook URLs on any port (Telerivet: 80, 443, 8000, 8080, 8443 only)
  --url URL         webhook URL of an incoming_message_webhook service
  --secret S        the service's webhook secret (sent as the secret parameter)
  --sim URL         a running simulator (e.g. http://127.0.0.1:8088) to drive instead
  --from NUMBER     the phone user's number (default +16505550123)
  --to NUMBER       your phone's number (default: the project's default route)
  -h, --help        this help

Control API of a running simulator (JSON; every route is documented in the simulator's README,
packages/simulator/README.md in the Telehook repository):
  POST /_sim/incoming {"from_number":"+16505550123","content":"hi"}   a phone user writes
  POST /_sim/messages/:id/status {"status":"delivered"}               a status change
  POST /_sim/contacts, /_sim/broadcast, /_sim/messages/:id/metadata   other events
  GET  /_sim/deliveries                                              what was posted, with attempts
  POST /_sim/advance {"ms":60000}, POST /_sim/settle                 move simulated time
`
}

/** The help text, as `bun run sim` shows it. */
export const USAGE = usageText()
