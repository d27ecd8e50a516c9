import { DEFAULT_TLS_NAME } from '../config/dynamic/sections.ts';
import { type ConfigIssue, issue } from '../config/issues.ts';
import {
  ALERT_INTERNAL_ERROR,
  ALERT_PROTOCOL_VERSION,
  ALERT_RECORD_OVERFLOW,
  ALERT_UNEXPECTED_MESSAGE,
} from './alerts.ts';

/*
 * Which TLS options set a handshake gets, and whether a request may use the connection it came
 * on. Traefik (pkg/server/router/tcp/manager.go, pkg/middlewares/snicheck): the options of the
 * routers whose Host names the SNI; routers disagreeing about one host → `default` for that host,
 * with a warning; a request whose Host would need other options than its connection's SNI got →
 * 421 Misdirected Request (RFC 9110 15.5.20). Unlike Traefik's snicheck, wildcards are resolved in
 * that check too, so `*.example.com` with mTLS cannot be reached through another SNI.
 */

/** What the router table says about one HTTPS router. */
export interface RouterTlsNeed {
  /** Its options set (`default` when the router names none). */
  readonly options: string;
  /** The Host names of its rule (Traefik's ParseDomains); `*.example.com`, `**.example.com` allowed; empty = no Host. */
  readonly domains: readonly string[];
}

function canonical(name: string): string {
  let n = name;
  const last = n.length - 1;
  if (last >= 0 && n.charCodeAt(last) === 46) n = n.slice(0, last);
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 65 && c <= 90) return n.toLowerCase();
  }
  return n;
}

export class TlsRouter {
  readonly #exact: ReadonlyMap<string, string>;
  /** Keyed by what follows `*.`. */
  readonly #wildcard: ReadonlyMap<string, string>;
  /** Keyed by what follows `**.` (Traefik v3.8); null when no router has one. */
  readonly #suffix: ReadonlyMap<string, string> | null;

  private constructor(
    exact: Map<string, string>,
    wildcard: Map<string, string>,
    suffix: Map<string, string>,
  ) {
    this.#exact = exact;
    this.#wildcard = wildcard;
    this.#suffix = suffix.size === 0 ? null : suffix;
  }

  /**
   * Pure: the same routers give the same decisions and the same warnings (sorted by router).
   * `entryPoint`, when the routers are those of one entry point, is named in the warnings.
   * `strict` (static `core.strictTLSOptions`, Traefik v3.8, traefik/traefik#13639): each router
   * of a conflict gets an error instead of a warning, at its `tls` (not at `tls.options`, which
   * would make its hosts refuse handshakes as for options that do not exist): the per-object
   * build leaves those routers out and builds again, and their hosts, mapped to no options any
   * more, get the `default` ones, as Traefik "marks the routers in error, does not build them,
   * and maps their host names to no TLS options" (#13659, which would have refused those
   * handshakes, was closed unmerged).
   */
  static build(
    routers: ReadonlyMap<string, RouterTlsNeed>,
    entryPoint?: string,
    strict = false,
  ): { router: TlsRouter; issues: ConfigIssue[] } {
    // host → options set → routers asking for it
    const wanted = new Map<string, Map<string, string[]>>();
    for (const [routerName, need] of [...routers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const domain of need.domains) {
        const host = canonical(domain.trim());
        if (host === '' || host === '*') continue;
        let byOptions = wanted.get(host);
        if (byOptions === undefined) {
          byOptions = new Map();
          wanted.set(host, byOptions);
        }
        const names = byOptions.get(need.options);
        if (names === undefined) byOptions.set(need.options, [routerName]);
        else if (!names.includes(routerName)) names.push(routerName);
      }
    }
    const exact = new Map<string, string>();
    const wildcard = new Map<string, string>();
    const suffix = new Map<string, string>();
    const warned = new Map<string, string[]>();
    for (const [host, byOptions] of wanted) {
      let chosen = DEFAULT_TLS_NAME;
      if (byOptions.size === 1) chosen = byOptions.keys().next().value ?? DEFAULT_TLS_NAME;
      else {
        for (const names of byOptions.values()) {
          for (const r of names) warned.set(r, [...(warned.get(r) ?? []), host]);
        }
      }
      if (host.startsWith('**.')) suffix.set(host.slice(3), chosen);
      else if (host.startsWith('*.')) wildcard.set(host.slice(2), chosen);
      else exact.set(host, chosen);
    }
    const issues = [...warned]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([r, hosts]) => {
        const where = `routers on ${hosts.join(', ')}${entryPoint === undefined ? '' : ` (entry point ${entryPoint})`} ask for different TLS options`;
        return strict
          ? issue('error', `${where}: core.strictTLSOptions disables them`, ['http', 'routers', r, 'tls'])
          : issue('warning', `${where}: the default TLS options are used there`, [
              'http',
              'routers',
              r,
              'tls',
              'options',
            ]);
      });
    return { router: new TlsRouter(exact, wildcard, suffix), issues };
  }

  /**
   * The options set for a handshake's SNI: exact name, then a one-label wildcard, then the
   * longest `**.suffix` under which it is, then default. Traefik's HTTPS muxer orders its
   * ``HostSNI`` routes by GetRulePriority, where a double wildcard counts two less than its
   * length (traefik/traefik#13882): below the exact names and single wildcards that also match.
   */
  optionsFor(serverName: string | undefined): string {
    if (serverName === undefined || serverName === '') return DEFAULT_TLS_NAME;
    const name = canonical(serverName);
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.#wildcard.get(name.slice(dot + 1));
      if (wild !== undefined) return wild;
      const suffix = this.#suffix;
      if (suffix !== null) {
        for (let i = dot; i > 0; i = name.indexOf('.', i + 1)) {
          const o = suffix.get(name.slice(i + 1));
          if (o !== undefined) return o;
        }
      }
    }
    return DEFAULT_TLS_NAME;
  }

  /**
   * True when a request for `host` (RequestHead.host: lower-cased, no port) must not be served on
   * a connection whose SNI was `serverName`, because its Host would have chosen other options (a
   * weaker SNI must not reach a host that wants client certificates: domain fronting).
   */
  misdirected(serverName: string | undefined, host: string): boolean {
    if (serverName === host) return false;
    return this.optionsFor(serverName) !== this.optionsFor(host);
  }
}

