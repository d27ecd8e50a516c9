import { HeaderList } from '../core/headers.ts';
import { HOST_CHAR, KNOWN_METHODS, TARGET_CHAR, TCHAR } from './chars.ts';
import { BAD_NAME, fieldNameEnd, fieldValue, SPACE_BEFORE_COLON } from './field-line.ts';
import { lowerFieldName, toLowerAscii } from './field-names.ts';
import { headAt, probeHead } from './head-probe.ts';
import { ParseError } from './parse-error.ts';

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
export type BodyKind = typeof BODY_NONE | typeof BODY_LENGTH | typeof BODY_CHUNKED;

export interface RequestLimits {
  /** Whole head (request line + fields + CRLFs) in bytes → 431. */
  readonly maxHeaderBytes: number;
  /** Request line → 414 for the target. */
  readonly maxRequestLineBytes: number;
  /** Number of fields → 431. */
  readonly maxHeaderCount: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxHeaderBytes: 16 * 1024,
  maxRequestLineBytes: 8 * 1024,
  maxHeaderCount: 200,
};

/** A fully parsed and validated request head. Nothing here was copied unchecked from the wire. */
export interface ParsedRequest {
  readonly method: string;
  /** Origin-form path (percent-encoding kept); '*' for `OPTIONS *`; '' for a CONNECT. */
  readonly path: string;
  readonly query: string;
  readonly versionMinor: 0 | 1;
  readonly headers: HeaderList;
  /** Lowercased, no trailing dot, no port; '' when absent. */
  readonly host: string;
  readonly hostPort: string;
  /** The authority as the client sent it (Host value, or the absolute-form authority). */
  readonly authority: string;
  readonly bodyKind: BodyKind;
  readonly contentLength: number;
  /** The client wants the connection kept open after this exchange. */
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** Extra tokens of the Connection field (lowercased), whose fields must be stripped. */
  readonly connectionTokens: readonly string[] | null;
  /**
   * The protocol an HTTP/1.1 GET asks to switch to (`Connection: upgrade` and the first token of
   * `Upgrade`, lowercased), e.g. `websocket`; null when it asks for none (RFC 9110 §7.8).
   * CONNECT_TUNNEL (upper case: no Upgrade token reads so) for an HTTP/2 client's CONNECT.
   */
  readonly upgrade: string | null;
  /** Byte length of the head, CRLFCRLF included. */
  readonly headLength: number;
}

/**
 * The `upgrade` of an HTTP/2 client's CONNECT (RFC 9113 §8.5), which Traefik v3.7.12 forwards
 * and tunnels (pkg/proxy/httputil/connect.go, #13542): routed like a request, sent upstream as
 * an HTTP/1.1 CONNECT; a 2xx answer turns the stream and the backend connection into a tunnel.
 */
export const CONNECT_TUNNEL = 'CONNECT';

