/**
 * @module Console sessions: an admin token is exchanged once for a random session id, sent back as
 * an HttpOnly, SameSite=Strict cookie. Only the id's SHA-256 is stored (table `console_sessions`),
 * with the session's CSRF token, so every instance on the database knows every session.
 */
import { consoleSessions, type Database } from '@telehook/db'
import { generateSecret, sha256Hex, timingSafeEqual } from '@telehook/protocol'
import { and, eq, gt, lt } from 'drizzle-orm'

export const SESSION_COOKIE = 'telehook_session'
/** A session ends this long after sign-in at the latest (12 hours). */
export const SESSION_TTL_MS = 12 * 60 * 60_000

export interface ConsoleSession {
  idHash: string
  csrfToken: string
  tokenName: string
  expiresAt: Date
}

/** Stores a new session; returns the cookie value (shown to nobody else) and the session. */
export async function createSession(
  database: Database,
  tokenName: string,
  ttlMs = SESSION_TTL_MS,
): Promise<{ cookieValue: string; session: ConsoleSession }> {
  const cookieValue = generateSecret(32)
  const session: ConsoleSession = {
    idHash: await sha256Hex(cookieValue),
    csrfToken: generateSecret(24),
    tokenName,
    expiresAt: new Date(Date.now() + ttlMs),
  }
  // Expired sessions are removed as new ones are made: the table stays small without a timer.
  await database.db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, new Date()))
  await database.db.insert(consoleSessions).values(session)
  return { cookieValue, session }
}

/** The live session a cookie value names, or null (unknown, expired, malformed). */
export async function findSession(
  database: Database,
  cookieValue: string | null,
): Promise<ConsoleSession | null> {
  if (!cookieValue || cookieValue.length > 128) return null
  const idHash = await sha256Hex(cookieValue)
  const [row] = await database.db
    .select()
    .from(consoleSessions)
    .where(and(eq(consoleSessions.idHash, idHash), gt(consoleSessions.expiresAt, new Date())))
  return row ?? null
}

/** Ends a session: its cookie is worth nothing afterwards, on every instance. */
export async function endSession(database: Database, idHash: string): Promise<void> {
  await database.db.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash))
}

/** One cookie's value from a `Cookie` header, or null. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eqAt = part.indexOf('=')
    if (eqAt === -1) continue
    if (part.slice(0, eqAt).trim() === name) return part.slice(eqAt + 1).trim()
  }
  return null
}

/** `Set-Cookie` for a session (Secure when the console is reached over https). */
export function sessionCookie(value: string, secure: boolean, maxAgeSeconds: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ')
}

/** Whether a request reached us over https (directly or, as the proxy says, through one). */
export function isHttps(request: Request): boolean {
  return (
    request.url.startsWith('https:') ||
    request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https'
  )
}

/** Constant-time comparison of the CSRF token a request carries with its session's. */
export function csrfMatches(session: ConsoleSession, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 128) {
    return false
  }
  const enc = new TextEncoder()
  const a = enc.encode(presented)
  const b = enc.encode(session.csrfToken)
  return a.length === b.length && timingSafeEqual(a, b)
}
