/**
 * Go's net/http client errors, in Go's words, for the messages that quote them as Traefik writes
 * them (forwardAuth's `Error calling <address>. Cause: <err>`, pkg/middlewares/auth/forward.go).
 * Made only when a call has failed: nothing here runs for a call that succeeds.
 */
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { ProxyError } from './errors.ts';

/** Where the failure came: dialling, waiting for the response head, reading the body. */
export type GoCallPhase = 'connect' | 'head' | 'body';

/** A node error's fields that say what failed (libuv's `code`, the address it dialled). */
interface NodeNetError {
  readonly code?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly hostname?: unknown;
}

/** Go's url.Error: `Get "http://h/p": <err>` (Op: the method as Go's urlErrorOp writes it). */
export function goUrlError(method: string, url: string, err: string): string {
  const op = method.length === 0 ? '' : method[0]!.toUpperCase() + method.slice(1).toLowerCase();
  return `${op} ${JSON.stringify(stripPassword(url))}: ${err}`;
}

/** Go's url.Error hides a URL's password (`user:***@`, net/http stripPassword). */
function stripPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#:@]*):[^/?#@]*@/i, '$1:***@');
}

/**
 * Go's http.Client.Timeout error: while waiting for the response head (`context deadline
 * exceeded (Client.Timeout exceeded while awaiting headers)`, client.go) or while reading the
 * body (cancelTimerBody: `(Client.Timeout or context cancellation while reading body)`).
 */
export function goClientTimeout(inBody: boolean): string {
  return inBody
    ? 'context deadline exceeded (Client.Timeout or context cancellation while reading body)'
    : 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
}

/**
 * The error Go's transport gives for an upstream failure, from the node error the ProxyError
 * carries: net.OpError's `dial tcp 127.0.0.1:1: connect: connection refused`, the DNS error
 * `dial tcp: lookup NAME on 127.0.0.53:53: no such host`, `EOF` for a server that closed before
 * its answer, `unexpected EOF` for one that closed in its body, `read tcp 127.0.0.1:51234->
 * 127.0.0.1:9000: read: connection reset by peer` (net.OpError with its Source, the connection's
 * `local->remote` its pool noted, PoolOptions.keepAddresses). `remote` is the `host:port` dialled
 * (the URL's, default port added), used where the error names no address. Anything else is the
 * ProxyError's message.
 */
export function goNetError(err: ProxyError, phase: GoCallPhase, remote: string): string {
  const c = (err.cause ?? null) as NodeNetError | null;
  const code = typeof c?.code === 'string' ? c.code : undefined;
  const dialled =
    typeof c?.address === 'string' && typeof c.port === 'number' ? joinHostPort(c.address, c.port) : remote;
  // An established connection's read or write: Go's OpError names `local->remote`.
  const conn = err.addresses ?? remote;
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${dialled}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${dialled}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${dialled}: connect: network is unreachable`;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return `dial tcp: lookup ${lookedUp(c, remote)} on ${nameServer()}: no such host`;
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `dial tcp: lookup ${lookedUp(c, remote)} on ${nameServer()}: server misbehaving`;
    case 'ETIMEDOUT':
      return phase === 'connect' ? `dial tcp ${dialled}: i/o timeout` : `read tcp ${conn}: i/o timeout`;
    case 'ECONNRESET':
      return phase === 'connect'
        ? `dial tcp ${dialled}: connect: connection reset by peer`
        : `read tcp ${conn}: read: connection reset by peer`;
    case 'EPIPE':
      return `write tcp ${conn}: write: broken pipe`;
    default:
      break;
  }
  // Closed without an error: before the answer Go's transport says EOF, in a body of known
  // length io.ErrUnexpectedEOF.
  if (code === undefined && err.code === 'UPSTREAM_RESET' && phase !== 'connect')
    return phase === 'head' ? 'EOF' : 'unexpected EOF';
  return err.message;
}

/** `host:port` as Go's net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number | string): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function lookedUp(c: NodeNetError | null, remote: string): string {
  if (typeof c?.hostname === 'string') return c.hostname;
  const colon = remote.lastIndexOf(':');
  return colon === -1 ? remote : remote.slice(0, colon);
}

let firstNameServer: string | undefined;

/**
 * The server Go's resolver asks first: the first `nameserver` of /etc/resolv.conf, port 53, else
 * Go's default 127.0.0.1:53 (net/dnsconfig_unix.go defaultNS). Read once, on the first failed
 * lookup.
 */
function nameServer(): string {
  if (firstNameServer !== undefined) return firstNameServer;
  let found = '127.0.0.1';
  try {
    const m = /^\s*nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'latin1'));
    // A zone (`fe80::1%eth0`) is kept, as Go keeps it.
    if (m !== null) found = m[1]!;
  } catch {
    // No resolv.conf: Go's default.
  }
  firstNameServer = joinHostPort(found, 53);
  return firstNameServer;
}