export type ClientHello =
  | { readonly kind: 'incomplete' }
  | {
      readonly kind: 'invalid';
      readonly reason: string;
      readonly plaintextHttp: boolean;
      /**
       * The fatal alert Go's server sends for these bytes (before any version is negotiated:
       * conn.go readRecordOrCCS, readHandshake, unmarshalHandshakeMessage), 0 for none (Go closes
       * bare: a record that does not look like TLS, a client's alert).
       */
      readonly alert: number;
    }
  | { readonly kind: 'hello'; readonly serverName: string | undefined; readonly alpn: readonly string[] };

const INCOMPLETE: ClientHello = { kind: 'incomplete' };
/** The most bytes a listener should buffer waiting for a ClientHello (hybrid PQ keys are ~2 KiB). */
export const MAX_CLIENT_HELLO_BYTES = 65_536;

/** Go's maxHandshake: a longer handshake message is internal_error (conn.go readHandshake). */
const GO_MAX_HANDSHAKE = 65_536;

function invalid(reason: string, alert: number, plaintextHttp = false): ClientHello {
  return { kind: 'invalid', reason, plaintextHttp, alert };
}

/**
 * Reads the SNI and ALPN list from the first bytes of a TLS connection (RFC 8446 4.1.2, RFC 6066
 * 3, RFC 7301 3.1), so that a listener can choose the options set before node's handshake starts
 * (node cannot change versions, ciphers, verify mode or ALPN once it has). Handles a ClientHello
 * split over several records. `incomplete` → read more (up to MAX_CLIENT_HELLO_BYTES).
 */
