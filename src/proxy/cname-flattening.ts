/**
 * Static `hostResolver` with `cnameFlattening: true`: the name a request's host resolves to
 * through its CNAME chain, which `Host` matchers and the TLS options check also match, as
 * Traefik's requestdecorator (pkg/middlewares/requestdecorator/hostresolver.go CNAMEFlatten and
 * request_decorator.go ServeHTTP, in every entry point's chain before routing):
 *
 * - each step asks every `nameserver` of `resolvConfig` (read again for each lookup, as miekg's
 *   ClientConfigFromFile is; port 53, as that reader sets it) for the name's CNAME record over
 *   UDP, one server after the other, 30 s each; an answer counts only when its first record is a
 *   CNAME; of the servers that gave one, the highest TTL wins (its target is the next name);
 * - at most `resolvDepth` steps; the chain ends at the first name without a CNAME, or when no
 *   server answers, or the file cannot be read;
 * - the result (the host itself when the first step found nothing) is kept for the first step's
 *   TTL, or 30 minutes (go-cache's default, which a TTL of 0 also means).
 *
 * Ours differs in what cannot change a routing decision: concurrent lookups of one host share
 * one chain walk, the cache holds at most MAX_ENTRIES hosts (oldest dropped first; Traefik's
 * grows without bound), an IP literal or an empty host is its own name without a question, and
 * the end of a chain (no CNAME) is logged at debug level where Traefik logs each as an error.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { encodeName, readName } from '../core/dns-name.ts';
import type { Logger } from '../core/logger.ts';

/** miekg/dns ClientConfigFromReader: the port is always 53. */
const DNS_PORT = 53;
/** Traefik's dns.Client{Timeout: 30 * time.Second}. */
const QUERY_TIMEOUT_MS = 30_000;
/** go-cache.New(30*time.Minute, …): the default expiration, also for a TTL of 0. */
const DEFAULT_TTL_MS = 30 * 60_000;
const MAX_ENTRIES = 10_000;
const TYPE_CNAME = 5;
const CLASS_IN = 1;

export interface HostResolverOptions {
  readonly resolvConfig: string;
  readonly resolvDepth: number;
  readonly logger: Logger;
  /** Tests: a shorter wait per server than Traefik's 30 s. */
  readonly timeoutMs?: number;
}

interface CacheEntry {
  readonly name: string;
  readonly expires: number;
}

/** One server's CNAME answer. */
interface CnameRecord {
  readonly ttlSeconds: number;
  readonly target: string;
}

export class CnameFlattener {
  readonly #opts: HostResolverOptions;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #pending = new Map<string, Promise<string>>();

  constructor(opts: HostResolverOptions) {
    this.#opts = opts;
  }

  /** The flattened name of `host` when known and fresh; undefined when it must be looked up. */
  cached(host: string): string | undefined {
    if (host === '' || isIP(host) !== 0) return host;
    const e = this.#cache.get(host);
    if (e === undefined) return undefined;
    if (e.expires > Date.now()) return e.name;
    this.#cache.delete(host);
    return undefined;
  }

  /** Walks `host`'s CNAME chain (never rejects: a failure leaves the host as it is). */
  resolve(host: string): Promise<string> {
    const known = this.cached(host);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.#pending.get(host);
    if (p === undefined) {
      p = this.#walk(host).finally(() => this.#pending.delete(host));
      this.#pending.set(host, p);
    }
    return p;
  }

  async #walk(host: string): Promise<string> {
    let result = host;
    let name = host;
    let ttlMs = 0;
    for (let depth = 0; depth < this.#opts.resolvDepth; depth++) {
      let rec: CnameRecord | undefined;
      try {
        rec = await this.#step(name);
      } catch (e) {
        this.#opts.logger.error('CNAME flattening failed', { host: name, error: (e as Error).message });
        break;
      }
      if (rec === undefined) break;
      result = rec.target;
      if (depth === 0) ttlMs = rec.ttlSeconds * 1000;
      name = rec.target;
    }
    if (this.#cache.size >= MAX_ENTRIES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(host, { name: result, expires: Date.now() + (ttlMs > 0 ? ttlMs : DEFAULT_TTL_MS) });
    return result;
  }

