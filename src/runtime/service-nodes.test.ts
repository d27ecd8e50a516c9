import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPicker } from '../balancer/index.ts';
import { RendezvousHasher } from '../balancer/rendezvous.ts';
import { silentLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import { makeRequest } from '../middleware/test-request.ts';
import type { UpstreamPool } from '../upstream/pool.ts';
import { ServerHealth } from './server-health.ts';
import {
  FailoverServiceNode,
  HighestRandomWeightNode,
  LoadBalancerNode,
  MirroringServiceNode,
  PercentMirror,
  WeightedNode,
} from './service-nodes.ts';
import { fnv64Hex, StickyCookie, stickyValue } from './sticky.ts';
import { NO_TIMEOUTS, type ResolveSink, type ServiceNode, type ServiceStep } from './types.ts';

const fakePool = {} as UpstreamPool;

class Sink implements ResolveSink {
  cookies: string[] = [];
  mirrors = 0;
  failovers = 0;
  addSetCookie(line: string): void {
    this.cookies.push(line);
  }
  mirrorThrough(): void {
    this.mirrors++;
  }
  failoverThrough(): void {
    this.failovers++;
  }
  serviceStep: ServiceStep | null = null;
  serviceMiddlewares(step: ServiceStep): void {
    this.serviceStep = step;
  }
}

function lb(
  name: string,
  n: number,
  opts: { health?: ServerHealth; sticky?: boolean; hrw?: boolean; weights?: number[] } = {},
): LoadBalancerNode {
  const servers = Array.from({ length: n }, (_, i) => ({
    url: `http://10.0.0.${i + 1}:80`,
    authority: `10.0.0.${i + 1}:80`,
    pool: fakePool,
    index: i,
    tunnelIdleMs: 0,
    pathPrefix: '',
  }));
  const weights = opts.weights ?? servers.map(() => 1);
  const inFlight = new Int32Array(n);
  return new LoadBalancerNode({
    name,
    servers,
    picker: createPicker(
      'wrr',
      weights.map((weight) => ({ weight })),
      { inFlight },
    ),
    inFlight,
    responseTimes: null,
    passHostHeader: true,
    timeouts: NO_TIMEOUTS,
    health: opts.health ?? null,
    admission: null,
    sticky: opts.sticky
      ? new StickyCookie(
          { name: 'srv', secure: false, httpOnly: false, sameSite: '', maxAge: 0, expires: 0, path: '/' },
          name,
          servers.map((s) => s.url),
        )
      : null,
    hrw: opts.hrw
      ? {
          hasher: new RendezvousHasher(
            servers.map((s) => s.url),
            weights,
          ),
          on: { type: 'header', name: 'x-user' },
        }
      : null,
  });
}

/** Passive health with 1 failure ejecting, on a ticker whose clock the test moves. */
function passiveHealth(n: number, clock: { t: number; ticker?: Ticker }): ServerHealth {
  const ticker = new Ticker(100, () => clock.t);
  clock.ticker = ticker;
  return new ServerHealth(
    {
      service: 's@file',
      targets: Array.from({ length: n }, (_, i) => ({
        url: `http://10.0.0.${i + 1}:80`,
        host: `10.0.0.${i + 1}`,
        port: 80,
        authority: `10.0.0.${i + 1}:80`,
      })),
      active: undefined,
      passive: {
        failureWindow: 10_000,
        maxFailedAttempts: 1,
        failureRatio: 0,
        minRequests: 5,
        statusCodes: [{ from: 500, to: 599 }],
        maxLatency: 0,
        maxEjectionTime: 300_000,
        maxEjectionPercent: 50,
      },
      slowStartMs: 0,
      fresh: new Set(),
    },
    ticker,
    silentLogger,
  );
}

const req = (headers: [string, string][] = []) => makeRequest('http://a.test/', { headers });

describe('LoadBalancerNode', () => {
  it('skips an ejected server and takes it back after its ejection', () => {
    const clock: { t: number; ticker?: Ticker } = { t: 1000 };
    const health = passiveHealth(2, clock);
    const node = lb('s@file', 2, { health });
    health.record(0, 502, 1);
    assert.equal(health.degraded, true);
    for (let i = 0; i < 10; i++) assert.equal(node.pick(req(), 0, null, new Sink()), 1);
    clock.t += 10_001;
    clock.ticker!.tick();
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) seen.add(node.pick(req(), 0, null, new Sink()));
    assert.deepEqual([...seen].sort(), [0, 1]);
  });

  it('counts network errors and configured statuses as failures, not 404s', () => {
    const clock: { t: number; ticker?: Ticker } = { t: 1000 };
    const health = passiveHealth(2, clock);
    health.record(0, 404, 1);
    assert.equal(health.isUp(0), true);
    health.record(0, 0, 1);
    assert.equal(health.isUp(0), false);
  });

  it('keeps a client on the server its cookie names and sets no new cookie', () => {
    const node = lb('s@file', 3, { sticky: true });
    const cookie = `srv=${stickyValue('http://10.0.0.3:80')}`;
    const sink = new Sink();
    for (let i = 0; i < 20; i++) assert.equal(node.pick(req([['Cookie', cookie]]), 0, null, sink), 2);
    assert.deepEqual(sink.cookies, []);
  });

  it('keeps a client whose cookie holds an older Traefik value on its server, and rewrites the cookie', () => {
    const node = lb('s@file', 3, { sticky: true });
    for (const old of ['http://10.0.0.2:80', fnv64Hex('http://10.0.0.2:80')]) {
      const sink = new Sink();
      assert.equal(node.pick(req([['Cookie', `srv=${old}`]]), 0, null, sink), 1);
      assert.equal(sink.cookies.length, 1);
      assert.match(sink.cookies[0]!, new RegExp(`^Set-Cookie: srv=${stickyValue('http://10.0.0.2:80')};`));
    }
  });

  it('sets a cookie for a new client and for one whose server is ejected', () => {
    const clock: { t: number; ticker?: Ticker } = { t: 1000 };
    const health = passiveHealth(3, clock);
    const node = lb('s@file', 3, { sticky: true, health });
    const sink = new Sink();
    const first = node.pick(req(), 0, null, sink);
    assert.equal(sink.cookies.length, 1);
    health.record(first, 0, 1);
    const cookie = `srv=${stickyValue(`http://10.0.0.${first + 1}:80`)}`;
    const again = new Sink();
    const next = node.pick(req([['Cookie', cookie]]), 0, null, again);
    assert.notEqual(next, first);
    assert.equal(again.cookies.length, 1);
    assert.match(again.cookies[0]!, new RegExp(stickyValue(`http://10.0.0.${next + 1}:80`)));
  });

  it('never picks a server already tried or refused by a guard', () => {
    const node = lb('s@file', 3);
    for (let i = 0; i < 20; i++) {
      const idx = node.pick(req(), 0b001, (s) => s.index !== 1, new Sink());
      assert.equal(idx, 2);
    }
    assert.equal(node.pick(req(), 0b111, null, new Sink()), -1);
  });

  it('hashes the configured header with hrw: one key, one server', () => {
    const node = lb('s@file', 4, { hrw: true });
    for (const user of ['alice', 'bob', 'carol']) {
      const first = node.pick(req([['X-User', user]]), 0, null, new Sink());
      for (let i = 0; i < 10; i++)
        assert.equal(node.pick(req([['X-User', user]]), 0, null, new Sink()), first);
    }
  });
});

