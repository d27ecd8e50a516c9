import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import {
  CALM_SAMPLES,
  EntryPointGate,
  LATE_SAMPLES,
  NO_OVERLOAD_LIMITS,
  OverloadManager,
  type OverloadSettings,
} from '../overload/index.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import { H1_BODY_WINDOW, H2_BODY_WINDOW } from './overload-admission.ts';
import { harness } from './test-exchange.ts';

const GET = 'GET /a HTTP/1.1\r\nHost: app.test\r\n\r\n';
const post = (length: number, body = '') =>
  `POST /up HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${length}\r\n\r\n${body}`;
const CHUNKED_POST = 'POST /up HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n';

function overload(settings: Partial<OverloadSettings> = {}) {
  const manager = new OverloadManager(
    { ...NO_OVERLOAD_LIMITS, maxEventLoopDelayMs: 100, retryAfterSeconds: 3, ...settings },
    silentLogger,
  );
  const gate = new EntryPointGate('web', manager, { maxConnections: 0, maxConnectionsPerIp: 0 });
  return { manager, gate };
}

/** The event loop lags, busy, long enough: the manager sheds. */
const lagSample = {
  eventLoopDelayMs: 500,
  eventLoopUtilization: 1,
  cpuShare: 1,
  heapUsedBytes: 1,
  heapLimitBytes: 100,
};
function lagging(m: OverloadManager): void {
  for (let i = 0; i < LATE_SAMPLES; i++) m.observe(lagSample);
}

describe('overload admission (ExchangeCore.start)', () => {
  it('answers 503 with Retry-After while shedding, without an upstream, and counts why', () => {
    const o = overload();
    lagging(o.manager);
    const h = harness({ overload: o.gate });
    h.exchange(GET);
    assert.deepEqual(h.sink.events, ['direct 503 retry-after=3 Service Unavailable', 'done keepAlive=true']);
    assert.equal(h.sources[0]!.acquired.length, 0);
    assert.equal(o.gate.shed.event_loop_delay, 1);
  });

  it('never sheds the proxy’s own services (ping, API, ACME …): they are forwarded and counted as exempt', () => {
    const o = overload();
    lagging(o.manager);
    const h = harness({ overload: o.gate, serviceName: 'ping@internal' });
    h.exchange(GET);
    assert.equal(h.sources[0]!.streams.length, 1);
    assert.equal(o.gate.exempted, 1);
    assert.equal(o.gate.shed.event_loop_delay, 0);
  });

  it('admits everything again once the pressure is over', () => {
    const o = overload();
    lagging(o.manager);
    for (let i = 0; i < CALM_SAMPLES; i++) o.manager.observe({ ...lagSample, eventLoopDelayMs: 1 });
    const h = harness({ overload: o.gate });
    h.exchange(GET);
    assert.equal(h.sources[0]!.streams.length, 1);
  });

  it('reserves what a body can hold in the budget, and gives it back once the body is through', () => {
    const o = overload({ maxRequestBodyBytes: 1024 * 1024 });
    const small = harness({ overload: o.gate });
    small.exchange(post(10, 'hello'));
    assert.equal(o.manager.bodyBytes, 10, 'a small body reserves its length');
    const big = harness({ overload: o.gate });
    big.exchange(post(10_000_000));
    assert.equal(o.manager.bodyBytes, 10 + H1_BODY_WINDOW, 'a large one its window');
    const h2 = harness({ overload: o.gate, http2: true });
    h2.exchange(CHUNKED_POST);
    assert.equal(o.manager.bodyBytes, 10 + H1_BODY_WINDOW + H2_BODY_WINDOW, 'HTTP/2, length unknown');
    const ex = small.sources[0]!.streams[0]!;
    assert.deepEqual(ex.sent.slice(1), ['body hello']);
    const done = harness({ overload: o.gate });
    done.exchange(post(5, 'world'));
    assert.equal(o.manager.bodyBytes, 10 + H1_BODY_WINDOW + H2_BODY_WINDOW, 'a complete body holds nothing');
  });

  it('answers 503 to a body that does not fit, while the others go on, and counts it', () => {
    const o = overload({ maxRequestBodyBytes: 2 * H1_BODY_WINDOW });
    const a = harness({ overload: o.gate });
    a.exchange(post(1_000_000));
    const b = harness({ overload: o.gate });
    b.exchange(post(1_000_000));
    const c = harness({ overload: o.gate });
    c.exchange(post(1_000_000));
    assert.equal(a.sources[0]!.streams.length, 1);
    assert.equal(b.sources[0]!.streams.length, 1);
    assert.equal(c.sink.events[0], 'direct 503 retry-after=3 Service Unavailable');
    assert.equal(c.sources[0]!.acquired.length, 0);
    assert.equal(o.gate.shed.request_body_memory, 1);
    assert.equal(o.manager.bodyBytes, 2 * H1_BODY_WINDOW, 'the refused body took nothing');
    // The first upload ends early (the server answers before the body is through): its bytes are free.
    const up = a.sources[0]!.streams[0]!;
    up.respond(413, 'too large');
    up.end();
    assert.equal(o.manager.bodyBytes, H1_BODY_WINDOW, 'released when the exchange ended');
    const d = harness({ overload: o.gate });
    d.exchange(post(1_000_000));
    assert.equal(d.sources[0]!.streams.length, 1, 'room again');
  });

  it('lets a body of the proxy’s own services in even when the budget is spent', () => {
    const o = overload({ maxRequestBodyBytes: 10 });
    const h = harness({ overload: o.gate, serviceName: 'api@internal' });
    h.exchange(post(100));
    assert.equal(h.sources[0]!.streams.length, 1);
    assert.equal(o.manager.bodyBytes, 100);
  });

  it('counts a copy kept for a retry, and gives up the copy (not the request) when the budget is spent', () => {
    const retry = {
      attempts: 2,
      initialIntervalMs: 0,
      status: [{ from: 503, to: 503 }],
      retriesNoServer: true,
      onNetworkError: true,
      nonIdempotent: true,
      windowMs: 0,
      maxBodyBytes: 1024,
      budget: new RetryBudget({ percent: 100, minConcurrent: 100 }),
    };
    const roomy = overload({ maxRequestBodyBytes: 1024 });
    const h = harness({ overload: roomy.gate, retry, servers: 2 });
    h.exchange(post(5, 'hello'));
    assert.equal(roomy.manager.bodyBytes, 5, 'the streaming reservation is back, the copy counts');
    h.sources[0]!.streams[0]!.respond(503);
    assert.deepEqual(h.sources[1]!.streams[0]!.sent.slice(1), ['body hello', 'end'], 'replayed');
    h.sources[1]!.streams[0]!.respond(200, 'ok');
    h.sources[1]!.streams[0]!.end();
    assert.equal(roomy.manager.bodyBytes, 0);

    const tight = overload({ maxRequestBodyBytes: 7 });
    const t = harness({ overload: tight.gate, retry, servers: 2 });
    t.exchange(post(5, 'hel'));
    // Reserved 5 for streaming; the copy of "hel" does not fit beside it. The upload goes on.
    assert.equal(tight.manager.recordingsDropped, 1);
    assert.deepEqual(t.sources[0]!.streams[0]!.sent.slice(1), ['body hel']);
  });
});