  /** One step: the CNAME of `name` with the highest TTL among the servers that gave one. */
  async #step(name: string): Promise<CnameRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#opts.resolvConfig, 'utf8');
    } catch {
      // Traefik: "invalid resolver configuration file: <path>", and the chain stops.
      throw new Error(`invalid resolver configuration file: ${this.#opts.resolvConfig}`);
    }
    let best: CnameRecord | undefined;
    for (const server of resolvConfServers(text)) {
      let rec: CnameRecord;
      try {
        rec = await queryCname(server, name, this.#opts.timeoutMs ?? QUERY_TIMEOUT_MS);
      } catch (e) {
        this.#opts.logger.debug('CNAME flattening: no CNAME from this server', {
          host: name,
          server,
          error: (e as Error).message,
        });
        continue;
      }
      if (best === undefined || rec.ttlSeconds > best.ttlSeconds) best = rec;
    }
    return best;
  }
}

/**
 * The `nameserver` addresses of a resolv.conf, as miekg/dns ClientConfigFromReader keeps them:
 * an IP address (IPv6 with a zone too); any other value is skipped. Comments start with `#` or `;`.
 */
export function resolvConfServers(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    const f = line.split(/\s+/);
    if (f[0] !== 'nameserver' || f.length < 2) continue;
    const addr = f[1]!;
    const pct = addr.indexOf('%');
    if (isIP(pct === -1 ? addr : addr.slice(0, pct)) !== 0) out.push(addr);
  }
  return out;
}

/** The question `name CNAME IN` with recursion desired, as miekg's Msg.SetQuestion makes it. */
export function cnameQuery(id: number, name: string): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPE_CNAME, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([head, encodeName(name), tail]);
}

/**
 * The first answer record of a response to `id`, when it is a CNAME (miekg's getRecord: an empty
 * answer or another type is an error). The target is lowercased: Traefik compares it with
 * strings.EqualFold.
 */
export function parseCnameAnswer(msg: Buffer, id: number): CnameRecord {
  if (msg.length < 12) throw new Error('short response');
  if (msg.readUInt16BE(0) !== id) throw new Error('response to another question');
  if ((msg[2]! & 0x80) === 0) throw new Error('not a response');
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  if (an === 0) throw new Error('empty answer');
  let o = 12;
  for (let i = 0; i < qd; i++) o = readName(msg, o).end + 4;
  o = readName(msg, o).end;
  if (o + 10 > msg.length) throw new Error('truncated record');
  const type = msg.readUInt16BE(o);
  const ttl = msg.readUInt32BE(o + 4);
  const rdlength = msg.readUInt16BE(o + 8);
  if (type !== TYPE_CNAME) throw new Error('invalid response type');
  if (o + 10 + rdlength > msg.length) throw new Error('truncated record');
  const target = readName(msg, o + 10).name.toLowerCase();
  return { ttlSeconds: ttl, target };
}

function queryCname(server: string, name: string, timeoutMs: number): Promise<CnameRecord> {
  return new Promise((resolve, reject) => {
    const id = (Math.random() * 0x10000) | 0;
    // Before the socket: a name DNS cannot carry rejects here (the executor's throw).
    const question = cnameQuery(id, name);
    const six = isIP(server.split('%')[0]!) === 6;
    const sock: Socket = createSocket(six ? 'udp6' : 'udp4');
    let settled = false;
    const done = (err: Error | null, rec?: CnameRecord): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      if (err !== null) reject(err);
      else resolve(rec!);
    };
    const timer = setTimeout(() => done(new Error(`no answer from ${server} in ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('message', (msg) => {
      try {
        done(null, parseCnameAnswer(msg, id));
      } catch (e) {
        // Another question's late answer is not ours: keep waiting for the one with our id.
        if (msg.length >= 2 && msg.readUInt16BE(0) !== id) return;
        done(e as Error);
      }
    });
    // Connected: only that server's datagrams are delivered, and a refusal (ICMP) is an error.
    sock.connect(DNS_PORT, server, () => {
      sock.send(question, (e) => {
        if (e) done(e);
      });
    });
  });
}
