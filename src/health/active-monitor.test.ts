import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { within } from '../../test/helpers/wait.ts';
import type { LogFields, Logger, LogLevel } from '../core/logger.ts';
import { ActiveHealthMonitor, type MonitorTimers } from './active-monitor.ts';
import { type ActiveCheckOptions, activeCheckOptions } from './active-options.ts';
import type { ProbeResult, ProbeTarget, probe } from './probe.ts';

/** Timers that run only when the test says so. */
class FakeTimers implements MonitorTimers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  /** The delay of every timer ever set, in order. */
  readonly delays: number[] = [];
  #next = 1;
  #onSet: (() => void) | undefined;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    this.delays.push(ms);
    const onSet = this.#onSet;
    this.#onSet = undefined;
    onSet?.();
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Runs the oldest pending timer. */
  fire(): void {
    const first = this.pending.entries().next();
    assert.ok(!first.done, 'a timer is pending');
    const [id, { fn }] = first.value;
    this.pending.delete(id);
    fn();
  }

  /** Resolves when the next timer is set. */
  nextSet(): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        this.#onSet = resolve;
      }),
      'a timer to be set',
    );
  }
}

interface Call {
  readonly target: ProbeTarget;
  readonly signal: AbortSignal;
  resolve(r: ProbeResult): void;
  reject(e: unknown): void;
}

/** A probe whose results the test hands out. */
class FakeProbe {
  readonly calls: Call[] = [];
  readonly fn: typeof probe = (target, _opts, signal) =>
    new Promise((resolve, reject) => this.calls.push({ target, signal, resolve, reject }));

  last(): Call {
    const call = this.calls.at(-1);
    assert.ok(call, 'a probe ran');
    return call;
  }
}

class RecordingLogger implements Logger {
  readonly lines: [LogLevel, string, LogFields | undefined][] = [];
  debug(msg: string, fields?: LogFields): void {
    this.lines.push(['debug', msg, fields]);
  }
  info(msg: string, fields?: LogFields): void {
    this.lines.push(['info', msg, fields]);
  }
  warn(msg: string, fields?: LogFields): void {
    this.lines.push(['warn', msg, fields]);
  }
  error(msg: string, fields?: LogFields): void {
    this.lines.push(['error', msg, fields]);
  }
  enabled(): boolean {
    return true;
  }
  child(): Logger {
    return this;
  }
  notDebug(): [LogLevel, string, LogFields | undefined][] {
    return this.lines.filter(([level]) => level !== 'debug');
  }
}

const targets: readonly ProbeTarget[] = [
  { host: '10.0.0.1', port: 80, authority: '10.0.0.1:80' },
  { host: '10.0.0.2', port: 80, authority: '10.0.0.2:80' },
];

const OK: ProbeResult = { ok: true, reason: 'status 200' };
const BAD: ProbeResult = { ok: false, reason: 'status 500' };

function setup(over: Partial<ActiveCheckOptions> = {}, servers = 1, random = 0.5) {
  const timers = new FakeTimers();
  const fake = new FakeProbe();
  const logger = new RecordingLogger();
  const changes: [number, boolean, string][] = [];
  const opts = activeCheckOptions({ intervalMs: 1_000, unhealthyIntervalMs: 100, ...over });
  const monitor = new ActiveHealthMonitor(targets.slice(0, servers), opts, {
    logger,
    onChange: (i, healthy, reason) => changes.push([i, healthy, reason]),
    probe: fake.fn,
    timers,
    random: () => random,
  });
  /** Fires the pending timer, settles its probe with `r` and waits for the next timer. */
  const round = async (r: ProbeResult): Promise<void> => {
    timers.fire();
    const set = timers.nextSet();
    fake.last().resolve(r);
    await set;
  };
  return { timers, fake, logger, changes, monitor, round };
}

