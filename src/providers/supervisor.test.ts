import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { emptyDynamicConfig } from '../config/dynamic/schema.ts';
import { createLogger } from '../core/logger.ts';
import type { Provider, ProviderUpdate } from './provider.ts';
import {
  FAILED_BEFORE_FIRST,
  FAILED_SERVING,
  SupervisedProvider,
  type SupervisorOptions,
} from './supervisor.ts';

/** A provider driven by the test: each watch is one run; `fail` ends the current run with an error. */
class ScriptedProvider implements Provider {
  readonly name = 'scripted';
  runs = 0;
  #push: ((u: ProviderUpdate) => void) | undefined;
  #fail: ((e: Error) => void) | undefined;
  #end: (() => void) | undefined;
  /** What each new run yields first (its full state), if anything. */
  initial: ProviderUpdate | undefined;
  /** Throw at once on the next runs while true (engine down). */
  down = false;
  aborted = 0;

  async *watch(signal: AbortSignal): AsyncGenerator<ProviderUpdate> {
    this.runs++;
    if (this.down) throw new Error('connection refused');
    if (this.initial !== undefined) yield this.initial;
    const queue: ProviderUpdate[] = [];
    let error: Error | undefined;
    let ended = false;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    this.#push = (u) => {
      queue.push(u);
      notify();
    };
    this.#fail = (e) => {
      error = e;
      notify();
    };
    this.#end = () => {
      ended = true;
      notify();
    };
    signal.addEventListener('abort', () => {
      this.aborted++;
      notify();
    });
    while (!signal.aborted) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (error !== undefined) throw error;
      if (ended) return;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  }

  push(u: ProviderUpdate): void {
    this.#push?.(u);
  }
  fail(message: string): void {
    this.#fail?.(new Error(message));
  }
  end(): void {
    this.#end?.();
  }
}

function update(...routers: string[]): ProviderUpdate {
  const config = emptyDynamicConfig();
  for (const r of routers) {
    (config.http.routers as Record<string, unknown>)[r] = { rule: `Path(\`/${r}\`)`, service: 's' };
  }
  return { config, issues: [] };
}

function names(u: ProviderUpdate): string[] {
  return Object.keys(u.config?.http.routers ?? {});
}

const quiet = createLogger({ level: 'error', format: 'json', write: () => {} });