/**
 * Parses one request head from `buf[start..end)`. Returns null when the head is not complete yet,
 * a ParseError for anything we will not forward (RFC 9112 §2–§6, RFC 9110 §5), or the request.
 * Stricter than llhttp by design: bare LF, obs-fold, whitespace before the colon, duplicate or
 * list-valued Content-Length, and transfer codings other than a lone `chunked` are all refused.
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: RequestLimits,
): ParsedRequest | ParseError | null {
  let leading = 0;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line
  // (some clients send an extra CRLF after a POST body). We ignore up to two.
  for (
    let skipped = 0;
    skipped < 2 && end - start >= 2 && buf[start] === 13 && buf[start + 1] === 10;
    skipped++
  ) {
    start += 2;
    leading += 2;
  }
  const head = probeHead(buf, start, end);
  const at = headAt;
  if (at === -1) {
    const pending = end - start;
    if (pending > limits.maxHeaderBytes) {
      const lineEnd = buf.indexOf(10, start);
      if (lineEnd === -1 || lineEnd >= end) {
        return pending > limits.maxRequestLineBytes
          ? new ParseError(414, 'request line too long')
          : new ParseError(431, 'header block too large');
      }
      return new ParseError(431, 'header block too large');
    }
    // A request line or a header with a bare LF never completes with CRLFCRLF: catch it early
    // instead of waiting for the size limit.
    return earlyReject(buf, start, end, limits);
  }
  const headLength = at + 4 - start;
  if (headLength > limits.maxHeaderBytes) {
    const lineEnd = buf.indexOf(13, start);
    return lineEnd - start > limits.maxRequestLineBytes
      ? new ParseError(414, 'request line too long')
      : new ParseError(431, 'header block too large');
  }
  return parseHead(head, at + 2 - start, headLength + leading, limits);
}

function earlyReject(buf: Buffer, start: number, end: number, limits: RequestLimits): ParseError | null {
  for (let k = buf.indexOf(10, start); k !== -1 && k < end; k = buf.indexOf(10, k + 1)) {
    if (k === start || buf[k - 1] !== 13) return new ParseError(400, 'bare LF');
  }
  const lf = buf.indexOf(10, start);
  if (lf !== -1 && lf < end) {
    if (lf - start > limits.maxRequestLineBytes) return new ParseError(414, 'request line too long');
    // Validate the request line as soon as it is complete: `GET /x\r\n` (HTTP/0.9) must not wait.
    const line = buf.latin1Slice(start, lf - 1);
    const err = checkRequestLine(line);
    if (err !== null) return err;
  } else if (end - start > limits.maxRequestLineBytes) {
    return new ParseError(414, 'request line too long');
  }
  return null;
}

function checkRequestLine(line: string): ParseError | null {
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 === -1) return new ParseError(400, 'malformed request line (HTTP/0.9?)');
  const v = line.slice(sp2 + 1);
  if (v !== 'HTTP/1.1' && v !== 'HTTP/1.0') return new ParseError(400, `unsupported protocol version ${v}`);
  return null;
}

interface Target {
  path: string;
  query: string;
  authority: string | null;
}

/** `head[0..headEnd)` is the request line and the fields, each ending in CRLF; more may follow. */
function parseHead(
  head: string,
  headEnd: number,
  headLength: number,
  limits: RequestLimits,
): ParsedRequest | ParseError {
  // --- request line: method SP request-target SP HTTP-version CRLF (RFC 9112 §3)
  const lineEnd = head.indexOf('\r\n');
  if (lineEnd > limits.maxRequestLineBytes) return new ParseError(414, 'request line too long');
  const sp1 = head.indexOf(' ');
  if (sp1 <= 0 || sp1 > lineEnd) return new ParseError(400, 'malformed request line');
  const sp2 = head.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 > lineEnd) return new ParseError(400, 'malformed request line (HTTP/0.9?)');
  // The usual methods as constants: a slice would be a new string whose hash every Set lookup
  // of it (KNOWN_METHODS, IDEMPOTENT_METHODS) computes first.
  const method =
    sp1 === 3 && head.startsWith('GET')
      ? 'GET'
      : sp1 === 4 && head.startsWith('POST')
        ? 'POST'
        : sp1 === 4 && head.startsWith('HEAD')
          ? 'HEAD'
          : head.slice(0, sp1);
  for (let i = 0; i < sp1; i++) {
    if (TCHAR[head.charCodeAt(i)] !== 1) return new ParseError(400, 'invalid method');
  }
  const version = head.slice(sp2 + 1, lineEnd);
  let versionMinor: 0 | 1;
  if (version === 'HTTP/1.1') versionMinor = 1;
  else if (version === 'HTTP/1.0') versionMinor = 0;
  else return new ParseError(400, `unsupported protocol version ${JSON.stringify(version)}`);
  if (!KNOWN_METHODS.has(method)) return new ParseError(501, `unknown method ${method}`);
  const target =
    method === 'CONNECT' ? connectTarget(head, sp1 + 1, sp2) : parseTarget(head, sp1 + 1, sp2, method);
  if (target instanceof ParseError) return target;

  // --- header fields (RFC 9112 §5)
  const headers = new HeaderList();
  const { names, lnames, values } = headers;
  let hostValue: string | undefined;
  let clValue: string | undefined;
  let teValue: string | undefined;
  let connection: string | undefined;
  let expect: string | undefined;
  let upgradeValue: string | undefined;
  let proxyClose = false;
  let pos = lineEnd + 2;
  const len = headEnd;
  while (pos < len) {
    const eol = head.indexOf('\r\n', pos);
    // eol !== -1: head ends with CRLF by construction.
    const c0 = head.charCodeAt(pos);
    if (c0 === 0x20 || c0 === 0x09) return new ParseError(400, 'obs-fold or whitespace before a field');
    const colon = fieldNameEnd(head, pos, eol);
    if (colon === SPACE_BEFORE_COLON) return new ParseError(400, 'whitespace before colon');
    if (colon === BAD_NAME) return new ParseError(400, 'empty or invalid field name');
    const value = fieldValue(head, colon + 1, eol);
    if (value === null) return new ParseError(400, 'invalid character in field value');
    const name = head.slice(pos, colon);
    const lname = lowerFieldName(name);
    names.push(name);
    lnames.push(lname);
    values.push(value);
    if (names.length > limits.maxHeaderCount) return new ParseError(431, 'too many header fields');
    switch (lname) {
      case 'host':
        if (hostValue !== undefined) return new ParseError(400, 'duplicate Host');
        hostValue = value;
        break;
      case 'content-length':
        if (clValue !== undefined) return new ParseError(400, 'duplicate Content-Length');
        clValue = value;
        break;
      case 'transfer-encoding':
        if (teValue !== undefined) return new ParseError(400, 'duplicate Transfer-Encoding');
        if (head.slice(colon + 1, eol).includes('\t'))
          return new ParseError(400, 'HTAB in Transfer-Encoding');
        teValue = value;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
      case 'proxy-connection':
        if (/(^|,)\s*close\s*(,|$)/i.test(value)) proxyClose = true;
        break;
      case 'expect':
        if (expect !== undefined) return new ParseError(400, 'duplicate Expect');
        expect = value;
        break;
      case 'upgrade':
        // The first line only, as Go's Header.Get (what Traefik reads it with).
        if (upgradeValue === undefined) upgradeValue = value;
        break;
    }
    pos = eol + 2;
  }

  // --- Host (RFC 9112 §3.2): exactly one in HTTP/1.1, and it must agree with an absolute target
  // (or a CONNECT's authority, which Go's server does not require it for: net/http readRequest).
  if (hostValue === undefined && versionMinor === 1 && method !== 'CONNECT')
    return new ParseError(400, 'missing Host');
  let authority = hostValue ?? '';
  if (target.authority !== null) {
    if (hostValue !== undefined && toLowerAscii(hostValue) !== toLowerAscii(target.authority)) {
      return new ParseError(400, 'absolute-form target disagrees with Host');
    }
    authority = target.authority;
  }
  const hostParts = splitAuthority(authority);
  if (hostParts === null) return new ParseError(400, 'invalid Host');

  // --- framing (RFC 9112 §6)
  let bodyKind: BodyKind = BODY_NONE;
  let contentLength = 0;
  if (teValue !== undefined) {
    if (clValue !== undefined) return new ParseError(400, 'both Content-Length and Transfer-Encoding');
    if (versionMinor === 0) return new ParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
    const codings = teValue.split(',');
    const last = codings[codings.length - 1]!.trim().toLowerCase();
    if (last !== 'chunked') return new ParseError(400, 'Transfer-Encoding does not end in chunked');
    if (codings.length !== 1) return new ParseError(501, `unsupported transfer coding ${teValue}`);
    bodyKind = BODY_CHUNKED;
  } else if (clValue !== undefined) {
    if (clValue.length === 0 || clValue.length > 15) return new ParseError(400, 'invalid Content-Length');
    for (let i = 0; i < clValue.length; i++) {
      const c = clValue.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return new ParseError(400, 'invalid Content-Length');
    }
    contentLength = Number(clValue);
    if (contentLength > 0) bodyKind = BODY_LENGTH;
  }

  // --- connection options (RFC 9112 §9.3, RFC 9110 §7.6.1)
  let hasClose = false;
  let hasKeepAlive = false;
  let connectionTokens: string[] | null = null;
  // The usual single option needs no splitting.
  if (connection === 'keep-alive' || connection === 'Keep-Alive') hasKeepAlive = true;
  else if (connection === 'close' || connection === 'Close') hasClose = true;
  else if (connection !== undefined) {
    for (const raw of connection.split(',')) {
      const tok = raw.trim().toLowerCase();
      if (tok === '') continue;
      if (tok === 'close') hasClose = true;
      else if (tok === 'keep-alive') hasKeepAlive = true;
      else {
        if (!isToken(tok)) return new ParseError(400, 'invalid Connection option');
        // Naming an end-to-end framing or routing field as hop-by-hop is an attack on the
        // proxy's view of the message, never a legitimate request.
        if (tok === 'host' || tok === 'content-length' || tok === 'transfer-encoding') {
          return new ParseError(400, `Connection names ${tok}`);
        }
        connectionTokens ??= [];
        connectionTokens.push(tok);
      }
    }
  }
  if (proxyClose) hasClose = true;
  // An upgrade only counts when Connection names it, on an HTTP/1.1 GET without a body: RFC 6455
  // asks no more of a WebSocket handshake, and anything else is forwarded as a plain request.
  let upgrade: string | null = null;
  if (
    upgradeValue !== undefined &&
    versionMinor === 1 &&
    method === 'GET' &&
    bodyKind === BODY_NONE &&
    connectionTokens?.includes('upgrade') === true
  ) {
    const tokens = upgradeValue.split(',');
    const first = tokens[0]!.trim().toLowerCase();
    const slash = first.indexOf('/');
    upgrade = slash === -1 ? first : first.slice(0, slash);
    // We serve h2c with prior knowledge only: a client's `Upgrade: h2c` is not ours to offer a
    // backend, which could switch the connection to a protocol we never negotiated. As Traefik
    // v3.7.13's h2cUpgradeHandler (pkg/server/service): an Upgrade whose tokens name h2c is
    // dropped whole, and the request goes on as a plain one.
    for (const t of tokens) if (t.trim().toLowerCase() === 'h2c') upgrade = null;
  }
  const keepAlive = !hasClose && (versionMinor === 1 || hasKeepAlive);
  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue') return new ParseError(417, 'unsupported expectation');
    expectContinue = versionMinor === 1;
  }

  return {
    method,
    path: target.path,
    query: target.query,
    versionMinor,
    headers,
    host: hostParts.host,
    hostPort: hostParts.port,
    authority,
    bodyKind,
    contentLength,
    keepAlive,
    expectContinue,
    connectionTokens,
    upgrade,
    headLength,
  };
}