/** Lets settled promises run their callbacks; not a sleep: no time passes for the monitor. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ActiveHealthMonitor', () => {
  it('sets one first probe per server within a tenth of the interval', () => {
    const { timers, fake, monitor } = setup({ intervalMs: 10_000 }, 2, 0.999);
    monitor.start();
    assert.deepEqual(timers.delays, [999, 999]);
    assert.equal(fake.calls.length, 0);
    const early = setup({ intervalMs: 10_000 }, 2, 0);
    early.monitor.start();
    assert.deepEqual(early.timers.delays, [0, 0]);
  });

  it('ignores a second start', () => {
    const { timers, monitor } = setup({}, 2);
    monitor.start();
    monitor.start();
    assert.equal(timers.pending.size, 2);
  });

  it('probes each server with its own target', () => {
    const { timers, fake, monitor } = setup({}, 2);
    monitor.start();
    timers.fire();
    timers.fire();
    assert.deepEqual(
      fake.calls.map((c) => c.target),
      targets,
    );
  });

  it('logs each probe at debug as it is sent (what the workers e2e counts probes against)', async () => {
    const { fake, logger, monitor, round } = setup();
    monitor.start();
    await round(OK);
    await round(BAD);
    const probes = logger.lines.filter(([level, msg]) => level === 'debug' && msg === 'health probe');
    assert.equal(probes.length, fake.calls.length);
    assert.deepEqual(probes[0], ['debug', 'health probe', { server: '10.0.0.1:80' }]);
  });

  it('probes again after the interval while the server is healthy', async () => {
    const { timers, changes, monitor, round } = setup();
    monitor.start();
    await round(OK);
    await round(OK);
    assert.deepEqual(timers.delays.slice(1), [1_000, 1_000]);
    assert.deepEqual(changes, []);
  });

  it('uses the unhealthy interval while down and the interval again once back up', async () => {
    const { timers, logger, changes, monitor, round } = setup();
    monitor.start();
    await round(BAD);
    assert.deepEqual(changes, [[0, false, 'status 500']]);
    assert.equal(monitor.thresholds.isHealthy(0), false);
    await round(BAD);
    await round(OK);
    assert.deepEqual(timers.delays.slice(1), [100, 100, 1_000]);
    assert.deepEqual(changes, [
      [0, false, 'status 500'],
      [0, true, 'status 200'],
    ]);
    assert.deepEqual(logger.notDebug(), [
      ['warn', 'server down', { server: '10.0.0.1:80', reason: 'status 500' }],
      ['info', 'server up', { server: '10.0.0.1:80', reason: 'status 200' }],
    ]);
  });

  it('never starts a probe of a server while its previous one runs', async () => {
    const { timers, fake, monitor } = setup();
    monitor.start();
    timers.fire();
    assert.equal(timers.pending.size, 0, 'no timer while the probe runs');
    await flush();
    assert.equal(timers.pending.size, 0);
    assert.equal(fake.calls.length, 1);
    const set = timers.nextSet();
    fake.last().resolve(OK);
    await set;
    assert.equal(timers.pending.size, 1);
    assert.equal(fake.calls.length, 1);
  });

  it('takes a server down only after `fails` failures and back after `passes` successes', async () => {
    const { timers, changes, monitor, round } = setup({ fails: 2, passes: 2 });
    monitor.start();
    await round(BAD);
    assert.deepEqual(changes, []);
    assert.equal(timers.delays.at(-1), 1_000, 'still healthy after one failure');
    await round(BAD);
    assert.deepEqual(changes, [[0, false, 'status 500']]);
    await round(OK);
    assert.equal(monitor.thresholds.isHealthy(0), false);
    assert.equal(timers.delays.at(-1), 100, 'still down after one success');
    await round(OK);
    assert.deepEqual(changes, [
      [0, false, 'status 500'],
      [0, true, 'status 200'],
    ]);
    assert.equal(timers.delays.at(-1), 1_000);
  });

  it('counts a probe that rejects as a failure', async () => {
    const { timers, fake, changes, monitor } = setup();
    monitor.start();
    timers.fire();
    const set = timers.nextSet();
    fake.last().reject(new Error('boom'));
    await set;
    assert.deepEqual(changes, [[0, false, 'probe error: boom']]);
  });

  it('stop aborts in-flight probes, cancels timers and reports nothing afterwards', async () => {
    const { timers, fake, logger, changes, monitor } = setup({}, 2);
    monitor.start();
    timers.fire(); // server 0 probing, server 1 waiting
    const inFlight = fake.last();
    const before = logger.lines.length; // the probe's own debug line
    monitor.stop();
    assert.equal(inFlight.signal.aborted, true);
    assert.equal(timers.pending.size, 0);
    inFlight.resolve({ ok: false, reason: 'aborted' });
    await flush();
    assert.deepEqual(changes, []);
    assert.deepEqual(logger.lines.slice(before), []);
    assert.equal(timers.pending.size, 0);
    assert.equal(monitor.thresholds.allHealthy, true);
  });

  it('after stop and start, ignores a probe left over from the first run', async () => {
    const { timers, fake, changes, monitor } = setup();
    monitor.start();
    timers.fire();
    const old = fake.last();
    monitor.stop();
    monitor.start();
    assert.equal(timers.pending.size, 1);
    old.resolve(BAD);
    await flush();
    assert.deepEqual(changes, []);
    assert.equal(timers.pending.size, 1, 'the old probe set no timer');
  });

  it('keeps probing when the change listener throws', async () => {
    const timers = new FakeTimers();
    const fake = new FakeProbe();
    const logger = new RecordingLogger();
    const monitor = new ActiveHealthMonitor(
      targets.slice(0, 1),
      activeCheckOptions({ unhealthyIntervalMs: 7 }),
      {
        logger,
        onChange: () => {
          throw new Error('listener broke');
        },
        probe: fake.fn,
        timers,
      },
    );
    monitor.start();
    timers.fire();
    const set = timers.nextSet();
    fake.last().resolve(BAD);
    await set;
    assert.equal(timers.delays.at(-1), 7);
    assert.ok(
      logger.lines.some(([level, msg]) => level === 'error' && msg === 'health change listener failed'),
    );
  });

  it('sets no timer when the change listener stops the monitor', async () => {
    const timers = new FakeTimers();
    const fake = new FakeProbe();
    const changes: boolean[] = [];
    const monitor: ActiveHealthMonitor = new ActiveHealthMonitor(targets.slice(0, 1), activeCheckOptions(), {
      logger: new RecordingLogger(),
      onChange: (_i, healthy) => {
        changes.push(healthy);
        monitor.stop();
      },
      probe: fake.fn,
      timers,
    });
    monitor.start();
    timers.fire();
    fake.last().resolve(BAD);
    await flush();
    assert.deepEqual(changes, [false]);
    assert.equal(timers.pending.size, 0);
  });

  it('with the real probe, sees a real server go down and come back', async (t) => {
    const server = createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const timers = new FakeTimers();
    const changes: [number, boolean, string][] = [];
    let changed: (() => void) | undefined;
    const nextChange = (): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          changed = resolve;
        }),
        'a health change',
      );
    const monitor = new ActiveHealthMonitor(
      [{ host: '127.0.0.1', port, authority: `127.0.0.1:${port}` }],
      activeCheckOptions({ path: '/health', timeoutMs: 5_000 }),
      {
        logger: new RecordingLogger(),
        onChange: (i, healthy, reason) => {
          changes.push([i, healthy, reason]);
          changed?.();
        },
        timers,
      },
    );
    t.after(() => monitor.stop());
    monitor.start();

    let set = timers.nextSet();
    timers.fire();
    await set;
    assert.deepEqual(changes, []);
    assert.equal(monitor.thresholds.isHealthy(0), true);

    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    let change = nextChange();
    timers.fire();
    await change;
    assert.deepEqual(changes, [[0, false, 'connect ECONNREFUSED']]);

    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    set = timers.nextSet();
    change = nextChange();
    timers.fire();
    await change;
    await set;
    assert.deepEqual(changes, [
      [0, false, 'connect ECONNREFUSED'],
      [0, true, 'status 200'],
    ]);
    assert.equal(monitor.thresholds.allHealthy, true);
  });
});
