import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Headers on every admin response: the API's data is the operator's, never a cache's. */
const COMMON: OutgoingHttpHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/**
 * A bigint written as the integer it is (Go's int64 priorities such as math.MaxInt, which a JS
 * number cannot hold exactly).
 */
export function bigints(_key: string, v: unknown): unknown {
  return typeof v === 'bigint'
    ? (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(v.toString())
    : v;
}

/**
 * `value` as Go's json.Encoder writes it (Traefik's API answers are json.NewEncoder(rw).Encode):
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as \u sequences, and backspace and form feed as
 * `\u0008` and `\u000c` where JSON.stringify writes `\b` and `\f`.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value, bigints).replace(/\\[\\bf]|[<>&\u2028\u2029]/g, (m) => {
    if (m === '\\\\') return m;
    if (m === '\\b') return '\\u0008';
    if (m === '\\f') return '\\u000c';
    return `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = `${goJson(body)}\n`;
  res.writeHead(status, {
    ...COMMON,
    // Traefik's handlers set exactly this (pkg/api/handler*.go).
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  extra: Record<string, unknown> = {},
  headers: OutgoingHttpHeaders = {},
): void {
  // `message` too: Traefik's API errors are `{"message": …}` (pkg/api/handler.go writeError).
  sendJson(res, status, { error, message: error, ...extra }, headers);
}

/**
 * An error of one of Traefik's API routes, as its writeError (pkg/api/handler.go) sends it:
 * Go's http.Error with `{"message":…}` as the text, so `text/plain; charset=utf-8`, nosniff, and
 * the JSON followed by a newline.
 */
export function sendTraefikError(res: ServerResponse, status: number, message: string): void {
  sendText(res, status, 'text/plain; charset=utf-8', `${goJson({ message })}\n`);
}

/** Go's http.NotFound (gorilla/mux's answer to a path no route takes): `404 page not found`. */
export function sendGoNotFound(res: ServerResponse): void {
  sendText(res, 404, 'text/plain; charset=utf-8', '404 page not found\n');
}

/**
 * gorilla/mux's answer to a method its route does not take (Traefik's API routes are
 * `.Methods(http.MethodGet)`, HEAD included): 405 with no body. `Allow` is ours (RFC 9110
 * requires it; mux sends none).
 */
export function sendMuxMethodNotAllowed(res: ServerResponse, allow: string): void {
  res.writeHead(405, { ...COMMON, allow, 'content-length': 0 });
  res.end();
}

export function sendText(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    ...COMMON,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** The request body, or undefined when it is longer than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) return undefined;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** `application/json`, `application/merge-patch+json`, … (any `+json`), parameters ignored. */
export function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** True when an `If-Match` value names `etag` (or is `*`). Weak tags compare by their opaque part. */
export function ifMatches(header: string, etag: string): boolean {
  for (const part of header.split(',')) {
    const t = part.trim();
    if (t === '*') return true;
    const opaque = t.startsWith('W/') ? t.slice(2) : t;
    if (opaque === `"${etag}"`) return true;
  }
  return false;
}
