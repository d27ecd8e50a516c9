import { readFileSync } from 'node:fs';

/*
 * Go's net.LookupPort as the dial of a TCP or UDP server address runs it (net/ipsock.go
 * internetAddrList → Resolver.LookupPort, net/lookup.go; the port of `host:port` may be a service
 * name). Traefik's binaries are built without cgo, so the pure Go lookup applies: goLookupPort
 * (net/lookup_unix.go) reads /etc/services once per process (net/port_unix.go readServices) into
 * the small built-in table of net/lookup.go (`services`), then lookupPortMap looks the name up.
 * Zod-free: the serving process builds TCP and UDP services with it.
 */

export type PortNetwork = 'tcp' | 'udp';

/** net/lookup.go `services`: what Go knows without /etc/services. */
function builtinServices(): Map<string, Map<string, number>> {
  return new Map([
    ['udp', new Map([['domain', 53]])],
    [
      'tcp',
      new Map([
        ['ftp', 21],
        ['ftps', 990],
        ['gopher', 70],
        ['http', 80],
        ['https', 443],
        ['imap2', 143],
        ['imap3', 220],
        ['imaps', 993],
        ['pop3', 110],
        ['pop3s', 995],
        ['smtp', 25],
        ['submissions', 465],
        ['ssh', 22],
        ['telnet', 23],
      ]),
    ],
  ]);
}

/** Go's dtoi's limit (net/parse.go `big`): a longer number is no port there. */
const BIG = 0xff_ffff;

/**
 * net/port_unix.go readServices over `text` (an /etc/services file), added to Go's built-in table:
 * `name port/network aliases… # comment`; each name and alias maps to the port, a later line
 * overriding an earlier one (and the built-in entry). Lines Go skips are skipped.
 */
export function servicesTable(text: string | undefined): Map<string, Map<string, number>> {
  const table = builtinServices();
  if (text === undefined) return table;
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    // Go's getFields: split on spaces, tabs, CR and LF.
    const f = line.split(/[ \t\r\n]+/).filter((x) => x !== '');
    if (f.length < 2) continue;
    const portnet = f[1]!;
    const digits = /^\d*/.exec(portnet)![0];
    // dtoi: at least one digit, below `big`; then `/network`.
    if (digits === '' || digits.length > 8) continue;
    const port = Number(digits);
    if (port >= BIG || port <= 0 || portnet[digits.length] !== '/') continue;
    const network = portnet.slice(digits.length + 1);
    let m = table.get(network);
    if (m === undefined) {
      m = new Map();
      table.set(network, m);
    }
    for (let i = 0; i < f.length; i++) if (i !== 1) m.set(f[i]!, port);
  }
  return table;
}

let machineTable: Map<string, Map<string, number>> | undefined;

/** The table of this machine, read once per process (Go's onceReadServices) on first use. */
function machineServices(): Map<string, Map<string, number>> {
  if (machineTable === undefined) {
    let text: string | undefined;
    try {
      text = readFileSync('/etc/services', 'utf8');
    } catch {
      // Go's readServices: no file, the built-in table alone.
    }
    machineTable = servicesTable(text);
  }
  return machineTable;
}

/** net/port.go parsePort: a decimal port (sign allowed, clamped), or a name to look up (null). */
function parsePort(service: string): number | null {
  if (service === '') return 0; // Go: "the legacy behavior that an empty string means port 0"
  const CUTOFF = 2 ** 30;
  const MAX = 2 ** 32 - 1;
  let s = service;
  let neg = false;
  if (s[0] === '+') s = s.slice(1);
  else if (s[0] === '-') {
    neg = true;
    s = s.slice(1);
  }
  let n = 0;
  for (const ch of s) {
    if (ch < '0' || ch > '9') return null;
    if (n >= CUTOFF) {
      n = MAX;
      break;
    }
    n = n * 10 + (ch.charCodeAt(0) - 48);
    if (n > MAX) {
      n = MAX;
      break;
    }
  }
  const port = !neg && n >= CUTOFF ? CUTOFF - 1 : neg && n > CUTOFF ? CUTOFF : n;
  return neg ? -port : port;
}

/** Go's maxPortBufSize: a longer name is never found (len("mobility-header") + 10). */
const MAX_PORT_NAME = 25;

/**
 * Go's Resolver.LookupPort for `network` and the port text of an address: the port, or Go's error
 * text (`lookup tcp/name: unknown port`, `address 70000: invalid port`). `table` defaults to this
 * machine's (read once).
 */
export function lookupPort(
  network: PortNetwork,
  service: string,
  table: Map<string, Map<string, number>> = machineServices(),
): { port: number } | { error: string } {
  let port = parsePort(service);
  if (port === null) {
    // lookupPortMapWithNetwork: the name lowercased (ASCII only), at most maxPortBufSize bytes.
    const lower = service.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const found = Buffer.byteLength(service) <= MAX_PORT_NAME ? table.get(network)?.get(lower) : undefined;
    if (found === undefined) return { error: `lookup ${network}/${service}: unknown port` };
    port = found;
  }
  if (port < 0 || port > 65_535) return { error: `address ${service}: invalid port` };
  return { port };
}
