import { copyFields, HeaderList } from '../core/headers.ts';
import { FIELD_VALUE, KNOWN_METHODS, TARGET_CHAR, TCHAR } from '../http1/chars.ts';
import { ParseError } from '../http1/parse-error.ts';
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  type BodyKind,
  CONNECT_TUNNEL,
  type ParsedRequest,
  splitAuthority,
} from '../http1/request-head.ts';

/**
 * Connection-specific fields: an HTTP/2 message carrying one is malformed (RFC 9113 §8.2.2).
 * `te` is allowed with the value `trailers` only, checked apart.
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Fields appended to every request once it is parsed (applyForwardedHeaders: X-Forwarded-Proto,
 * -Host, -Port, X-Real-Ip, X-Forwarded-Server): room for them is kept in the header list's
 * arrays. X-Forwarded-For is not among them: the peer is appended when each upstream head is
 * written (OutgoingRequest.forwardedFor).
 */
const FORWARDED_ROOM = 5;

/**
 * The fields of the request being parsed, copied out at their size once it is known
 * (copyFields). Safe to share: a parse runs to its end before the next one starts. Slots past
 * the last request's fields keep an earlier, longer request's strings until overwritten: bounded
 * by the header list limits, and cheaper than clearing them per request.
 */
const scratchNames: string[] = [];
const scratchValues: string[] = [];

/**
 * Builds the request the pipeline sees from an HTTP/2 header list (`raw`: name, value, name,
 * value… in arrival order, as node:http2 hands them over). Refuses what RFC 9113 §8.3 calls
 * malformed, and holds the request to the same rules as the HTTP/1.1 codec (method, target and
 * value characters, one Host that agrees with `:authority`, a valid Content-Length), so that
 * routing and middlewares never see anything on HTTP/2 that HTTP/1.1 would have refused.
 * nghttp2 has already checked much of §8.3; this is the part our pipeline depends on.
 * `endStream`: the HEADERS frame ended the stream (no body follows).
 */