/** Lets promises and generators run (timers are mocked; microtasks are not). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function start(t: TestContext, inner: ScriptedProvider, opts: Partial<SupervisorOptions> = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const sup = new SupervisedProvider(inner, {
    logger: quiet,
    random: () => 0.5, // jitter factor 1: the backoff's nominal intervals
    now: () => Date.now(),
    ...opts,
  });
  const ctl = new AbortController();
  const got: ProviderUpdate[] = [];
  const done = (async () => {
    for await (const u of sup.watch(ctl.signal)) got.push(u);
  })();
  t.after(async () => {
    ctl.abort();
    await done;
  });
  return { sup, got, ctl, done };
}

describe('SupervisedProvider', () => {
  it('passes the first update at once, then at most one per throttle window, the newest', async (t) => {
    const inner = new ScriptedProvider();
    inner.initial = update('a');
    const { got } = start(t, inner, { throttleMs: 2000 });
    await settle();
    assert.deepEqual(got.map(names), [['a']]);
    inner.push(update('b'));
    inner.push(update('c'));
    await settle();
    t.mock.timers.tick(1000);
    inner.push(update('d'));
    await settle();
    assert.equal(got.length, 1, 'held within the window');
    t.mock.timers.tick(1000);
    await settle();
    assert.deepEqual(got.map(names), [['a'], ['d']], 'only the newest of the window');
  });

  it('drops an update equal to the last one passed on', async (t) => {
    const inner = new ScriptedProvider();
    inner.initial = update('a');
    const { got, sup } = start(t, inner);
    await settle();
    inner.push(update('a'));
    await settle();
    inner.push(update('b'));
    await settle();
    assert.deepEqual(got.map(names), [['a'], ['b']]);
    assert.equal(sup.status.unchanged, 1);
    assert.equal(sup.status.updates, 2);
  });

  it('restarts a failed watch after 0.5 s, ×1.5 each time, and keeps silent meanwhile', async (t) => {
    const inner = new ScriptedProvider();
    inner.initial = update('a');
    const { got, sup } = start(t, inner);
    await settle();
    assert.equal(sup.status.phase, 'ready');
    inner.down = true;
    inner.fail('stream broken');
    await settle();
    assert.equal(sup.status.phase, 'down');
    assert.equal(sup.status.lastError, 'stream broken');
    assert.equal(sup.status.retryAt, Date.now() + 500);
    const runsAt = (ms: number): Promise<number> => {
      t.mock.timers.tick(ms);
      return settle().then(() => inner.runs);
    };
    assert.equal(await runsAt(499), 1);
    assert.equal(await runsAt(1), 2, 'first retry after 500 ms');
    assert.equal(await runsAt(749), 2);
    assert.equal(await runsAt(1), 3, 'second after 750 ms more');
    assert.equal(await runsAt(1124), 3);
    assert.equal(await runsAt(1), 4, 'third after 1125 ms more');
    assert.equal(sup.status.failures, 4);
    assert.equal(got.length, 1, 'nothing withdrawn while down');
    inner.down = false;
    t.mock.timers.tick(1688);
    await settle();
    assert.equal(sup.status.phase, 'ready');
    assert.equal(got.length, 1, 'the same full state again is not passed on');
    inner.push(update('a', 'b'));
    await settle();
    assert.deepEqual(got.map(names), [['a'], ['a', 'b']]);
  });

  // A provider that never gave a configuration (a wrong password at start) has nothing serving:
  // its failure says so instead of "its last configuration keeps serving".
  it('says nothing of it serves when it fails before its first configuration, and its last one after', async (t) => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'error', format: 'json', write: (l) => lines.push(l) });
    const inner = new ScriptedProvider();
    inner.down = true;
    const { sup } = start(t, inner, { logger });
    await settle();
    assert.equal(sup.status.phase, 'down');
    inner.down = false;
    inner.initial = update('a');
    t.mock.timers.tick(500);
    await settle();
    assert.equal(sup.status.phase, 'ready');
    inner.fail('stream broken');
    await settle();
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.deepEqual(msgs, [FAILED_BEFORE_FIRST, FAILED_SERVING]);
    assert.equal(
      FAILED_BEFORE_FIRST,
      'provider failed before giving any configuration: none of its routers serve yet',
    );
  });

  it('caps the backoff at 60 s', async (t) => {
    const inner = new ScriptedProvider();
    inner.down = true;
    const { sup } = start(t, inner);
    await settle();
    for (let i = 0; i < 30; i++) {
      t.mock.timers.tick(60_000);
      await settle();
    }
    const before = inner.runs;
    assert.ok(sup.status.retryAt - Date.now() <= 60_000);
    t.mock.timers.tick(60_000);
    await settle();
    assert.equal(inner.runs, before + 1);
  });

  it('starts the backoff over after a watch that ran 30 s before failing', async (t) => {
    const inner = new ScriptedProvider();
    inner.initial = update('a');
    const { sup } = start(t, inner);
    await settle();
    inner.fail('x');
    await settle();
    t.mock.timers.tick(500);
    await settle();
    assert.equal(inner.runs, 2);
    t.mock.timers.tick(30_000);
    inner.fail('y');
    await settle();
    assert.equal(sup.status.retryAt - Date.now(), 500, 'not 750: the run was long');
  });

  it('keeps a watch that ended by itself as done, without restarting it', async (t) => {
    const inner = new ScriptedProvider();
    inner.initial = update('a');
    const { sup, got } = start(t, inner);
    await settle();
    inner.end();
    await settle();
    t.mock.timers.tick(120_000);
    await settle();
    assert.equal(sup.status.phase, 'done');
    assert.equal(inner.runs, 1);
    assert.equal(got.length, 1);
  });

  it('stops the provider when aborted', async (t) => {
    const inner = new ScriptedProvider();
    inner.initial = update('a');
    const { sup, ctl, done } = start(t, inner, { throttleMs: 2000 });
    await settle();
    inner.push(update('b'));
    await settle();
    ctl.abort();
    await done;
    assert.equal(inner.aborted, 1);
    assert.equal(sup.status.phase, 'stopped');
  });
});
