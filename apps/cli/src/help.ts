/** @module The `telehook --help` texts, with examples. */
import type { HelpTopic } from './args.ts'

const MAIN = `telehook — receive Telerivet webhooks: verified, stored exactly once, answered in time

Usage:
  telehook serve [options]        webhook receiver + admin API + job worker, one process
  telehook migrate [options]      apply the database migrations and exit
  telehook token [create NAME | list | revoke ID]
                                  admin API tokens: made (printed once, stored hashed), listed, revoked
  telehook sim [options]          a local Telerivet (REST API + webhook delivery) for development
  telehook backup [--out FILE]    copy the PGlite data folder into one .tar.gz (server stopped)
  telehook --version | --help     (each command also takes --help)

Database: PGlite in the data folder (--data-dir, TELEHOOK_DATA_DIR, default ./.telehook)
unless DATABASE_URL (or --database-url) names a PostgreSQL server.

Examples:
  telehook serve                                  # embedded database in ./.telehook, port 8000
  telehook serve --handlers ./my-handlers.ts      # answer with your own handlers
  export DATABASE_URL=postgres://app@db/telehook TELEHOOK_SECRET=… TELEHOOK_MASTER_KEY=…
  telehook serve --public-url https://hooks.example.com   # on PostgreSQL, as every instance
  telehook token create ci
  telehook token list
  telehook sim --port 8088
`

const SERVE = `telehook serve — the webhook receiver, the admin API and the job worker in one process

Options (flag, environment variable, default):
  --role R[,R…]            TELEHOOK_ROLE         all three   webhook, admin, worker: the roles this process runs
  --port, -p N             PORT                  8000        public webhook port
  --host H                 HOST                  0.0.0.0
  --admin-port N           ADMIN_PORT            8081        admin API port
  --admin-host H           ADMIN_HOST            127.0.0.1   keep it private
  --no-admin                                                 do not serve the admin API
  --no-worker                                                do not run async handlers and forwarding here
  --data-dir DIR           TELEHOOK_DATA_DIR     ./.telehook PGlite data, key files
  --database-url URL       DATABASE_URL                      use PostgreSQL instead of PGlite
  --public-url URL         TELEHOOK_PUBLIC_URL   own URL     base of the URLs given to Telerivet
  --secret S               TELEHOOK_SECRET       generated   secret of POST /webhook (required with PostgreSQL)
  --admin-token T          TELEHOOK_ADMIN_TOKEN  generated   bearer token of the admin API
  --master-key K           TELEHOOK_MASTER_KEY   key file    encrypts stored API keys and signing secrets
                                                             (with PostgreSQL: required by admin, needed to forward)
  --telerivet-api-url URL  TELERIVET_API_URL     Telerivet   e.g. the simulator's URL
  --handlers PATH          TELEHOOK_HANDLERS     example     handler module; 'example' = the bundled
                                                             two-step bot; 'none' = store, never reply
  --deadline-ms N          TELEHOOK_DEADLINE_MS  8000        answer 503 before Telerivet's 10 s limit
  --handler-timeout-ms N   TELEHOOK_HANDLER_TIMEOUT_MS 3000  a slower sync handler gives no reply
  --body-limit BYTES       TELEHOOK_BODY_LIMIT   262144
  --db-connect-timeout S   TELEHOOK_DB_CONNECT_TIMEOUT 10    seconds one PostgreSQL connection attempt may take
  --wait-for-db S          TELEHOOK_WAIT_FOR_DB  0           keep retrying PostgreSQL at start for up to S seconds
  --log-level L            LOG_LEVEL             info        debug, info, warn or error (JSON lines on stdout)
  --retention-days N       TELEHOOK_RETENTION_DAYS 0         delete stored events older than N days (0: keep)
  --single-project 0|1     TELEHOOK_SINGLE_PROJECT 1         0 turns POST /webhook off (projects' /hooks/<id> only)
  --stop-timeout-ms N      TELEHOOK_STOP_TIMEOUT_MS 8000     how long a stop may take in all (3000 to 3600000 ms)

On SIGINT or SIGTERM, running jobs get three quarters of what the stop timeout leaves after 2 s
to finish (4.5 s of 8 s) and the last quarter to write back what the database did not take (1.5 s);
requests in flight get both (6 s); the last 2 s close the database. 8 s fits inside the 10 s
docker stop waits before SIGKILL; under a supervisor that waits longer, raise it to a little below
its limit. A signal more than 2 s after the first cuts the stop short: exit 130 (SIGINT) or 143
(SIGTERM) at once, the jobs not given back left to their leases.

Secrets that are not given are generated once and kept (mode 0600) in the data folder.
--secret-file, --admin-token-file, --master-key-file PATH (TELEHOOK_SECRET_FILE, TELEHOOK_ADMIN_TOKEN_FILE,
TELEHOOK_MASTER_KEY_FILE) read the value from a file instead, so it does not show in 'ps'.

The worker forwards events to destinations (admin API: /v1/destinations), tuned by
TELEHOOK_FORWARD_CONCURRENCY (16), TELEHOOK_FORWARD_TIMEOUT_MS (15000), TELEHOOK_FORWARD_MAX_AGE_MS
(86400000), TELEHOOK_FORWARD_RETRY_BASE_MS (2000) and TELEHOOK_FORWARD_LEASE_MS (timeout + 60000).

A handler module exports its handlers as the default export (or as 'handlers'):
  import { defineHandlers, reply } from '@telehook/protocol'
  export default defineHandlers({
    sync: { incoming_message: (m) => reply().message({ content: 'Got: ' + m.content }).build() },
  })
The binary provides '@telehook/protocol' (also importable as 'telehook') to the module itself.

Examples:
  telehook serve --port 8000 --handlers ./bot.ts
  TELEHOOK_SECRET=a-long-random-secret telehook serve --data-dir /var/lib/telehook
  DATABASE_URL=postgres://app@127.0.0.1/telehook TELEHOOK_SECRET=a-long-random-secret telehook serve --no-admin
  telehook serve --role webhook          # receivers behind a load balancer; workers apart:
  telehook serve --role worker           # (all on one DATABASE_URL, same TELEHOOK_SECRET and MASTER_KEY)
`

