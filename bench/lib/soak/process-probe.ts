/**
 * What a running proxy holds, read from outside: /proc for resident memory and descriptors (the
 * kernel's numbers, whatever the process thinks), its Prometheus endpoint for the V8 heap and
 * the connections it counts.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';

export interface ProcFigures {
  /** VmRSS, bytes. */
  readonly rss: number;
  /** Entries of /proc/PID/fd. */
  readonly fds: number;
  /** Socket descriptors among them. */
  readonly sockets: number;
}

/** Resident memory of a process, bytes, split as the kernel counts it. */
export interface ResidentMemory {
  /** VmRSS: all of it. */
  readonly rss: number;
  /** RssAnon: the heap V8 and malloc hold, thread stacks; where a leak of memory shows. */
  readonly anon: number;
  /**
   * RssFile (with RssShmem): pages of mapped files, above all the `node` binary's own code and
   * data, which grow as code paths run for the first time and the kernel pages them in.
   */
  readonly file: number;
}

/** `pid`'s resident memory: one read of /proc/PID/status (cheap enough to call at every full GC). */
export function readMemory(pid: number): ResidentMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
    if (m === null) throw new Error(`no ${field} for pid ${pid}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
}

export function readProc(pid: number): ProcFigures {
  const { rss } = readMemory(pid);
  const entries = readdirSync(`/proc/${pid}/fd`);
  let sockets = 0;
  for (const fd of entries) {
    try {
      if (readlinkFd(pid, fd).startsWith('socket:')) sockets++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return { rss, fds: entries.length, sockets };
}

function readlinkFd(pid: number, fd: string): string {
  return readlinkSync(`/proc/${pid}/fd/${fd}`);
}

export interface MetricFigures {
  /** nodejs_heap_size_used_bytes */
  readonly heapUsed: number;
  /** nodejs_heap_size_total_bytes */
  readonly heapTotal: number;
  /**
   * Client connections open on the entry points: `traefik_open_connections` (the proxy's default
   * names, Traefik's), or `<prefix>_open_connections` before those names. Not v2's
   * `traefik_entrypoint_open_connections` (the same values again) nor
   * `traefik_service_open_connections` (requests in flight).
   */
  readonly openConnections: number;
  /** Sum of the `*_upstream_pool_connections` series (idle, busy, connecting). */
  readonly upstreamConnections: number;
  /** Sum of the `*_tunnels_open` series (WebSockets). */
  readonly tunnels: number;
  /**
   * V8's code spaces in use (`nodejs_heap_space_size_used_bytes` of `code`, `trusted` and their
   * large-object spaces: machine code, bytecode and their metadata), 0 from a proxy without the
   * family. The JIT's share of the heap, which grows for hours as cold functions are compiled.
   */
  readonly codeHeap: number;
  /**
   * `nodejs_external_memory_bytes`: memory outside V8's heap that V8 is told about (ArrayBuffers
   * and Buffers, above all the sockets' read buffers), 0 from a proxy without the family.
   */
  readonly external: number;
}

/** The V8 spaces that hold code and what belongs to it (Node 24's V8, with its sandbox). */
const CODE_SPACES = new Set(['code', 'code_large_object', 'trusted', 'trusted_large_object']);

function codeHeap(lines: readonly string[]): number {
  let total = 0;
  for (const line of lines) {
    const m = /^nodejs_heap_space_size_used_bytes\{space="(\w+)"\} (\S+)$/.exec(line);
    if (m !== null && CODE_SPACES.has(m[1]!)) total += Number(m[2]);
  }
  return total;
}

/** Sums every sample of the families whose names end with `suffix` (prefix-agnostic). */
function sum(lines: readonly string[], suffix: string): number {
  let total = 0;
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd < 0 || !line.slice(0, nameEnd).endsWith(suffix)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** The family of client connections: the first of `traefik_open_connections`, `*_open_connections` present. */
function openConnections(lines: readonly string[]): number {
  const family = (l: string): string => l.slice(0, Math.max(0, l.search(/[{ ]/)));
  if (lines.some((l) => family(l) === 'traefik_open_connections'))
    return sum(lines, 'traefik_open_connections');
  let total = 0;
  for (const l of lines) {
    const name = family(l);
    if (l.startsWith('#') || !/^[a-z]+_open_connections$/.test(name)) continue;
    const value = Number(l.slice(l.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

export function parseMetrics(text: string): MetricFigures {
  const lines = text.split('\n');
  return {
    heapUsed: sum(lines, 'nodejs_heap_size_used_bytes'),
    heapTotal: sum(lines, 'nodejs_heap_size_total_bytes'),
    openConnections: openConnections(lines),
    upstreamConnections: sum(lines, '_upstream_pool_connections'),
    tunnels: sum(lines, '_tunnels_open'),
    codeHeap: codeHeap(lines),
    external: sum(lines, 'nodejs_external_memory_bytes'),
  };
}

/**
 * One scrape on a connection of its own that closes after it (no keep-alive), so that scraping
 * leaves no descriptor open in the proxy between samples.
 */
export function scrape(url: string): Promise<MetricFigures> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve(parseMetrics(text));
        else reject(new Error(`GET ${url}: ${res.statusCode}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}
