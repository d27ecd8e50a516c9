import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { loadDynamic } from '../config/dynamic/load.ts';
import { type ConfigIssue, formatIssue } from '../config/issues.ts';
import { createLogger, type Logger, type LogLevel } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import type { Provider, ProviderUpdate } from '../providers/provider.ts';
import { compileRule } from '../router/index.ts';
import { type ApplyOutcome, ConfigWatcher } from './config-watcher.ts';
import { ResourceCache } from './resource-cache.ts';
import { EMPTY_SNAPSHOT, SnapshotRef } from './types.ts';

interface Line {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps what it was told. */
function recorder(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    write: (text) => {
      const { level, msg, time: _, ...fields } = JSON.parse(text) as Record<string, unknown>;
      lines.push({ level: level as LogLevel, msg: String(msg), fields });
    },
  });
  return { logger, lines };
}

/** A provider whose updates the test pushes. */
class PushProvider implements Provider {
  readonly name: string;
  readonly #queue: ProviderUpdate[] = [];
  #wake: (() => void) | undefined;
  constructor(name: string) {
    this.name = name;
  }
  push(u: ProviderUpdate): void {
    this.#queue.push(u);
    this.#wake?.();
  }
  async *watch(signal: AbortSignal): AsyncGenerator<ProviderUpdate> {
    const stop = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    while (!signal.aborted) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      await Promise.race([new Promise<void>((resolve) => (this.#wake = resolve)), stop]);
    }
  }
}

const checkRule = (rule: string) => {
  const r = compileRule(rule);
  return r.ok ? undefined : r.error;
};

/** A provider update read from YAML, as the file provider makes it. */
function update(yaml: string, file = 'dyn.yaml'): ProviderUpdate {
  const r = loadDynamic([{ file, text: yaml }], { provider: 'file', checkRule });
  return r.config === undefined
    ? { config: undefined, issues: r.issues }
    : {
        config: r.config,
        issues: r.issues,
        disabled: r.disabled,
        ...(r.locate === undefined ? {} : { locate: r.locate }),
      };
}

function start(t: TestContext, providers: Provider[]) {
  const { logger, lines } = recorder();
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  const ref = new SnapshotRef(EMPTY_SNAPSHOT);
  const watcher = new ConfigWatcher(providers, ref, cache, logger, {}, { firstApplyWaitMs: 60_000 });
  const outcomes: ApplyOutcome[] = [];
  const waiters: ((o: ApplyOutcome) => void)[] = [];
  watcher.onOutcome((o) => {
    outcomes.push(o);
    for (const w of waiters.splice(0)) w(o);
  });
  const ac = new AbortController();
  const running = watcher.run(ac.signal);
  t.after(async () => {
    ac.abort();
    await running;
    cache.closeAll();
    ticker.stop();
  });
  const outcome = () => new Promise<ApplyOutcome>((resolve) => waiters.push(resolve));
  return { watcher, ref, lines, outcomes, outcome };
}

const SERVICES = `  services:
    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
`;

const texts = (issues: readonly ConfigIssue[]) => issues.map(formatIssue);

describe('ConfigWatcher, object by object', () => {
  it('applies the rest of an update and keeps its faulty objects as disabled, with their errors', async (t) => {
    const file = new PushProvider('file');
    const w = start(t, [file]);
    const applied = w.outcome();
    file.push(
      update(`http:
  routers:
    good: { rule: "Path(\`/good\`)", service: svc }
    typo: { rule: "Path(\`/typo\`)", service: nowhere }
    badrule: { rule: "Path(\`/x\`", service: svc }
${SERVICES}`),
    );
    const o = await applied;
    assert.equal(o.applied, true);
    const snap = w.ref.current;
    assert.deepEqual([...snap.routers.keys()], ['good@file']);
    assert.deepEqual([...snap.disabled.keys()].sort(), ['routers/badrule@file', 'routers/typo@file']);
    assert.deepEqual(texts(snap.issues.filter((i) => i.severity === 'error')), [
      'dyn.yaml:4:45: http.routers.typo@file.service: service `nowhere` does not exist',
      'dyn.yaml:5:27: http.routers.badrule@file.rule: invalid rule: unbalanced parenthesis: "(" at offset 4 is never closed',
    ]);
    assert.deepEqual(
      w.lines.filter((l) => l.level === 'error').map((l) => [l.msg, l.fields['issue']]),
      [
        ['configuration error', 'dyn.yaml:4:45: http.routers.typo.service: service `nowhere` does not exist'],
        [
          'configuration error',
          'dyn.yaml:5:27: http.routers.badrule.rule: invalid rule: unbalanced parenthesis: "(" at offset 4 is never closed',
        ],
      ],
    );
    const applied2 = w.lines.filter((l) => l.msg === 'configuration applied');
    assert.deepEqual(
      applied2.map((l) => l.fields),
      [{ generation: 1, routers: 1, services: 1, middlewares: 0, disabled: 2 }],
    );
  });

  it('disables an object whose build fails and every object that needs it, naming the cause', async (t) => {
    const file = new PushProvider('file');
    const w = start(t, [file]);
    const applied = w.outcome();
    // replacePath with a bad percent-encoding passes the schema and fails when it is created.
    file.push(
      update(`http:
  routers:
    good: { rule: "Path(\`/good\`)", service: svc }
    direct: { rule: "Path(\`/d\`)", service: svc, middlewares: [bad] }
    chained: { rule: "Path(\`/c\`)", service: svc, middlewares: [both] }
  middlewares:
    bad: { replacePath: { path: "/a%zz" } }
    ok: { stripPrefix: { prefixes: ["/c"] } }
    both: { chain: { middlewares: [ok, bad] } }
${SERVICES}`),
    );
    assert.equal((await applied).applied, true);
    const snap = w.ref.current;
    assert.deepEqual([...snap.routers.keys()], ['good@file']);
    assert.deepEqual([...snap.middlewares.keys()], ['ok@file']);
    assert.deepEqual([...snap.disabled.keys()].sort(), [
      'middlewares/bad@file',
      'middlewares/both@file',
      'routers/chained@file',
      'routers/direct@file',
    ]);
    // The cause, then each dependant naming what it needs, where that reference is written.
    assert.deepEqual(texts(snap.issues.filter((i) => i.severity === 'error')), [
      'dyn.yaml:7:10: http.middlewares.bad@file: replacePath: invalid percent-encoding in path "/a%zz"',
      'dyn.yaml:4:63: http.routers.direct@file.middlewares[0]: middleware `bad@file` is disabled because of its own errors',
      'dyn.yaml:9:40: http.middlewares.both@file.chain.middlewares[1]: middleware `bad@file` is disabled because of its own errors',
      'dyn.yaml:5:64: http.routers.chained@file.middlewares[0]: middleware `both@file` is disabled because of its own errors',
    ]);
  });

  it('rejects an update its provider could not read at all, and keeps the last good one', async (t) => {
    const file = new PushProvider('file');
    const w = start(t, [file]);
    const first = w.outcome();
    file.push(update(`http:\n  routers:\n    r: { rule: "Path(\`/\`)", service: svc }\n${SERVICES}`));
    assert.equal((await first).applied, true);
    const rejected = w.outcome();
    file.push({
      config: undefined,
      issues: [{ severity: 'error', message: 'cannot read the file (ENOENT)', path: [], file: 'dyn.yaml' }],
    });
    const o = await rejected;
    assert.equal(o.applied, false);
    assert.equal(w.ref.current.generation, 1);
    assert.deepEqual([...w.ref.current.routers.keys()], ['r@file']);
    assert.equal(w.watcher.status.rejected, 1);
  });

  it('applies once at start, after every provider sent its first update', async (t) => {
    const file = new PushProvider('file');
    const api = new PushProvider('api');
    const w = start(t, [file, api]);
    const applied = w.outcome();
    file.push(update(`http:\n  routers:\n    r: { rule: "Path(\`/\`)", service: svc }\n${SERVICES}`));
    // Nothing is applied while a provider has not been heard from.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(w.outcomes, []);
    api.push({ config: update('http:\n').config, issues: [] });
    const o = await applied;
    assert.equal(o.generation, 1);
    assert.equal(w.lines.filter((l) => l.msg === 'configuration applied').length, 1);
  });
});

describe('ConfigWatcher, health checks', () => {
  it("keeps the health checks of the services Traefik builds only (routers' trees, error pages, a router disabled by its rule)", async (t) => {
    const file = new PushProvider('file');
    const w = start(t, [file]);
    const applied = w.outcome();
    const lb = (name: string) =>
      `    ${name}: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }], healthCheck: { path: /h, interval: 1h } } }\n`;
    file.push(
      update(`http:
  routers:
    r: { rule: "Path(\`/r\`)", service: w }
    pages: { rule: "Path(\`/p\`)", service: main, middlewares: [oops] }
    badrule: { rule: "Nope(\`x\`)", service: ruled }
    mirrored: { rule: "Path(\`/m\`)", service: m }
  middlewares:
    oops: { errors: { status: ["500"], service: page, query: / } }
  services:
    w: { weighted: { services: [{ name: child }] } }
    m: { mirroring: { service: main, mirrors: [{ name: copy, percent: 10 }] } }
${['child', 'main', 'page', 'ruled', 'copy', 'lonely'].map(lb).join('')}`),
    );
    assert.equal((await applied).applied, true);
    const closed = Object.fromEntries(
      [...w.ref.current.services].map(([n, node]) => [
        n,
        (node as { health?: { closed: boolean } | null }).health?.closed,
      ]),
    );
    assert.deepEqual(closed, {
      'w@file': undefined,
      'm@file': undefined,
      'child@file': false,
      'main@file': false,
      'page@file': false,
      'ruled@file': false,
      'copy@file': false,
      'lonely@file': true,
    });
  });
});

describe('ConfigWatcher, a parent healthCheck across providers', () => {
  it("refuses a weighted healthCheck over another provider's child without one, in Traefik's words", async (t) => {
    const file = new PushProvider('file');
    const api = new PushProvider('api');
    const w = start(t, [file, api]);
    const applied = w.outcome();
    const r = loadDynamic(
      [
        {
          file: 'dyn.yaml',
          text: `http:
  routers:
    r: { rule: "Path(\`/\`)", service: w }
  services:
    w: { weighted: { services: [{ name: c@api }], healthCheck: {} } }
`,
        },
      ],
      { provider: 'file', checkRule, knownProviders: ['api'] },
    );
    assert.deepEqual(texts(r.issues), []);
    file.push({ config: r.config, issues: r.issues, disabled: r.disabled });
    api.push(
      update(`http:\n  services:\n    c: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n`),
    );
    assert.equal((await applied).applied, true);
    const snap = w.ref.current;
    assert.deepEqual([...snap.disabled.keys()].sort(), ['routers/r@file', 'services/w@file']);
    assert.ok(
      texts(snap.issues).some((i) =>
        i.endsWith(
          'http.services.w@file.weighted.services[0].name: cannot register c@api as updater for w@file: healthCheck not enabled in config for this weighted service',
        ),
      ),
      texts(snap.issues).join('\n'),
    );
  });
});