export function parseClientHello(buf: Uint8Array): ClientHello {
  if (buf.length === 0) return INCOMPLETE;
  if (buf[0] !== 22) {
    const c = buf[0]!;
    // 0x80: an SSLv2-style hello, which Go answers protocol_version.
    return invalid(
      'not a TLS handshake',
      c === 0x80 ? ALERT_PROTOCOL_VERSION : 0,
      (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
    );
  }
  // Gather the handshake message from as many records as it spans.
  const parts: Uint8Array[] = [];
  let have = 0;
  let need = -1;
  let at = 0;
  while (need < 0 || have < need) {
    if (at + 5 > buf.length)
      return buf.length >= MAX_CLIENT_HELLO_BYTES
        ? invalid('ClientHello too large', ALERT_INTERNAL_ERROR)
        : INCOMPLETE;
    // Go: before a version is chosen, a record that is not a handshake (or an alert, which ends
    // it too) is a RecordHeaderError, closed bare.
    if (buf[at] !== 22 || buf[at + 1] !== 3) return invalid('not a TLS handshake record', 0);
    const len = (buf[at + 3]! << 8) | buf[at + 4]!;
    if (len === 0) return invalid('empty TLS record', ALERT_UNEXPECTED_MESSAGE);
    if (len > 16_384) return invalid('TLS record over 16 KiB', ALERT_RECORD_OVERFLOW);
    if (at + 5 + len > buf.length) {
      return buf.length >= MAX_CLIENT_HELLO_BYTES
        ? invalid('ClientHello too large', ALERT_INTERNAL_ERROR)
        : INCOMPLETE;
    }
    parts.push(buf.subarray(at + 5, at + 5 + len));
    have += len;
    at += 5 + len;
    if (need < 0 && have >= 4) {
      const first = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const length = (first[1]! << 16) | (first[2]! << 8) | first[3]!;
      // Go reads the length first (over maxHandshake: internal_error), then the type.
      if (length > GO_MAX_HANDSHAKE) return invalid('ClientHello too large', ALERT_INTERNAL_ERROR);
      if (first[0] !== 1)
        return invalid('first handshake message is not a ClientHello', ALERT_UNEXPECTED_MESSAGE);
      need = 4 + length;
      if (need > MAX_CLIENT_HELLO_BYTES) return invalid('ClientHello too large', ALERT_INTERNAL_ERROR);
    }
  }
  const msg = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return readHello(msg.subarray(4, need));
}

/** Go's clientHelloMsg.unmarshal refuses what this refuses: unexpected_message (conn.go). */
function readHello(b: Uint8Array): ClientHello {
  // legacy_version(2) random(32) session_id<0..32> cipher_suites<2..> compression<1..> extensions
  let p = 34;
  if (p >= b.length) return invalid('truncated ClientHello', ALERT_UNEXPECTED_MESSAGE);
  p += 1 + b[p]!;
  if (p + 2 > b.length) return invalid('truncated ClientHello', ALERT_UNEXPECTED_MESSAGE);
  p += 2 + ((b[p]! << 8) | b[p + 1]!);
  if (p + 1 > b.length) return invalid('truncated ClientHello', ALERT_UNEXPECTED_MESSAGE);
  p += 1 + b[p]!;
  if (p > b.length) return invalid('truncated ClientHello', ALERT_UNEXPECTED_MESSAGE);
  let serverName: string | undefined;
  let alpn: string[] = [];
  if (p === b.length) return { kind: 'hello', serverName, alpn };
  if (p + 2 > b.length) return invalid('truncated extensions', ALERT_UNEXPECTED_MESSAGE);
  const end = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  if (end !== b.length) return invalid('bad extensions length', ALERT_UNEXPECTED_MESSAGE);
  p += 2;
  while (p < end) {
    if (p + 4 > end) return invalid('truncated extension', ALERT_UNEXPECTED_MESSAGE);
    const type = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    const data = b.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    if (p > end) return invalid('truncated extension', ALERT_UNEXPECTED_MESSAGE);
    if (type === 0) {
      const name = readServerName(data);
      if (name === null) return invalid('bad server_name extension', ALERT_UNEXPECTED_MESSAGE);
      serverName = name;
    } else if (type === 16) {
      const list = readAlpn(data);
      if (list === null) return invalid('bad ALPN extension', ALERT_UNEXPECTED_MESSAGE);
      alpn = list;
    }
  }
  return { kind: 'hello', serverName, alpn };
}

/** The host_name entry; null when malformed (OpenSSL would send decode_error too). */
function readServerName(d: Uint8Array): string | undefined | null {
  if (d.length < 2 || ((d[0]! << 8) | d[1]!) !== d.length - 2) return null;
  let p = 2;
  while (p < d.length) {
    if (p + 3 > d.length) return null;
    const type = d[p]!;
    const len = (d[p + 1]! << 8) | d[p + 2]!;
    if (p + 3 + len > d.length) return null;
    if (type === 0) {
      if (len === 0) return null;
      for (let i = p + 3; i < p + 3 + len; i++) if (d[i] === 0) return null;
      return Buffer.from(d.buffer, d.byteOffset + p + 3, len).toString('latin1');
    }
    p += 3 + len;
  }
  return undefined;
}

function readAlpn(d: Uint8Array): string[] | null {
  if (d.length < 2 || ((d[0]! << 8) | d[1]!) !== d.length - 2) return null;
  const out: string[] = [];
  let p = 2;
  while (p < d.length) {
    const len = d[p]!;
    if (len === 0 || p + 1 + len > d.length) return null;
    out.push(Buffer.from(d.buffer, d.byteOffset + p + 1, len).toString('latin1'));
    p += 1 + len;
  }
  return out;
}
