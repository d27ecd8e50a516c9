import { MANAGED_X_HEADERS } from '../../core/forwarded-fields.ts';
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

/**
 * The X- fields Traefik manages (forwardedheaders XHeadersSet, the entry point's list): dropped
 * from the auth request with `trustForwardHeader: false`, always let through
 * `authRequestHeaders` with `true`.
 */
const X_HEADERS = MANAGED_X_HEADERS;

/** One of X_HEADERS, or its spelling with underscores (Traefik's isManagedXHeader). */
function isXHeader(ln: string): boolean {
  if (ln.charCodeAt(0) !== 0x78 /* x */) return false;
  return X_HEADERS.has(ln) || (ln.indexOf('_') !== -1 && X_HEADERS.has(ln.replaceAll('_', '-')));
}

export interface AuthRequestOptions {
  readonly method: string | null;
  /** Lowercased names; empty = every field. */
  readonly allowed: readonly string[];
  /** `trustForwardHeader`; undefined when not set (Traefik's oldWriteHeader). */
  readonly trust: boolean | undefined;
}

/**
 * The request the auth server gets (Traefik's forward.go, writeHeader and oldWriteHeader): the
 * client's fields (or only `authRequestHeaders`), then X-Forwarded-* describing the client's
 * request. Three ways, as Traefik since its PR #12994 (2026, `trustForwardHeader` a *bool):
 * - not set: the fields are copied as they are; X-Forwarded-For, -Proto, -Method, -Host and -Uri
 *   are set from the request;
 * - `false`: the X- fields Traefik manages are dropped first; the same five are set, and
 *   X-Forwarded-Port (the Host's port, else 443 for https, else 80);
 * - `true`: the request's values are kept where present (X-Forwarded-For extended with the peer),
 *   the six set where absent, and `authRequestHeaders` always lets the X- fields through.
 * The request's X-Forwarded-* are what the entry point left (a client's own ones survive only
 * from trusted peers); its X-Forwarded-For is without the peer (Traefik's proxy appends that when
 * it writes a request upstream), and forward.go appends the peer itself, whatever the entry
 * point's `notAppendXForwardedFor` says: the auth request sets its own field, and the upstream
 * writers add nothing to it (`forwardedFor` null).
 */
export class AuthRequest implements OutgoingRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  readonly upgrade = null;
  /** The field is set here, as forward.go writeHeader does: nothing more is appended. */
  readonly forwardedFor = null;
  readonly body: Buffer | null;

  constructor(req: RequestHead, target: string, o: AuthRequestOptions, body: Buffer | null) {
    this.method = o.method ?? req.method;
    this.target = target;
    this.body = body !== null && body.length > 0 ? body : null;
    this.contentLength = this.body === null ? 0 : this.body.length;
    this.bodyKind = this.body === null ? BODY_NONE : BODY_LENGTH;
    const src = req.headers;
    const h = new HeaderList();
    const trust = o.trust;
    for (let i = 0; i < src.lnames.length; i++) {
      const ln = src.lnames[i]!;
      if (NOT_COPIED.has(ln)) continue;
      if (trust === false && isXHeader(ln)) continue;
      if (o.allowed.length > 0 && !o.allowed.includes(ln) && !(trust === true && X_HEADERS.has(ln))) continue;
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
    const host = src.get('host') || (req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`);
    const uri = withQuery(req.path, req.query);
    if (trust === true) {
      // Traefik's "prior, clientIP" (forward.go writeHeader), whatever notAppendXForwardedFor says.
      const xff = src.getAll('x-forwarded-for');
      h.set('X-Forwarded-For', xff.length === 0 ? req.clientIp : `${xff.join(', ')}, ${req.clientIp}`);
      if (!h.has('x-forwarded-method')) h.set('X-Forwarded-Method', req.method);
      if (!h.has('x-forwarded-proto')) h.set('X-Forwarded-Proto', req.scheme);
      if (!h.has('x-forwarded-port')) h.set('X-Forwarded-Port', forwardedPort(req, host));
      if (!h.has('x-forwarded-host')) h.set('X-Forwarded-Host', host);
      if (!h.has('x-forwarded-uri')) h.set('X-Forwarded-Uri', uri);
    } else {
      h.set('X-Forwarded-For', req.clientIp);
      h.set('X-Forwarded-Method', req.method);
      h.set('X-Forwarded-Proto', req.scheme);
      if (trust === false) h.set('X-Forwarded-Port', forwardedPort(req, host, false));
      h.set('X-Forwarded-Host', host);
      h.set('X-Forwarded-Uri', uri);
    }
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

/**
 * Traefik's forwardedPort (forward.go): the Host's port, else 443 when the request's
 * X-Forwarded-Proto is https or wss or it came over TLS, else 80.
 */
function forwardedPort(req: RequestHead, host: string, trustProto = true): string {
  const m = /:(\d*)$/.exec(host);
  if (m !== null && m[1] !== '' && (host.charCodeAt(0) === 0x5b || host.indexOf(':') === m.index))
    return m[1]!;
  // With trustForwardHeader: false the request's X-Forwarded-Proto (a trusted peer's claim the
  // entry point kept) is not read either: Traefik v3.7.6, GHSA-3q9r-p662-5j8m.
  const proto = trustProto ? req.headers.get('x-forwarded-proto') : undefined;
  return proto === 'https' || proto === 'wss' || req.scheme === 'https' ? '443' : '80';
}
