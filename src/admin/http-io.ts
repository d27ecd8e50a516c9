import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Headers on every admin response: the API's data is the operator's, never a cache's. */
const COMMON: OutgoingHttpHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...COMMON,
    'content-type': 'application/json; charset=utf-8',
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