/**
 * A CONNECT's request target: the authority-form and nothing else (RFC 9112 §3.2.3: uri-host ":"
 * port, no userinfo). Go's server takes it as the request's Host with an empty URL path
 * (net/http readRequest), which Traefik routes like any request before its proxy refuses an
 * HTTP/1.1 CONNECT (pkg/proxy/httputil/connect.go, connectHandler: 501); so the path is empty
 * here too, and Host rules match it while Path rules never do.
 */
function connectTarget(head: string, s: number, e: number): Target | ParseError {
  if (s === e) return new ParseError(400, 'empty request target');
  for (let i = s; i < e; i++) {
    const c = head.charCodeAt(i);
    if (TARGET_CHAR[c] !== 1 || c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x40 /* @ */)
      return new ParseError(400, 'CONNECT needs an authority-form target');
  }
  const authority = head.slice(s, e);
  const parts = splitAuthority(authority);
  if (parts === null || parts.host === '' || parts.port === '')
    return new ParseError(400, 'CONNECT needs an authority-form target');
  return { path: '', query: '', authority };
}

function parseTarget(head: string, s: number, e: number, method: string): Target | ParseError {
  if (s === e) return new ParseError(400, 'empty request target');
  for (let i = s; i < e; i++) {
    if (TARGET_CHAR[head.charCodeAt(i)] !== 1)
      return new ParseError(400, 'invalid character in request target');
  }
  const c0 = head.charCodeAt(s);
  if (c0 === 0x2f /* / */) {
    const q = head.indexOf('?', s);
    if (q === -1 || q >= e) return { path: head.slice(s, e), query: '', authority: null };
    return { path: head.slice(s, q), query: head.slice(q + 1, e), authority: null };
  }
  if (c0 === 0x2a /* * */) {
    if (e - s !== 1 || method !== 'OPTIONS') return new ParseError(400, 'asterisk-form is only for OPTIONS');
    return { path: '*', query: '', authority: null };
  }
  // absolute-form (RFC 9112 §3.2.2): scheme "://" authority path-abempty [ "?" query ]
  const t = head.slice(s, e);
  const m = /^(https?):\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/i.exec(t);
  if (m === null || m[2] === '') return new ParseError(400, 'invalid request target');
  if (m[2]!.includes('@')) return new ParseError(400, 'userinfo in request target');
  return { path: m[3] ?? '/', query: m[4] ?? '', authority: m[2]! };
}

