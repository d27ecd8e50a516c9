import { isIP } from 'node:net';
import { lookupPort, type PortNetwork } from './go-lookup-port.ts';

/* The address of a TCP or UDP server, checked by validation (validate-l4.ts) and resolved by the build, which runs without `zod`. */

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
 * pkg/server/service/udp/service.go BuildUDP): only Go's net.SplitHostPort is checked when the
 * service is built, and an address that fails it (an `error`) is that server left out, with an
 * error log ("Failed to split host port"), the service built with the others. The host and port
 * are read when dialling, as Go's dial reads them (net/ipsock.go internetAddrList): the port first,
 * a decimal number or a service name looked up for `network` (go-lookup-port.ts: /etc/services,
 * then Go's built-in table), then the host. An address that splits but that no dial can use (a
 * port no lookup knows or out of range, a host that is no IP address or DNS name, such as an
 * unexpanded `${DOMAIN}`) is kept with `unusable`, the dial error: its connections fail at once,
 * without a DNS query (Go's resolver refuses such a name before asking, net/dnsclient.go
 * isDomainName), and the configuration loads with a warning.
 */
export function parseServerAddress(
  text: string,
  network: PortNetwork,
): { host: string; port: number; unusable?: string | undefined } | { error: string } {
  const split = splitHostPort(text);
  if ('error' in split) return split;
  const { host } = split;
  const looked = lookupPort(network, split.port);
  if ('error' in looked) return { host, port: 0, unusable: looked.error };
  // Port 0 (an empty port is 0 to Go): Go dials it; node cannot, so its connections fail here.
  if (looked.port === 0) {
    return {
      host,
      port: 0,
      unusable: `address ${text}: ${split.port === '' ? 'missing port' : 'invalid port'}`,
    };
  }
  const bracketed = text[0] === '[';
  const hostOk = bracketed ? isIP(host) !== 0 : host === '' || isIP(host) !== 0 || HOST.test(host);
  if (!hostOk) return { host, port: 0, unusable: `lookup ${host}: no such host` };
  return { host, port: looked.port };
}
