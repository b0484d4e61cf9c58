/** @module errors — Telerivet's error shape: `{"error": {"code", "message", "param"}}`. */

/** An error answered in Telerivet's JSON shape with its HTTP status. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message)
    this.name = 'SimError'
  }
}

/** A parameter the REST API refuses: 400 `invalid_param`, naming it. */
export const invalidParam = (param: string, message: string): SimError =>
  new SimError(400, 'invalid_param', message, param)

/** The JSON response of a {@link SimError}. */
export function jsonError(e: SimError): Response {
  const error: Record<string, string> = { code: e.code, message: e.message }
  if (e.param !== undefined) error.param = e.param
  const headers: Record<string, string> = {}
  if (e.status === 401) headers['www-authenticate'] = 'Basic realm="Telerivet API"'
  return Response.json({ error }, { status: e.status, headers })
}

/** Reads a JSON request body, gunzipping it when `Content-Encoding: gzip` (as the clients send). */
export async function readJsonBody(req: Request): Promise<unknown> {
  if (req.body === null) return {}
  let stream: ReadableStream<Uint8Array> = req.body
  const encoding = (req.headers.get('content-encoding') ?? '').toLowerCase().trim()
  if (encoding === 'gzip')
    stream = stream.pipeThrough(
      new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
    )
  else if (encoding !== '' && encoding !== 'identity') {
    throw new SimError(415, 'invalid_request', `Unsupported Content-Encoding: ${encoding}`)
  }
  let text: string
  try {
    text = await new Response(stream).text()
  } catch {
    throw new SimError(400, 'invalid_request', 'Could not decompress the request body')
  }
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new SimError(400, 'invalid_request', 'The request body is not valid JSON')
  }
}