/**
 * Splits `host[:port]` (RFC 3986 authority without userinfo) and canonicalises the host for
 * routing: lowercase, one trailing dot removed (CVE-2022-23632 class: `a.example.` must route and
 * be policed as `a.example`). Returns null for anything that is not a valid authority.
 */
export function splitAuthority(authority: string): AuthorityParts | null {
  // A client sends the same authority on nearly every request: its parts are made once.
  if (authority === lastAuthority) return lastParts;
  const parts = splitAuthorityOnce(authority);
  if (parts !== null) {
    lastAuthority = authority;
    lastParts = parts;
  }
  return parts;
}

/** What `splitAuthority` returns: shared between requests, so read-only. */
export interface AuthorityParts {
  readonly host: string;
  readonly port: string;
}

/**
 * The last authority split and its parts: per request they were an object and a host string that
 * live as long as the request (promoted under HTTP/2's 500 streams in flight; docs/performance.md,
 * "Memory under HTTP/2"). Keeps one request's authority (and the head it may be a slice of)
 * alive until another one comes: bounded by the header size limit.
 */
let lastAuthority = '';
let lastParts: AuthorityParts = { host: '', port: '' };

function splitAuthorityOnce(authority: string): AuthorityParts | null {
  if (authority === '') return { host: '', port: '' };
  let host: string;
  let port = '';
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    const close = authority.indexOf(']');
    if (close === -1) return null;
    host = authority.slice(0, close + 1);
    const inner = authority.slice(1, close);
    if (!/^[0-9a-fA-F:.]+$/.test(inner) || !inner.includes(':')) return null;
    const rest = authority.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 0x3a) return null;
      port = rest.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    if (colon !== -1) port = authority.slice(colon + 1);
    if (host === '') return null;
    for (let i = 0; i < host.length; i++) if (HOST_CHAR[host.charCodeAt(i)] !== 1) return null;
  }
  if (port !== '') {
    if (port.length > 5) return null;
    for (let i = 0; i < port.length; i++) {
      const c = port.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return null;
    }
    if (Number(port) > 65535) return null;
  }
  host = toLowerAscii(host);
  if (host.length > 1 && host.charCodeAt(host.length - 1) === 0x2e) host = host.slice(0, -1);
  return { host, port };
}

function isToken(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return s.length > 0;
}
