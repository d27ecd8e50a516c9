/**
 * For the dns-01 propagation tests: timers that fire only when the test says so, and
 * pebble-challtestsrv on loopback as a real DNS server whose records the test sets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { CHALLTESTSRV, challTestSrvArgs, freePort } from '../../../test/helpers/pebble.ts';
import { toolPath } from '../../../test/helpers/tools.ts';
import type { ZoneLocator } from './dns01-zone.ts';
import type { Scheduler } from './scheduler.ts';

interface Pending {
  readonly fn: () => void;
  readonly ms: number;
}

/** Timers that run only when the test fires them, found by their delay. */
export class ManualScheduler implements Scheduler {
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #waiters: { ms: number; resolve: () => void }[] = [];

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#pending.set(id, { fn, ms });
    const ready = this.#waiters.filter((w) => w.ms === ms);
    this.#waiters = this.#waiters.filter((w) => w.ms !== ms);
    for (const w of ready) w.resolve();
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Delays of the timers waiting to fire, in the order they were set. */
  get pending(): number[] {
    return [...this.#pending.values()].map((p) => p.ms);
  }

  /**
   * Resolves once a timer of `ms` is pending (at once when one is already). Rejects when `work`
   * settles first: the code under test finished (or failed) without ever setting that timer, and
   * the test fails at once instead of waiting forever.
   */
  armed(ms: number, work?: Promise<unknown>): Promise<void> {
    if (this.pending.includes(ms)) return Promise.resolve();
    const timer = new Promise<void>((resolve) => this.#waiters.push({ ms, resolve }));
    if (work === undefined) return timer;
    const early = work.then(
      () => {
        throw new Error(`finished before a timer of ${ms} ms was set`);
      },
      (e: unknown) => {
        throw new Error(`failed before a timer of ${ms} ms was set: ${String(e)}`);
      },
    );
    return Promise.race([timer, early]);
  }

  /** Runs the pending timer of `ms`; fails when there is none. */
  fire(ms: number): void {
    for (const [id, p] of this.#pending) {
      if (p.ms !== ms) continue;
      this.#pending.delete(id);
      p.fn();
      return;
    }
    throw new Error(`no pending timer of ${ms} ms (pending: ${this.pending.join(', ') || 'none'})`);
  }
}

export interface ChallTestSrv {
  /** `127.0.0.1:<port>`: its DNS server. */
  readonly dns: string;
  readonly managementUrl: string;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  /** How many TXT questions it was asked about `host`. */
  txtQuestions(host: string): Promise<number>;
  close(): Promise<void>;
}

/** Starts pebble-challtestsrv with only its DNS and management servers, on loopback. */
export async function startChallTestSrv(): Promise<ChallTestSrv> {
  const [dnsPort, mgmtPort] = await Promise.all([freePort(), freePort()]);
  const child: ChildProcess = spawn(toolPath(CHALLTESTSRV), challTestSrvArgs(dnsPort, mgmtPort), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const base = `http://127.0.0.1:${mgmtPort}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Its log line "Starting management server" precedes the listener: ask until it answers.
  for (let i = 0; ; i++) {
    try {
      await post(base, '/dns-request-history', { host: 'probe' });
      break;
    } catch (e) {
      if (i >= 200 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`challtestsrv did not start: ${(e as Error).message}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return {
    dns: `127.0.0.1:${dnsPort}`,
    managementUrl: base,
    setTxt: async (host, value) => void (await post(base, '/set-txt', { host, value })),
    clearTxt: async (host) => void (await post(base, '/clear-txt', { host })),
    txtQuestions: async (host) => {
      const history = JSON.parse(
        await post(base, '/dns-request-history', { host: host.replace(/\.$/, '') }),
      ) as { Question: { Qtype: number } }[];
      return history.filter((q) => q.Question.Qtype === 16).length;
    },
    close: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function post(base: string, path: string, body: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`${path} answered ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Runs the polling waits (lego's intervals: seconds) on the next turn, recording their delays;
 * never fires the HTTP deadlines (10 s and more), which a test would otherwise hit at once.
 */
export class ImmediateScheduler implements Scheduler {
  readonly delays: number[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    if (ms >= 10_000) return undefined;
    this.delays.push(ms);
    return setImmediate(fn);
  }
  clearTimeout(h: unknown): void {
    if (h !== undefined) clearImmediate(h as NodeJS.Immediate);
  }
}

/** Every record in `zone` (what lego would find from the SOA), no CNAME. */
export function zoneLocator(zone: string): ZoneLocator {
  return { locate: async (fqdn) => ({ fqdn, zone }), follow: async (fqdn) => fqdn };
}
