/**
 * The DNS questions of lego's propagation check (challenge/dns01/precheck.go, nameserver.go),
 * asked through node:dns: follow a CNAME at the record name, find the zone by walking up the
 * labels until a name answers with its SOA, list the zone's NS, and ask one server at a time for
 * the TXT record. node:dns is loaded by the first lookup: a proxy that never checks a dns-01
 * record does not carry it.
 *
 * Every query gets a resolver of its own, dropped after it: no answer can be carried from one
 * round to the next (c-ares can cache per channel), and `cancel` ends exactly what is in flight.
 */
import type { promises as DnsPromises } from 'node:dns';
import { isIP } from 'node:net';

type Resolver = DnsPromises.Resolver;

/** Per try; c-ares doubles it on the next try. Two tries: about 9 s before a server counts as silent. */
const QUERY_TIMEOUT_MS = 3_000;
const QUERY_TRIES = 2;
/** Longer CNAME chains are a loop or a misconfiguration; lego follows what one answer holds. */
const MAX_CNAME_HOPS = 8;

/** One server's answer about the TXT record. */
export interface TxtAnswer {
  readonly found: boolean;
  /** Why it does not count, for the error that names the servers: "no TXT record", "SERVFAIL"… */
  readonly detail: string;
}

/** A zone's nameserver, by name and by the address asked. */
export interface Nameserver {
  readonly name: string;
  /** `ip:port` / `[ip6]:port`, as node:dns takes it; undefined when the name has no address. */
  readonly server: string | undefined;
  readonly detail?: string;
}

/** A DNS failure the check reports as it is (the zone cannot be found, a server refuses…). */
export class DnsLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnsLookupError';
  }
}