export function parseH2Request(
  raw: readonly string[],
  endStream: boolean,
  maxHeaderCount: number,
): ParsedRequest | ParseError {
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let target: string | undefined;
  let protocol: string | undefined;
  let host: string | undefined;
  let cl: string | undefined;
  let cookie: string | undefined;
  let regular = false;
  let count = 0;
  // Slot 0 is Host's, its value set below from the authority (written now: a store past the end
  // would make the scratch array, and the copies, HOLEY).
  const names = scratchNames;
  const values = scratchValues;
  names[0] = 'host';
  values[0] = '';
  let n = 1;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    for (let k = 0; k < value.length; k++) {
      if (FIELD_VALUE[value.charCodeAt(k)] !== 1)
        return new ParseError(400, 'invalid character in field value');
    }
    if (name.charCodeAt(0) === 0x3a /* : */) {
      // §8.3: pseudo-header fields come first, once each, and only the request ones.
      if (regular) return new ParseError(400, 'pseudo-header field after a regular field');
      let dup = false;
      switch (name) {
        case ':method':
          dup = method !== undefined;
          method = value;
          break;
        case ':scheme':
          dup = scheme !== undefined;
          scheme = value;
          break;
        case ':authority':
          dup = authority !== undefined;
          authority = value;
          break;
        case ':path':
          dup = target !== undefined;
          target = value;
          break;
        case ':protocol':
          // RFC 8441 §4: the extended CONNECT's protocol (nghttp2 accepts it only because we
          // advertise SETTINGS_ENABLE_CONNECT_PROTOCOL).
          dup = protocol !== undefined;
          protocol = value;
          break;
        default:
          return new ParseError(400, `unknown pseudo-header field ${name}`);
      }
      if (dup) return new ParseError(400, `duplicate ${name}`);
      continue;
    }
    regular = true;
    if (++count > maxHeaderCount) return new ParseError(431, 'too many header fields');
    if (name.length === 0) return new ParseError(400, 'empty field name');
    for (let k = 0; k < name.length; k++) {
      const c = name.charCodeAt(k);
      // §8.2.1: field names are lowercase on HTTP/2.
      if (TCHAR[c] !== 1 || (c >= 0x41 && c <= 0x5a)) return new ParseError(400, 'invalid field name');
    }
    if (CONNECTION_SPECIFIC.has(name)) return new ParseError(400, `connection-specific field ${name}`);
    switch (name) {
      case 'te':
        if (value !== 'trailers') return new ParseError(400, 'te other than trailers');
        // Hop-by-hop: kept for an HTTP/2 upstream, which relays it (gRPC); HTTP/1.1 drops it.
        break;
      case 'host':
        if (host !== undefined) return new ParseError(400, 'duplicate Host');
        host = value;
        continue; // set once below, from :authority
      case 'content-length':
        if (cl !== undefined && cl !== value) return new ParseError(400, 'conflicting content-length');
        cl = value;
        continue; // regenerated from the framing
      case 'expect':
        // As on HTTP/1.1: the one expectation defined (RFC 9110 §10.1.1), or 417.
        if (value.toLowerCase() !== '100-continue') return new ParseError(417, 'unsupported expectation');
        break;
      case 'cookie':
        // §8.2.3: cookie crumbs are joined with "; " before they reach an HTTP/1.1 upstream.
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        continue;
    }
    names[n] = name;
    values[n++] = value;
  }
  if (method === undefined) return new ParseError(400, 'missing :method');
  // WebSocket over HTTP/2 (RFC 8441): an extended CONNECT for `websocket` is routed as the GET
  // of an HTTP/1.1 handshake, which is what the backend receives; another protocol is refused.
  // A plain CONNECT (RFC 9113 §8.5) is forwarded and tunneled, as Traefik v3.7.12 does.
  let upgrade: string | null = null;
  if (method === 'CONNECT') {
    if (protocol === undefined)
      return connectRequest(scheme, target, authority, host, n, cookie, cl, endStream);
    if (protocol.toLowerCase() !== 'websocket') return new ParseError(501, 'CONNECT is not supported');
    if (endStream) return new ParseError(400, 'extended CONNECT without a stream');
    method = 'GET';
    upgrade = 'websocket';
  } else if (protocol !== undefined) return new ParseError(400, ':protocol on a request other than CONNECT');
  for (let i = 0; i < method.length; i++) {
    if (TCHAR[method.charCodeAt(i)] !== 1) return new ParseError(400, 'invalid method');
  }
  if (!KNOWN_METHODS.has(method)) return new ParseError(501, `unknown method ${method}`);
  if (scheme === undefined) return new ParseError(400, 'missing :scheme');
  if (scheme !== 'http' && scheme !== 'https') return new ParseError(400, `unsupported :scheme ${scheme}`);
  if (target === undefined || target === '') return new ParseError(400, 'missing :path');
  for (let i = 0; i < target.length; i++) {
    if (TARGET_CHAR[target.charCodeAt(i)] !== 1) return new ParseError(400, 'invalid character in :path');
  }
  let path: string;
  let query = '';
  if (target.charCodeAt(0) === 0x2f /* / */) {
    const q = target.indexOf('?');
    path = q === -1 ? target : target.slice(0, q);
    if (q !== -1) query = target.slice(q + 1);
  } else if (target === '*' && method === 'OPTIONS') {
    path = '*';
  } else {
    return new ParseError(400, 'invalid :path');
  }
  // §8.3.1: a server treats a Host that names another entity than :authority as malformed.
  if (authority !== undefined) {
    if (authority.includes('@')) return new ParseError(400, 'userinfo in :authority');
    if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) {
      return new ParseError(400, ':authority disagrees with Host');
    }
  } else {
    authority = host;
  }
  if (authority === undefined || authority === '') return new ParseError(400, 'missing :authority');
  const parts = splitAuthority(authority);
  if (parts === null) return new ParseError(400, 'invalid :authority');

  let bodyKind: BodyKind = BODY_NONE;
  let contentLength = 0;
  if (cl !== undefined) {
    contentLength = contentLengthValue(cl);
    if (contentLength < 0) return new ParseError(400, 'invalid content-length');
    if (endStream && contentLength > 0)
      return new ParseError(400, 'content-length on a request without body');
    if (contentLength > 0) bodyKind = BODY_LENGTH;
  } else if (!endStream && upgrade === null) {
    // A body of unknown length follows: it goes upstream chunked. (After an extended CONNECT the
    // stream's DATA is the tunnel's, not a request body.)
    bodyKind = BODY_CHUNKED;
  }

  const headers = requestFields(n, authority, cookie);
  return {
    method,
    path,
    query,
    versionMinor: 1,
    headers,
    host: parts.host,
    hostPort: parts.port,
    authority,
    bodyKind,
    contentLength,
    keepAlive: true,
    expectContinue: false,
    connectionTokens: null,
    upgrade,
    headLength: 0,
  };
}