const MIGRATE = `telehook migrate — apply the database migrations (idempotent; safe beside running instances)

Options: --data-dir DIR (TELEHOOK_DATA_DIR), --database-url URL (DATABASE_URL),
  --db-connect-timeout S (TELEHOOK_DB_CONNECT_TIMEOUT, default 10),
  --wait-for-db S (TELEHOOK_WAIT_FOR_DB, default 0: fail on the first attempt)

Examples:
  telehook migrate
  DATABASE_URL=postgres://app@127.0.0.1/telehook telehook migrate --wait-for-db 60
`

const TOKEN = `telehook token — the admin API's bearer tokens, stored hashed in admin_tokens

Usage:
  telehook token create [NAME]   # make a token; printed once on stdout (--name NAME also works)
  telehook token list [--json]   # id, name, created, last used (the values are never stored)
  telehook token revoke ID       # delete one; requests presenting it are refused from then on

Options: --data-dir DIR (TELEHOOK_DATA_DIR), --database-url URL (DATABASE_URL)

TELEHOOK_ADMIN_TOKEN, when set, is accepted besides these and is not listed.
On PGlite, run these while the server is stopped: one process at a time opens a data folder.

Examples:
  TOKEN=$(telehook token create ci)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8081/v1/events
  telehook token list
  telehook token revoke tok_first
`

const BACKUP = `telehook backup — the PGlite data folder in one gzipped tarball (PGlite's dumpDataDir)

Options: --data-dir DIR (TELEHOOK_DATA_DIR), --out FILE, -o FILE
  (default: telehook-backup-<date and time>.tar.gz in the current folder; written with mode 0600)

Run it while the server is stopped: one process at a time opens a data folder. The tarball holds
the database and the files kept in the folder (webhook-secret, admin-token, master.key): keep it
as safe as the folder. To restore: stop the server, move the folder aside, then
  mkdir -m 700 /var/lib/telehook && tar -xzf backup.tar.gz -C /var/lib/telehook
On PostgreSQL (DATABASE_URL) use pg_dump instead.

Example:
  telehook backup --data-dir /var/lib/telehook --out /backups/telehook.tar.gz
`

const SIM = `telehook sim — a local Telerivet; every argument is passed to the simulator

Examples:
  telehook sim --port 8088
  telehook sim --help
`

/** The help text of one command. */
export function helpText(topic: HelpTopic): string {
  switch (topic) {
    case 'serve':
      return SERVE
    case 'migrate':
      return MIGRATE
    case 'token':
      return TOKEN
    case 'sim':
      return SIM
    case 'backup':
      return BACKUP
    default:
      return MAIN
  }
}
