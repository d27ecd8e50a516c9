/**
 * Slow clients for overload tests and the overload benchmark: slowloris (a request head trickled
 * one byte at a time, never finished) and slow POST (a head, then a body trickled one byte at a
 * time), each kept at its count: a connection the proxy closes is opened again, as an attacker
 * would. One timer drives every connection (round robin), so that thousands of them cost the
 * attacking process little; a probe measures what a well-behaved client sees meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface SlowAttackOptions {
  readonly port: number;
  readonly host?: string;
  /** The attacker's own address (another loopback address keeps it apart from the probe's). */
  readonly localAddress?: string;
  readonly slowloris: number;
  readonly slowPosts: number;
  /** Each connection sends one more byte this often. */
  readonly trickleEveryMs: number;
  /** The Content-Length slow POSTs announce (they never get there). */
  readonly postLength?: number;
}

export interface SlowAttackStats {
  /** Connections opened, first ones and reopened ones. */
  opened: number;
  /** Connections the proxy closed (FIN or reset) while they trickled. */
  closedByProxy: number;
  /** Responses with status 408 among what the proxy sent before closing. */
  timeouts408: number;
  /** Connect errors (refused, EMFILE …). */
  errors: number;
  /** Bytes trickled. */
  bytes: number;
}

const SLOWLORIS_HEAD = 'GET / HTTP/1.1\r\nHost: attack.test\r\n';
/** What a slowloris keeps sending: header lines that never end the head. */
const SLOWLORIS_TRICKLE = 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n';

interface Slot {
  readonly kind: 'head' | 'body';
  socket: Socket | null;
  sent: number;
  received: string;
}

export class SlowAttack {
  readonly stats: SlowAttackStats = { opened: 0, closedByProxy: 0, timeouts408: 0, errors: 0, bytes: 0 };
  readonly #opts: SlowAttackOptions;
  readonly #slots: Slot[] = [];
  #timer: NodeJS.Timeout | undefined;
  #next = 0;
  #stopped = false;

  constructor(opts: SlowAttackOptions) {
    this.#opts = opts;
    for (let i = 0; i < opts.slowloris; i++)
      this.#slots.push({ kind: 'head', socket: null, sent: 0, received: '' });
    for (let i = 0; i < opts.slowPosts; i++)
      this.#slots.push({ kind: 'body', socket: null, sent: 0, received: '' });
  }

  /** Opens every connection (resolves once each is connected or failed), then starts trickling. */
  async start(): Promise<void> {
    // In batches: thousands of simultaneous connects overflow the listen backlog.
    for (let i = 0; i < this.#slots.length; i += 200) {
      await Promise.all(this.#slots.slice(i, i + 200).map((s) => this.#open(s)));
    }
    const n = this.#slots.length;
    // One tick every 10 ms sends one byte on as many connections as make each send every trickleEveryMs.
    const perTick = Math.max(1, Math.ceil((n * 10) / this.#opts.trickleEveryMs));
    this.#timer = setInterval(() => {
      for (let k = 0; k < perTick; k++) {
        const s = this.#slots[this.#next]!;
        this.#next = (this.#next + 1) % n;
        this.#trickle(s);
      }
    }, 10);
  }

  /** Connections open now. */
  get open(): number {
    return this.#slots.filter((s) => s.socket !== null).length;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const s of this.#slots) {
      s.socket?.destroy();
      s.socket = null;
    }
  }

  #open(slot: Slot): Promise<void> {
    return new Promise((resolve) => {
      const o = this.#opts;
      const socket = connect({
        port: o.port,
        host: o.host ?? '127.0.0.1',
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
      });
      slot.socket = socket;
      slot.sent = 0;
      slot.received = '';
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        this.stats.opened++;
        const head =
          slot.kind === 'head'
            ? SLOWLORIS_HEAD
            : `POST /upload HTTP/1.1\r\nHost: attack.test\r\nContent-Length: ${o.postLength ?? 1_000_000}\r\n\r\n`;
        socket.write(head);
        resolve();
      });
      socket.on('data', (d: Buffer) => {
        if (slot.received.length < 64) slot.received += d.toString('latin1');
      });
      socket.on('error', () => {
        if (!connected) {
          this.stats.errors++;
          resolve();
        }
      });
      socket.on('close', () => {
        if (slot.socket !== socket) return;
        slot.socket = null;
        if (!connected) return;
        if (this.#stopped) return;
        this.stats.closedByProxy++;
        if (slot.received.startsWith('HTTP/1.1 408')) this.stats.timeouts408++;
        void this.#open(slot);
      });
    });
  }

  #trickle(slot: Slot): void {
    const socket = slot.socket;
    if (socket === null || socket.connecting || socket.destroyed) return;
    const byte = slot.kind === 'head' ? SLOWLORIS_TRICKLE[slot.sent % SLOWLORIS_TRICKLE.length]! : 'x';
    slot.sent++;
    this.stats.bytes++;
    socket.write(byte);
  }
}

export interface ProbeResult {
  readonly ok: number;
  readonly failed: number;
  readonly failures: readonly string[];
  /** Round-trip times in ms, in order. */
  readonly latenciesMs: readonly number[];
}

/**
 * A well-behaved client: `count` GETs of `url`, one after another on `connections` keep-alive
 * connections (from `localAddress`), each timed from write to the end of its response.
 */
export async function probe(
  url: string,
  count: number,
  connections = 4,
  localAddress?: string,
): Promise<ProbeResult> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: connections,
    ...(localAddress ? { localAddress } : {}),
  });
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let ok = 0;
  let failed = 0;
  let started = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latenciesMs.push(performance.now() - t0);
          if (res.statusCode === 200) ok++;
          else {
            failed++;
            if (failures.length < 5) failures.push(`status ${res.statusCode}`);
          }
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
      req.on('error', (e) => {
        failed++;
        if (failures.length < 5) failures.push(e.message);
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  return { ok, failed, failures, latenciesMs };
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Open file descriptors of `pid` (entries of /proc/<pid>/fd). */
export function fdCount(pid: number): number {
  return Number(execFileSync('sh', ['-c', `ls /proc/${pid}/fd | wc -l`], { encoding: 'utf8' }).trim());
}

/**
 * Makes sure this process (and the children it starts after) may open `needed` files: raises the
 * soft limit up to the hard one with prlimit when it is lower. Returns an error message naming
 * the fix when even the hard limit is too low, or prlimit is missing.
 */
export function ensureFileLimit(needed: number): string | undefined {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (m === null) return 'cannot read the open-file limit from /proc/self/limits';
  const soft = m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  const hard = m[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (soft >= needed) return undefined;
  if (hard < needed) {
    return `this test needs ${needed} open files, the hard limit is ${hard}: run it under \`ulimit -Hn ${needed}\` (as root) or with fewer connections`;
  }
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${m[2]}`]);
  } catch (e) {
    return `cannot raise the open-file limit to ${needed} with prlimit (apt-get install -y util-linux): ${String(e)}`;
  }
  return undefined;
}
