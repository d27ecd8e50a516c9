import { hostname } from 'node:os';
import { MANAGED_X_HEADERS as MANAGED } from '../core/forwarded-fields.ts';
import type { HeaderList } from '../core/headers.ts';

/**
 * Whether an untrusted peer's field must go: a managed name, or one spelled with underscores
 * (`X_Forwarded_For`), which many servers (CGI, WSGI, PHP) fold into the same variable as the
 * dash form, as Traefik also checks. `Forwarded` (RFC 7239) too: we never pass it from an
 * untrusted peer (Traefik does not touch it; a stricter choice).
 */
export function isManagedForwardingField(lname: string): boolean {
  if (lname.charCodeAt(0) !== 0x78 /* x */) return lname === 'forwarded';
  if (MANAGED.has(lname)) return true;
  return lname.indexOf('_') !== -1 && MANAGED.has(lname.replaceAll('_', '-'));
}

/** X-Forwarded-Proto of a request: `ws`/`wss` for a WebSocket handshake, as Traefik sets it. */
export function forwardedProto(scheme: 'http' | 'https', upgrade: string | null): string {
  if (upgrade !== 'websocket') return scheme;
  return scheme === 'https' ? 'wss' : 'ws';
}

/**
 * X-Forwarded-Port as Traefik's forwardedheaders forwardedPort computes it: the Host's port, else
 * 443 when X-Forwarded-Proto says https or wss or the connection is TLS (`own` is our scheme),
 * else 80. Never the port we listen on: behind a port mapping that one means nothing to the
 * client.
 */
function forwardedPort(hostPort: string, proto: string, own: string): string {
  if (hostPort !== '') return hostPort;
  return proto === 'https' || proto === 'wss' || own === 'https' || own === 'wss' ? '443' : '80';
}

/**
 * X-Forwarded-Server: the host name, read once (Traefik's forwardedheaders NewXForwarded takes
 * os.Hostname() when built and its rewrite sets the field on every request).
 */
const HOSTNAME = hostname();

/**
 * X-Forwarded-* and X-Real-IP, as Traefik's entry point sets them (pkg/middlewares/
 * forwardedheaders/forwarded_header.go rewrite). From an untrusted peer, whatever the client
 * claimed is dropped (Forwarded too) and replaced: otherwise a client could forge its own address
 * for every IP-based decision behind us. From a trusted proxy, the fields are kept when present.
 * X-Forwarded-Server is always ours. `scheme` is our X-Forwarded-Proto (ws/wss for a WebSocket
 * handshake).
 *
 * X-Forwarded-For is not extended here: Traefik's entry point only joins a trusted peer's lines
 * into one (and drops an untrusted peer's), and its proxy appends the peer's address when it
 * writes each request upstream (pkg/proxy/httputil/proxy.go rewriteRequestBuilder, unless
 * `forwardedHeaders.notAppendXForwardedFor`). Routers' rules, middlewares and plugins see the
 * field without the peer; heads.ts and h2-fields.ts append it (OutgoingRequest.forwardedFor).
 *
 * `schemeHeaders` (`forwardedHeaders.addXForwardedSchemeHeaders`, Traefik v3.8): X-Forwarded-Scheme
 * and X-Scheme are set to the X-Forwarded-Proto the request goes on with (a trusted peer's first
 * value, else ours), replacing whatever a trusted peer sent under those names (forwardedheaders
 * rewrite).
 */
