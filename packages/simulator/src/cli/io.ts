/** @module cli/io Where the commands write and read. */

/** Where the CLI writes and reads; tests pass their own. */
export interface CliIo {
  out(line: string): void
  err(line: string): void
  /** The user's lines for `chat` (default: stdin). */
  lines?: AsyncIterable<string>
  /** Stops `serve` (default: SIGINT/SIGTERM). */
  signal?: AbortSignal
  /** How the user runs this command, for the help text (default `bun run sim --`). */
  prog?: string
}
