import { isIP } from 'node:net';

/* The address of a TCP or UDP server, checked by the schema (tcp.ts) and resolved by the build, which runs without `zod`. */

const HOST =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** `host:port` or `[v6]:port`, as Go's net.Dial takes it; the host part may be a name. */
export function parseServerAddress(text: string): { host: string; port: number } | { error: string } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return { error: `invalid address "${text}": expected host:port` };
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return { error: `port ${m[3]} is out of range (1-65535)` };
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) return { error: `"${m[1]}" is not an IPv6 address` };
    return { host: m[1], port };
  }
  const host = m[2]!;
  if (isIP(host) === 0 && !HOST.test(host)) return { error: `"${host}" is not an IP address or host name` };
  return { host, port };
}
