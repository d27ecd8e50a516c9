import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { withoutZone } from '../../core/ip.ts';

export interface ListenAddress {
  /** undefined = every interface (`:8080`). IPv6 literals come without brackets. */
  readonly host: string | undefined;
  readonly port: number;
  /** `/udp`: a UDP entry point (Traefik's `:53/udp`); absent for TCP, the default. */
  readonly udp?: true;
}

// host:port | :port | [v6]:port, optionally followed by Traefik's `/tcp` or `/udp`. The address
// and the port may be empty: Traefik listens with Go's net.Listen("tcp", ep.GetAddress())
// (pkg/server/server_entrypoint_tcp.go buildListener), which takes "" and "host:" as port 0.
// The port may also be a service name (`:https`), which Go's net.Listen looks up (LookupPort).
const ADDRESS = /^(?:(?:\[([^\]]*)\]|([^:[\]/]*)):(\d{0,5}|[A-Za-z][A-Za-z0-9-]*))?(?:\/([A-Za-z]+))?$/;

/**
 * The service names Go's net package knows without /etc/services (net/lookup.go `services`),
 * which LookupPort reads, case-insensitively: `:https` listens on 443, as in Traefik. Go adds the
 * system's /etc/services to them (readServices; Traefik's Alpine image has one: `:sieve`,
 * `:submission`), read here at the first name looked up.
 */
const SERVICE_PORTS: Readonly<Record<'tcp' | 'udp', Readonly<Record<string, number>>>> = {
  tcp: {
    ftp: 21,
    ftps: 990,
    gopher: 70,
    http: 80,
    https: 443,
    imap2: 143,
    imap3: 220,
    imaps: 993,
    pop3: 110,
    pop3s: 995,
    smtp: 25,
    submissions: 465,
    ssh: 22,
    telnet: 23,
  },
  udp: { domain: 53 },
};

let systemServices: Map<string, number> | undefined;

/** /etc/services as Go's readServices reads it: `name port/proto aliases…`, later lines winning. */
function fromSystemServices(name: string, proto: 'tcp' | 'udp'): number | undefined {
  if (systemServices === undefined) {
    systemServices = new Map();
    let text = '';
    try {
      text = readFileSync('/etc/services', 'latin1');
    } catch {
      // No such file: Go's own table only.
    }
    for (const raw of text.split('\n')) {
      const f = raw.replace(/#.*/, '').trim().split(/\s+/);
      const m = f.length >= 2 ? /^(\d+)\/(tcp|udp)$/.exec(f[1]!) : null;
      if (m === null) continue;
      for (const n of [f[0]!, ...f.slice(2)]) systemServices.set(`${m[2]}/${n}`, Number(m[1]));
    }
  }
  return systemServices.get(`${proto}/${name}`);
}
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses an entry point address. Port 0 asks the OS for a free port (useful in tests); so does an
 * empty address or port, as in Traefik (Go's net.Listen).
 */
export function parseAddress(address: string): ListenAddress | { error: string } {
  const m = ADDRESS.exec(address);
  if (!m) return { error: `invalid address "${address}"` };
  const [, v6, host, portText, proto] = m;
  const udp = proto !== undefined && proto.toLowerCase() === 'udp';
  if (proto !== undefined && !udp && proto.toLowerCase() !== 'tcp')
    return { error: `unknown protocol "/${proto}"` };
  let port = portText === undefined || portText === '' ? 0 : Number(portText);
  if (Number.isNaN(port)) {
    const proto = udp ? 'udp' : 'tcp';
    const lower = portText!.toLowerCase();
    const named = fromSystemServices(lower, proto) ?? SERVICE_PORTS[proto][lower];
    if (named === undefined)
      return { error: `unknown port "${portText}" (lookup ${udp ? 'udp' : 'tcp'}/${portText})` };
    port = named;
  }
  if (port > 65535) return { error: `port ${port} is out of range (0-65535)` };
  const mark = udp ? ({ udp: true } as const) : {};
  if (v6 !== undefined) {
    if (isIP(v6) !== 6) return { error: `"${v6}" is not an IPv6 address` };
    return { host: v6, port, ...mark };
  }
  if (host === undefined || host === '') return { host: undefined, port, ...mark };
  if (isIP(host) === 0 && !HOSTNAME.test(host))
    return { error: `"${host}" is not an IP address or host name` };
  return { host, port, ...mark };
}

/**
 * An IP address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`). An address may carry an IPv6
 * zone (`fe80::1%eth0`), which Traefik's ip checker parses (netip.ParseAddr) and ignores
 * (pkg/ip/checker.go canonicalAddr); a block may not (netip.ParsePrefix refuses it).
 */
export function checkIpOrCidr(text: string): string | undefined {
  const slash = text.indexOf('/');
  const ip = slash === -1 ? withoutZone(text) : text.slice(0, slash);
  if (ip === undefined) return `"${text}" is not an IP address or CIDR block`;
  if (slash !== -1 && ip.includes('%')) return `"${text}": IPv6 zones cannot be present in a prefix`;
  const family = isIP(ip);
  if (family === 0) return `"${text}" is not an IP address or CIDR block`;
  if (slash === -1) return undefined;
  const bits = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${text}" has an invalid prefix length`;
  return undefined;
}