export function applyForwardedHeaders(
  headers: HeaderList,
  trusted: boolean,
  clientIp: string,
  scheme: string,
  authority: string,
  hostPort: string,
  schemeHeaders: boolean,
): void {
  if (!trusted) {
    headers.deleteWhere(isManagedForwardingField);
    headers.appendLowered('X-Forwarded-Proto', 'x-forwarded-proto', scheme);
    if (schemeHeaders) {
      headers.appendLowered('X-Forwarded-Scheme', 'x-forwarded-scheme', scheme);
      headers.appendLowered('X-Scheme', 'x-scheme', scheme);
    }
    if (authority !== '') headers.appendLowered('X-Forwarded-Host', 'x-forwarded-host', authority);
    headers.appendLowered('X-Forwarded-Port', 'x-forwarded-port', forwardedPort(hostPort, scheme, scheme));
    headers.appendLowered('X-Real-Ip', 'x-real-ip', clientIp);
    headers.appendLowered('X-Forwarded-Server', 'x-forwarded-server', HOSTNAME);
    return;
  }
  joinForwardedFor(headers);
  // Traefik's rewrite fills each field the trusted peer left absent or empty (its Get reads the
  // first line, its Set replaces them all).
  let proto = headers.get('x-forwarded-proto');
  if (proto === undefined || proto === '') {
    fill(headers, 'X-Forwarded-Proto', proto, scheme);
    proto = scheme;
  }
  if (schemeHeaders) setSchemeHeaders(headers, proto);
  if (authority !== '') {
    const host = headers.get('x-forwarded-host');
    if (host === undefined || host === '') fill(headers, 'X-Forwarded-Host', host, authority);
  }
  const port = headers.get('x-forwarded-port');
  if (port === undefined || port === '')
    fill(headers, 'X-Forwarded-Port', port, forwardedPort(hostPort, proto, scheme));
  const realIp = headers.get('x-real-ip');
  if (realIp === undefined || realIp === '') fill(headers, 'X-Real-Ip', realIp, clientIp);
  // Traefik's rewrite sets it whatever a trusted peer sent: this proxy is the server that forwarded.
  headers.set('X-Forwarded-Server', HOSTNAME);
}

/** Sets a field `current` says is absent (appended) or empty (all its lines replaced). */
function fill(headers: HeaderList, name: string, current: string | undefined, value: string): void {
  if (current === undefined) headers.append(name, value);
  else headers.set(name, value);
}

/** X-Forwarded-Scheme and X-Scheme, each one line, as X-Forwarded-Proto (Traefik's rewrite). */
function setSchemeHeaders(headers: HeaderList, proto: string): void {
  headers.set('X-Forwarded-Scheme', proto);
  headers.set('X-Scheme', proto);
}

/** A trusted peer's X-Forwarded-For lines as one, untouched otherwise (Traefik's rewrite). */
function joinForwardedFor(headers: HeaderList): void {
  const xff = headers.getAll('x-forwarded-for');
  if (xff.length > 1) headers.set('X-Forwarded-For', xff.join(', '));
}

/**
 * The fields a client named in Connection (lowercase `tokens`) go before routing, as Traefik's
 * entry point removes them before the middleware chain (pkg/middlewares/forwardedheaders/
 * forwarded_header.go removeConnectionHeaders): `Connection: X-Forwarded-For` cannot strip the
 * X-Forwarded-For we set. Those in `kept` (`forwardedHeaders.connection`) stay for routing and
 * the middlewares; the exchange drops them before the request goes upstream (`dropKeptFields`).
 * The forwarding fields Traefik manages are never removed so: they are ours to set.
 */
export function dropConnectionFields(
  headers: HeaderList,
  tokens: readonly string[],
  kept: ReadonlySet<string> | null,
): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    // Traefik's isManagedXHeader: Connection cannot remove the X- fields Traefik manages (a
    // trusted proxy's X-Forwarded-For chain survives `Connection: X-Forwarded-For`).
    if (t.charCodeAt(0) === 0x78 /* x */ && isManagedForwardingField(t)) continue;
    if (kept === null || !kept.has(t)) headers.delete(t);
  }
}

/**
 * `forwardedHeaders.connection` as the entry point keeps it (lowercase), null when empty. The X-
 * forwarding fields Traefik manages are left out: its removeConnectionHeaders skips them before
 * it reads the list, so `Connection: X-Forwarded-For` removes that field neither before routing
 * nor before the request goes upstream, listed or not.
 */
export function keptConnectionFields(names: readonly string[]): ReadonlySet<string> | null {
  const kept = new Set<string>();
  for (const n of names) {
    const l = n.toLowerCase();
    if (!(l.charCodeAt(0) === 0x78 /* x */ && isManagedForwardingField(l))) kept.add(l);
  }
  return kept.size === 0 ? null : kept;
}

/**
 * Before the request goes upstream: the `forwardedHeaders.connection` fields the client named in
 * Connection are hop-by-hop after all (Go's reverse proxy removes what Traefik's rewritten
 * Connection still lists), whoever set them since.
 */
export function dropKeptFields(
  headers: HeaderList,
  tokens: readonly string[],
  kept: ReadonlySet<string>,
): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (kept.has(t)) headers.delete(t);
  }
}