/**
 * The request's fields from the scratch arrays (`n` of them, slot 0 kept for Host): Host first,
 * as an HTTP/1.1 client puts it (middlewares read it like any field, and the upstream head takes
 * Host from the authority anyway), the cookie crumbs joined last. Field names are lowercase on
 * HTTP/2: names and lnames hold the same strings.
 */
function requestFields(n: number, authority: string, cookie: string | undefined): HeaderList {
  const names = scratchNames;
  const values = scratchValues;
  values[0] = authority;
  if (cookie !== undefined) {
    names[n] = 'cookie';
    values[n++] = cookie;
  }
  return new HeaderList(
    copyFields(names, n, FORWARDED_ROOM),
    copyFields(names, n, FORWARDED_ROOM),
    copyFields(values, n, FORWARDED_ROOM),
  );
}

/** A content-length field's value, or -1 when it is not 1 to 15 digits. */
function contentLengthValue(cl: string): number {
  if (cl.length === 0 || cl.length > 15) return -1;
  for (let i = 0; i < cl.length; i++) {
    const c = cl.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(cl);
}

/**
 * A plain CONNECT (RFC 9113 §8.5: :method and :authority only), as Go's HTTP/2 server makes it
 * a request and Traefik v3.7.12 forwards it (pkg/proxy/httputil/connect.go, #13542): Host is
 * the authority, the URL path empty (so Host rules match it and Path rules do not), no body:
 * the stream's DATA is the tunnel's, held until the backend accepts it with a 2xx (a refused
 * CONNECT never sends the backend a payload byte). But a CONNECT with a `content-length` has a
 * body of that length, which Traefik's connectHandler does not defer ("Nothing to defer for a
 * CONNECT without body or with a fixed Content-Length", req.ContentLength >= 0): Go's transport
 * sends it at once, framed by its Content-Length; the tunnel (a 2xx) then carries the backend's
 * bytes. `n`: the fields in the scratch arrays so far.
 */
function connectRequest(
  scheme: string | undefined,
  target: string | undefined,
  authority: string | undefined,
  host: string | undefined,
  n: number,
  cookie: string | undefined,
  cl: string | undefined,
  endStream: boolean,
): ParsedRequest | ParseError {
  // Go's server resets such a stream (PROTOCOL_ERROR); our own engine does too (own-fields.ts).
  if (scheme !== undefined || target !== undefined) return new ParseError(400, ':scheme or :path on CONNECT');
  if (authority === undefined || authority === '') return new ParseError(400, 'CONNECT without :authority');
  if (authority.includes('@')) return new ParseError(400, 'userinfo in :authority');
  if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) {
    return new ParseError(400, ':authority disagrees with Host');
  }
  const parts = splitAuthority(authority);
  if (parts === null) return new ParseError(400, 'invalid :authority');
  // No length: -1 (a tunnel's is unknown); a `content-length: 0` stays 0, which forwards as no
  // length (Traefik defers that payload too) but holds the client to it (own-request-body.ts).
  let contentLength = -1;
  if (cl !== undefined) {
    contentLength = contentLengthValue(cl);
    if (contentLength < 0) return new ParseError(400, 'invalid content-length');
    if (endStream && contentLength > 0)
      return new ParseError(400, 'content-length on a request without body');
  }
  const headers = requestFields(n, authority, cookie);
  return {
    method: 'CONNECT',
    path: '',
    query: '',
    versionMinor: 1,
    headers,
    host: parts.host,
    hostPort: parts.port,
    authority,
    bodyKind: contentLength > 0 ? BODY_LENGTH : BODY_NONE,
    contentLength,
    keepAlive: true,
    expectContinue: false,
    connectionTokens: null,
    upgrade: CONNECT_TUNNEL,
    headLength: 0,
  };
}
