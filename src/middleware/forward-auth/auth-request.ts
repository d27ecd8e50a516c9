import { HeaderList } from '../../core/headers.ts';
import { type RequestHead, withQuery } from '../../core/request.ts';
import { BODY_LENGTH, BODY_NONE, type BodyKind } from '../../http1/request-head.ts';
import type { OutgoingRequest } from '../../upstream/stream.ts';

/**
 * Fields never copied from the client's request to the auth server: hop-by-hop ones (Traefik's
 * list; the entry point already dropped those named in Connection), and the framing and Host,
 * which belong to the auth request itself. Proxy-Authorization is copied (RFC 9110 §11.7.1 lets a
 * proxy consume it; Traefik forwards it to the auth server).
 */
const NOT_COPIED = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

export interface AuthRequestOptions {
  readonly method: string | null;
  /** Lowercased names; empty = every field. */
  readonly allowed: readonly string[];
  readonly trust: boolean;
}

/**
 * The request the auth server gets (Traefik's forward.go writeHeader): the client's fields (or
 * only `authRequestHeaders`), then X-Forwarded-For, -Method, -Proto, -Host and -Uri describing the
 * client's request. With `trustForwardHeader`, the X-Forwarded-* values the request carries win;
 * they are what the entry point left (a client's own ones survive only from trusted peers).
 */
export class AuthRequest implements OutgoingRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  readonly upgrade = null;
  readonly body: Buffer | null;

  constructor(req: RequestHead, target: string, o: AuthRequestOptions, body: Buffer | null) {
    this.method = o.method ?? req.method;
    this.target = target;
    this.body = body !== null && body.length > 0 ? body : null;
    this.contentLength = this.body === null ? 0 : this.body.length;
    this.bodyKind = this.body === null ? BODY_NONE : BODY_LENGTH;
    const src = req.headers;
    const h = new HeaderList();
    for (let i = 0; i < src.lnames.length; i++) {
      const ln = src.lnames[i]!;
      if (NOT_COPIED.has(ln)) continue;
      if (o.allowed.length > 0 && !o.allowed.includes(ln)) continue;
      h.append(src.names[i]!, src.values[i]!);
    }
    // Traefik's forward.go RemoveConnectionHeaders on the auth request: what the client's
    // Connection still names (fields `forwardedHeaders.connection` kept) is not sent on.
    const conn = src.get('connection');
    if (conn !== undefined) {
      for (const t of conn.split(',')) {
        const n = t.trim().toLowerCase();
        if (n !== '') h.delete(n);
      }
    }
    const trusted = (ln: string): string | undefined => {
      if (!o.trust) return undefined;
      const all = src.getAll(ln);
      return all.length === 0 ? undefined : all.join(', ');
    };
    // The entry point has appended the peer to X-Forwarded-For already (and kept earlier hops
    // only from trusted peers): Traefik's "prior, clientIP".
    h.set('X-Forwarded-For', trusted('x-forwarded-for') ?? req.clientIp);
    h.set('X-Forwarded-Method', trusted('x-forwarded-method') || req.method);
    h.set('X-Forwarded-Proto', trusted('x-forwarded-proto') || req.scheme);
    const port = trusted('x-forwarded-port');
    if (port !== undefined && port !== '') h.set('X-Forwarded-Port', port);
    const host =
      trusted('x-forwarded-host') ||
      src.get('host') ||
      (req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`);
    if (host === '') h.delete('x-forwarded-host');
    else h.set('X-Forwarded-Host', host);
    const uri = trusted('x-forwarded-uri') || withQuery(req.path, req.query);
    h.set('X-Forwarded-Uri', uri);
    this.headers = h;
  }

  h1Fields(): string {
    const { names, values } = this.headers;
    let s = '';
    for (let i = 0; i < names.length; i++) s += `${names[i]}: ${values[i]}\r\n`;
    const m = this.method;
    if (this.body !== null || m === 'POST' || m === 'PUT' || m === 'PATCH')
      s += `Content-Length: ${this.contentLength}\r\n`;
    return `${s}\r\n`;
  }
}