/** `1.2.3.4:53` / `[2001:db8::1]:53`. */
export function serverAddress(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class DnsLookup {
  readonly #dns: typeof DnsPromises;
  /** Servers for recursive questions; empty = the system's (resolv.conf). */
  readonly #recursive: readonly string[];
  readonly #open = new Set<Resolver>();
  #cancelled = false;

  constructor(recursive: readonly string[]) {
    this.#dns = process.getBuiltinModule('node:dns').promises;
    this.#recursive = recursive;
  }

  /** The recursive servers asked: the configured ones, else the system's. */
  recursiveServers(): string[] {
    return this.#recursive.length > 0 ? [...this.#recursive] : this.#resolver(undefined).getServers();
  }

  /** Abandons every query in flight (they reject with ECANCELLED). */
  cancel(): void {
    this.#cancelled = true;
    for (const r of this.#open) r.cancel();
    this.#open.clear();
  }

  /**
   * Where the record really lives: lego asks the recursive servers for it first and follows a
   * CNAME (the delegation `_acme-challenge.example.com CNAME _acme.dns-host.net` is what Let's
   * Encrypt recommends), so that the zone checked is the target's.
   */
  async followCname(fqdn: string): Promise<string> {
    let name = fqdn;
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      let targets: string[];
      try {
        targets = await this.#ask(undefined, (r) => r.resolveCname(bare(name)));
      } catch (e) {
        if (isAbsent(e)) return name;
        throw new DnsLookupError(`CNAME query for ${name} on the recursive nameservers: ${describe(e)}`);
      }
      const target = targets[0];
      if (target === undefined) return name;
      name = absolute(target);
    }
    throw new DnsLookupError(`${fqdn}: more than ${MAX_CNAME_HOPS} CNAMEs in a row`);
  }

  /**
   * lego's FindZoneByFqdn: the first of the name and its parents whose SOA is in the answer.
   * NXDOMAIN and "no data" go one label up; any other failure (SERVFAIL, REFUSED, NOTIMP, a
   * timeout) ends the search, as in lego, rather than guessing a zone from a broken answer.
   */
  async findZone(fqdn: string): Promise<string> {
    const labels = bare(fqdn).split('.');
    for (let i = 0; i < labels.length; i++) {
      const name = labels.slice(i).join('.');
      try {
        await this.#ask(undefined, (r) => r.resolveSoa(name));
        return `${name}.`;
      } catch (e) {
        // EBADRESP: an answer without an SOA in it (c-ares reads the answer section only).
        if (isAbsent(e) || code(e) === 'EBADRESP') continue;
        throw new DnsLookupError(`SOA query for ${name}. on the recursive nameservers: ${describe(e)}`);
      }
    }
    throw new DnsLookupError(`could not find the zone of ${fqdn}: no SOA for it or any parent`);
  }

  /** The zone's NS names and one address of each, found through the recursive servers. */
  async nameservers(zone: string, port: number): Promise<Nameserver[]> {
    let names: string[];
    try {
      names = await this.#ask(undefined, (r) => r.resolveNs(bare(zone)));
    } catch (e) {
      throw new DnsLookupError(`NS query for ${zone} on the recursive nameservers: ${describe(e)}`);
    }
    if (names.length === 0) throw new DnsLookupError(`${zone} has no NS records`);
    const unique = [...new Set(names.map((n) => absolute(n.toLowerCase())))];
    return Promise.all(unique.map((name) => this.#address(name, port)));
  }

  /** Asks `server` alone whether the TXT record at `fqdn` holds `value`. */
  async txt(fqdn: string, value: string, server: string): Promise<TxtAnswer> {
    let records: string[][];
    try {
      records = await this.#ask([server], (r) => r.resolveTxt(bare(fqdn)));
    } catch (e) {
      return { found: false, detail: isAbsent(e) ? 'no TXT record' : describe(e) };
    }
    // A TXT record may come as several character-strings; its value is their concatenation.
    const values = records.map((chunks) => chunks.join(''));
    if (values.includes(value)) return { found: true, detail: '' };
    return { found: false, detail: `only other values: ${values.join(', ')}` };
  }

  async #address(name: string, port: number): Promise<Nameserver> {
    const host = bare(name);
    if (isIP(host) !== 0) return { name, server: serverAddress(host, port) };
    const failures: string[] = [];
    // IPv4 first: an IPv6 address is often unreachable from a host that still resolves it.
    for (const family of [4, 6] as const) {
      try {
        const ips = await this.#ask(undefined, (r) => (family === 4 ? r.resolve4(host) : r.resolve6(host)));
        const ip = ips[0];
        if (ip !== undefined) return { name, server: serverAddress(ip, port) };
      } catch (e) {
        if (!isAbsent(e)) failures.push(`${family === 4 ? 'A' : 'AAAA'} query: ${describe(e)}`);
      }
    }
    return { name, server: undefined, detail: failures.length > 0 ? failures.join(', ') : 'no address' };
  }

  /** Runs one query on a resolver of its own (a single server, or the recursive ones). */
  async #ask<T>(servers: readonly string[] | undefined, query: (r: Resolver) => Promise<T>): Promise<T> {
    if (this.#cancelled) throw Object.assign(new Error('lookup cancelled'), { code: 'ECANCELLED' });
    const r = this.#resolver(servers ?? (this.#recursive.length > 0 ? this.#recursive : undefined));
    this.#open.add(r);
    try {
      return await query(r);
    } finally {
      this.#open.delete(r);
    }
  }

  #resolver(servers: readonly string[] | undefined): Resolver {
    const r = new this.#dns.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
    if (servers !== undefined) r.setServers(servers);
    return r;
  }
}

/** Without the final dot: c-ares takes both, but error messages and CNAME targets come without. */
function bare(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function code(e: unknown): string | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : undefined;
}

/** NXDOMAIN or NOERROR without an answer of the type asked. */
function isAbsent(e: unknown): boolean {
  const c = code(e);
  return c === 'ENOTFOUND' || c === 'ENODATA';
}

const ANSWERS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'no data',
  ESERVFAIL: 'SERVFAIL',
  ENOTIMP: 'NOTIMP',
  EREFUSED: 'REFUSED',
  EFORMERR: 'FORMERR',
  EBADRESP: 'a malformed answer',
  ETIMEOUT: 'no answer (timeout)',
  ECONNREFUSED: 'connection refused',
  ECANCELLED: 'cancelled',
};

/** A node:dns failure in DNS terms (the rcode a server answered, or how it failed to). */
function describe(e: unknown): string {
  const c = code(e);
  if (c !== undefined && Object.hasOwn(ANSWERS, c)) return ANSWERS[c]!;
  return c ?? (e instanceof Error ? e.message : String(e));
}
