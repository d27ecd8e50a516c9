import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import { createLogger } from '../core/logger.ts';
import type { Provider, ProviderUpdate } from './provider.ts';
import type { ProviderPhase } from './status.ts';
import { SupervisedProvider } from './supervisor.ts';

/**
 * The contract every provider keeps, run against each of them with the real engine behind it
 * (a file, an HTTP endpoint, etcd, Redis, a Consul API, dockerd, a Kubernetes API server). A
 * harness puts "routes" into its engine in the engine's own terms (a file, keys, labels, objects);
 * the suite only looks at what the provider yields.
 */
export interface ContractEngine {
  /** A new provider watching this engine (the suite may make several, one per test). */
  provider(): Provider;
  /**
   * Makes the engine hold a route for `/<name>` (a router whose rule names the path, and its
   * service) besides the others, in whatever form the provider reads.
   */
  put(name: string): Promise<void>;
  /** Takes the route for `/<name>` away. */
  remove(name: string): Promise<void>;
  /** Makes the engine unreachable (killed, stopped, answering errors), when the harness can. */
  stop?(): Promise<void>;
  /** Brings it back with its data. */
  start?(): Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** How long one expected update may take (engines that poll are slower). */
  readonly updateTimeoutMs?: number;
}

const quiet = createLogger({ level: 'error', format: 'json', write: () => {} });

/**
 * The paths a configuration routes (`/a` for a rule `Path(`/a`)` or `PathPrefix(`/a`)`), each
 * once (a provider may route a path by two routers, HTTP and HTTPS).
 */
export function routedPaths(config: DynamicConfig | undefined): string[] {
  const out: string[] = [];
  for (const r of Object.values(config?.http.routers ?? {})) {
    for (const m of r.rule.matchAll(/Path(?:Prefix)?\(\s*[`"]([^`"]+)[`"]\s*\)/g)) out.push(m[1]!);
  }
  return [...new Set(out)].sort();
}

/** Reads a provider's updates one at a time, waiting for the one a test expects. */
export class UpdateReader {
  readonly #it: AsyncIterator<ProviderUpdate>;
  readonly #timeoutMs: number;
  #pending: Promise<IteratorResult<ProviderUpdate>> | undefined;
  last: ProviderUpdate | undefined;

  constructor(it: AsyncIterable<ProviderUpdate>, timeoutMs: number) {
    this.#it = it[Symbol.asyncIterator]();
    this.#timeoutMs = timeoutMs;
  }

  /** The next update, failing the test if none comes in time. */
  async next(what = 'update'): Promise<ProviderUpdate> {
    this.#pending ??= this.#it.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      const r = await Promise.race([this.#pending, timeout]);
      this.#pending = undefined;
      if (r.done === true) throw new Error(`the watch ended while waiting for ${what}`);
      this.last = r.value;
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Updates until one routes exactly `paths`. */
  async until(paths: readonly string[]): Promise<ProviderUpdate> {
    const want = [...paths].sort();
    for (;;) {
      const u = await this.next(`an update routing ${JSON.stringify(want)}`);
      if (JSON.stringify(routedPaths(u.config)) === JSON.stringify(want)) return u;
    }
  }

  /** Whether the iteration ends (after an abort). */
  async ended(): Promise<boolean> {
    this.#pending ??= this.#it.next();
    const r = await this.#pending;
    return r.done === true;
  }
}

function watch(
  t: TestContext,
  p: Provider,
  timeoutMs: number,
): { reader: UpdateReader; ctl: AbortController } {
  const ctl = new AbortController();
  t.after(() => ctl.abort());
  return { reader: new UpdateReader(p.watch(ctl.signal), timeoutMs), ctl };
}

export function providerContract(
  label: string,
  make: () => Promise<ContractEngine>,
  opts: ContractOptions = {},
): void {
  const timeoutMs = opts.updateTimeoutMs ?? 10_000;
  describe(`provider contract: ${label}`, () => {
    let engine: ContractEngine;
    let n = 0;
    /** A route name unique to the test (engines are shared by the tests of a suite). */
    const fresh = (): string => `r${process.pid}x${n++}`;

    it('starts its engine', async (t) => {
      engine = await make();
      t.after(() => {}); // closed by the last test
    });

    it('yields the full state first, then the full state after each change', async (t) => {
      const [a, b] = [fresh(), fresh()];
      await engine.put(a);
      const { reader } = watch(t, engine.provider(), timeoutMs);
      const first = await reader.next('the first update');
      assert.ok(routedPaths(first.config).includes(`/${a}`), JSON.stringify(first));
      await engine.put(b);
      const both = await reader.until([...routedPaths(first.config), `/${b}`]);
      assert.ok(both.config !== undefined);
      await engine.remove(a);
      const without = await reader.until(routedPaths(both.config).filter((p) => p !== `/${a}`));
      assert.ok(!routedPaths(without.config).includes(`/${a}`));
      await engine.remove(b);
      await reader.until(routedPaths(without.config).filter((p) => p !== `/${b}`));
    });

    it('names its objects without a provider suffix, and every router names a service it defines or another provider', async (t) => {
      const a = fresh();
      await engine.put(a);
      const { reader } = watch(t, engine.provider(), timeoutMs);
      let u = await reader.next();
      while (!routedPaths(u.config).includes(`/${a}`)) u = await reader.next();
      const http = u.config?.http;
      assert.ok(http !== undefined);
      for (const section of ['routers', 'services', 'middlewares'] as const) {
        for (const name of Object.keys(http[section])) assert.ok(!name.includes('@'), name);
      }
      for (const [name, r] of Object.entries(http.routers)) {
        assert.ok(
          r.service !== undefined && (r.service.includes('@') || Object.hasOwn(http.services, r.service)),
          `${name} → ${r.service}`,
        );
      }
      await engine.remove(a);
    });

    it('ends its watch when aborted', async (t) => {
      const { reader, ctl } = watch(t, engine.provider(), timeoutMs);
      await reader.next('the first update');
      ctl.abort();
      assert.equal(await reader.ended(), true);
    });

    it('under supervision: fails while its engine is down, keeps silent, and recovers by itself', async (t) => {
      if (engine.stop === undefined || engine.start === undefined) {
        t.skip('the harness cannot stop this engine');
        return;
      }
      const a = fresh();
      await engine.put(a);
      const sup = new SupervisedProvider(engine.provider(), {
        logger: quiet,
        initialIntervalMs: 50,
        maxIntervalMs: 500,
      });
      const { reader } = watch(t, sup, timeoutMs);
      const first = await reader.next('the first update');
      assert.ok(routedPaths(first.config).includes(`/${a}`));
      await engine.stop();
      await phase(sup, 'down', timeoutMs);
      assert.ok(sup.status.failures >= 1);
      assert.notEqual(sup.status.lastError, null);
      await engine.start();
      const b = fresh();
      await engine.put(b);
      await reader.until([...routedPaths(first.config), `/${b}`]);
      assert.equal(sup.status.phase, 'ready');
      await engine.remove(a);
      await engine.remove(b);
    });

    it('closes its engine', async () => {
      await engine.close();
    });
  });
}

/** Resolves once the supervised provider is in `want` (at once if it already is). */
export function phase(sup: SupervisedProvider, want: ProviderPhase, timeoutMs: number): Promise<void> {
  if (sup.status.phase === want) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`${sup.name} not ${want} within ${timeoutMs} ms (${sup.status.phase})`));
    }, timeoutMs);
    sup.onPhase((s) => {
      if (settled || s.phase !== want) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    });
  });
}