/** A child whose availability the test switches. */
function child(name: string, up = true): ServiceNode & { up: boolean } {
  const node = lb(name, 1);
  const c = {
    name,
    up,
    available: () => c.up,
    resolve: () => (c.up ? node : undefined),
  };
  return c;
}

describe('parent services', () => {
  it('splits a weighted service by weight among available children', () => {
    const a = child('a@file');
    const b = child('b@file');
    const w = new WeightedNode('w@file', [a, b], [3, 1], null);
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const r = w.resolve(req(), new Sink())!;
      counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
    }
    assert.equal(counts.get('a@file'), 300);
    a.up = false;
    for (let i = 0; i < 10; i++) assert.equal(w.resolve(req(), new Sink())!.name, 'b@file');
    b.up = false;
    assert.equal(w.resolve(req(), new Sink()), undefined);
    assert.equal(w.available(), false);
  });

  it('without healthCheck, gives every child its share, available or not (Traefik wrr/hrw without updaters)', () => {
    const a = child('a@file');
    const b = child('b@file', false);
    const w = new WeightedNode('w@file', [a, b], [1, 1], null, null, false);
    const names = new Set<string | undefined>();
    for (let i = 0; i < 4; i++) names.add(w.resolve(req(), new Sink())?.name ?? 'none');
    assert.deepEqual([...names].sort(), ['a@file', 'none'], 'b, down, is picked and resolves to no server');
    const h = new HighestRandomWeightNode('h@file', [child('x@file', false)], [1], false);
    assert.equal(h.resolve(req(), new Sink()), undefined, 'its only child is picked though down');
  });

  it("sets the picked child's headers on the request (Traefik's WRRService headers)", () => {
    const a = child('a@file');
    const b = child('b@file');
    const w = new WeightedNode('w@file', [a, b], [1, 1], null, [[['Knative-Serving-Revision', 'a']], null]);
    for (let i = 0; i < 4; i++) {
      const r = req([['knative-serving-revision', 'client']]);
      const picked = w.resolve(r, new Sink())!.name;
      assert.equal(
        r.headers.get('knative-serving-revision'),
        picked === 'a@file' ? 'a' : 'client',
        'replaced for a, as it came for b',
      );
    }
  });

  it("pins a weighted service's client by the child's configured name, current or older form", () => {
    const a = child('a@file');
    const b = child('b@file');
    const sticky = new StickyCookie(
      { name: 'pick', secure: false, httpOnly: false, sameSite: '', maxAge: 0, expires: 0, path: '/' },
      'w@file',
      ['a', 'b'],
    );
    const w = new WeightedNode('w@file', [a, b], [1, 1], sticky);
    for (let i = 0; i < 4; i++) {
      const sink = new Sink();
      assert.equal(w.resolve(req([['Cookie', `pick=${stickyValue('b')}`]]), sink)!.name, 'b@file');
      assert.deepEqual(sink.cookies, []);
    }
    const sink = new Sink();
    assert.equal(w.resolve(req([['Cookie', `pick=${fnv64Hex('a')}`]]), sink)!.name, 'a@file');
    assert.deepEqual(sink.cookies, [`Set-Cookie: pick=${stickyValue('a')}; Path=/\r\n`]);
  });

  it('fails over when the main service has no usable server, and back', () => {
    const main = child('main@file');
    const fb = child('fb@file');
    const f = new FailoverServiceNode('f@file', main, fb, []);
    assert.equal(f.resolve(req(), new Sink())!.name, 'main@file');
    main.up = false;
    assert.equal(f.resolve(req(), new Sink())!.name, 'fb@file');
    main.up = true;
    assert.equal(f.resolve(req(), new Sink())!.name, 'main@file');
  });

  it("answers its own 503 when main and fallback are down, with healthCheck only (Traefik's failover.go)", () => {
    const main = child('main@file', false);
    const fb = child('fb@file', false);
    const own = new FailoverServiceNode('f@file', main, fb, [], null, true, true).resolve(req(), new Sink());
    assert.equal(own?.fixedAnswer?.status, 503);
    assert.equal(own?.fixedAnswer?.body, 'Service Unavailable\n');
    // Without healthCheck the fallback is always called (here: nothing to give).
    assert.equal(new FailoverServiceNode('f@file', main, fb, []).resolve(req(), new Sink()), undefined);
    fb.up = true;
    const f = new FailoverServiceNode('f@file', main, fb, [], null, true, true);
    assert.equal(f.resolve(req(), new Sink())!.name, 'fb@file');
  });

  it('tells the request about a failover on statuses only while the main service serves', () => {
    const main = child('main@file');
    const f = new FailoverServiceNode('f@file', main, child('fb@file'), [{ from: 503, to: 503 }]);
    const sink = new Sink();
    f.resolve(req(), sink);
    assert.equal(sink.failovers, 1);
  });

  it('mirrors exactly the configured percent of requests', () => {
    const m = new PercentMirror(child('m@file'), 25);
    let taken = 0;
    for (let i = 0; i < 400; i++) if (m.take()) taken++;
    assert.equal(taken, 100);
  });

  it('goes through a mirroring service to its main service', () => {
    const node = new MirroringServiceNode(
      'mir@file',
      child('main@file'),
      [new PercentMirror(child('m@file'), 100)],
      {
        mirrorBody: true,
        maxBodySize: -1,
        comparator: null,
        compareHeaders: [],
        compareBody: false,
      },
    );
    const sink = new Sink();
    assert.equal(node.resolve(req(), sink)!.name, 'main@file');
    assert.equal(sink.mirrors, 1);
  });
});
