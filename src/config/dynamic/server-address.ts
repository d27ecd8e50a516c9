import { isIP } from 'node:net';

/* The address of a TCP or UDP server, checked by the schema (tcp.ts) and resolved by the build, which runs without `zod`. */

const HOST =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Go's net.SplitHostPort, with its messages (net/ipsock.go): the only check Traefik makes. */
function splitHostPort(text: string): { host: string; port: string } | { error: string } {
  const fail = (why: string) => ({ error: `address ${text}: ${why}` });
  const i = text.lastIndexOf(':');
  if (i < 0) return fail('missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (text[0] === '[') {
    const end = text.indexOf(']');
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 === text.length) return fail('missing port in address');
    if (end + 1 !== i)
      return fail(text[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    host = text.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = text.slice(0, i);
    if (host.includes(':')) return fail('too many colons in address');
  }
  if (text.indexOf('[', j) >= 0) return fail("unexpected '[' in address");
  if (text.indexOf(']', k) >= 0) return fail("unexpected ']' in address");
  return { host, port: text.slice(i + 1) };
}

/**
 * A server address as Traefik v3 takes it (pkg/server/service/tcp/service.go BuildTCP,
 * pkg/server/service/udp/service.go BuildUDP): only Go's net.SplitHostPort must succeed (an
 * `error`); the host and port are read when dialling. An address that splits but that no dial can
 * use (a host that is no IP address or DNS name, such as an unexpanded `${DOMAIN}`, or a port that
 * is no number in 1-65535) is kept with `unusable`, the dial error: its connections fail at once,
 * without a DNS query (Go's resolver refuses such a name before asking, net/dnsclient.go
 * isDomainName), and the configuration loads with a warning.
 */
export function parseServerAddress(
  text: string,
): { host: string; port: number; unusable?: string | undefined } | { error: string } {
  const split = splitHostPort(text);
  if ('error' in split) return split;
  const { host } = split;
  const bracketed = text[0] === '[';
  const hostOk = bracketed ? isIP(host) !== 0 : host === '' || isIP(host) !== 0 || HOST.test(host);
  if (!hostOk) return { host, port: 0, unusable: `lookup ${host}: no such host` };
  const port = /^\d{1,5}$/.test(split.port) ? Number(split.port) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) {
    return {
      host,
      port: 0,
      unusable: `address ${text}: ${split.port === '' ? 'missing port' : 'invalid port'}`,
    };
  }
  return { host, port };
}
