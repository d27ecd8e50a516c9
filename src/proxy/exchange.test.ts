import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import { describe, it } from 'node:test';
import { ProxyError } from '../core/errors.ts';
import type { ResponseHead } from '../core/request.ts';
import { type ParsedResponse, parseResponseHead } from '../http1/response-head.ts';
import type {
  BodyFilter,
  BodyOutput,
  ErrorPageSpec,
  Middleware,
  RetryPolicy,
} from '../middleware/middleware.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import type { ErrorPage } from '../runtime/types.ts';
import { responseFields } from './heads.ts';
import {
  harness,
  response,
  ScriptedSource,
  scriptedService,
  serviceNode,
  tunnelSide,
} from './test-exchange.ts';

const GET = 'GET /a?b=1 HTTP/1.1\r\nHost: app.test\r\n\r\n';

function retryPolicy(over: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    attempts: 3,
    initialIntervalMs: 0,
    status: [{ from: 503, to: 503 }],
    retriesNoServer: true,
    onNetworkError: true,
    nonIdempotent: false,
    windowMs: 0,
    maxBodyBytes: 1024,
    budget: new RetryBudget({ percent: 100, minConcurrent: 100 }),
    ...over,
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('Exchange', () => {
  it('forwards the request head and relays the response head, body and end, keeping the connection', () => {
    const h = harness();
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    assert.deepEqual(up.sent, ['GET /a?b=1 host=app.test']);
    up.respond(200, 'hello');
    up.end();
    assert.deepEqual(h.sink.events, ['head 200', 'data hello', 'end', 'done keepAlive=true']);
  });

  it('answers 404 when no router matches, and 405 with Allow for TRACE, without an upstream', () => {
    const h = harness({ noRoute: true });
    h.exchange(GET);
    assert.deepEqual(h.sink.events, ['direct 404 404 page not found', 'done keepAlive=true']);
    const t = harness();
    t.exchange('TRACE / HTTP/1.1\r\nHost: app.test\r\n\r\n');
    assert.match(t.sink.events[0]!, /^direct 405 allow=GET, HEAD/);
    assert.equal(t.sources[0]!.acquired.length, 0);
  });

  it('runs response middlewares in reverse order of the request ones', () => {
    const order: string[] = [];
    const mw = (n: string): Middleware => ({
      onRequest: () => {
        order.push(`req ${n}`);
        return undefined;
      },
      onResponse: (_req, res) => {
        order.push(`res ${n}`);
        res.headers.append('X-Mw', n);
      },
    });
    const h = harness({ middlewares: [mw('a'), mw('b')] });
    h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(204);
    assert.deepEqual(order, ['req a', 'req b', 'res b', 'res a']);
  });

  it("drops the parser's text of the response fields once a middleware saw them, however it wrote", () => {
    // A plugin may write the arrays directly, past HeaderList's methods (which clear it too).
    const mw: Middleware = {
      onResponse: (_req, res) => {
        res.headers.values[0] = 'changed';
      },
    };
    const h = harness({ middlewares: [mw] });
    h.exchange(GET);
    const head = Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n', 'latin1');
    const res = parseResponseHead(head, 0, head.length, 'GET', 65536) as ParsedResponse;
    assert.equal(res.headers.raw, 'X-A: 1\r\nContent-Length: 0\r\n');
    h.sources[0]!.streams[0]!.user.onUpstreamHead(res, null, 0, 0);
    assert.deepEqual(h.sink.events, ['head 200']);
    assert.equal(res.headers.raw, null);
    assert.equal(responseFields(res, false), 'X-A: changed\r\nContent-Length: 0\r\n');
  });

  it('takes a small whole body as text for an HTTP/1.1 client, and leaves it as bytes otherwise', () => {
    const h = harness();
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    assert.equal(up.user.onUpstreamHeadText!(response(200), 'hello'), true);
    up.end();
    assert.deepEqual(h.sink.events, ['head 200', 'text hello', 'end', 'done keepAlive=true']);

    // An HTTP/2 stream, and a body filter, want the bytes: nothing done, the connection sends them.
    const filter: Middleware = { onResponseBody: () => null };
    for (const t of [harness({ http2: true }), harness({ middlewares: [filter] })]) {
      t.exchange(GET);
      assert.equal(t.sources[0]!.streams[0]!.user.onUpstreamHeadText!(response(200), 'hello'), false);
      assert.deepEqual(t.sink.events, []);
    }
  });

  it('moves to the next server when a connection is refused, since nothing was sent', async () => {
    const h = harness({ servers: 2 });
    h.sources[0]!.plan.push('refuse');
    h.exchange(GET);
    await flush();
    assert.equal(h.sources[1]!.streams.length, 1, 'the second server got the request');
    h.sources[1]!.streams[0]!.respond(200, 'ok');
    h.sources[1]!.streams[0]!.end();
    assert.deepEqual(h.sink.events, ['head 200', 'data ok', 'end', 'done keepAlive=true']);
  });

  it('retries an idempotent request on a status the retry policy names, and relays the next answer', () => {
    const h = harness({ servers: 2, retry: retryPolicy() });
    h.exchange(GET);
    const first = h.sources[0]!.streams[0]!;
    first.respond(503);
    assert.equal(first.destroyed, true, 'the refused answer and its connection are dropped');
    const second = h.sources[1]!.streams[0]!;
    second.respond(200, 'second');
    second.end();
    assert.deepEqual(h.sink.events, ['head 200', 'data second', 'end', 'done keepAlive=true']);
  });

  it('never retries a POST whose body the policy does not allow to replay', () => {
    const h = harness({ servers: 2, retry: retryPolicy() });
    h.exchange('POST /p HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi');
    h.sources[0]!.streams[0]!.respond(503, 'busy');
    assert.equal(h.sources[1]!.streams.length, 0);
    assert.equal(h.sink.events[0], 'head 503');
  });

  it('shows a response that breaks after its head as broken, never as a clean end', () => {
    const h = harness();
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    up.respond(200, 'par');
    up.user.onUpstreamError(new ProxyError('UPSTREAM_RESET', 'reset'), 'body', false);
    assert.deepEqual(h.sink.events, ['head 200', 'data par', 'broken', 'done keepAlive=false']);
  });

  it('replays a GET once on a fresh connection after the keep-alive race', () => {
    const h = harness();
    h.exchange(GET);
    h.sources[0]!.streams[0]!.user.onUpstreamError(new ProxyError('UPSTREAM_RESET', 'closed'), 'head', true);
    assert.deepEqual(h.sources[0]!.acquired.at(-1), { method: 'GET', fresh: true });
    h.sources[0]!.streams[1]!.respond(200, 'again');
    h.sources[0]!.streams[1]!.end();
    assert.equal(h.sink.events[0], 'head 200');
  });

  it('forwards the request body with backpressure: no more bytes until the upstream drained', () => {
    const h = harness();
    const ex = h.exchange('POST /p HTTP/1.1\r\nHost: app.test\r\nContent-Length: 6\r\n\r\n');
    const up = h.sources[0]!.streams[0]!;
    assert.equal(ex.canTakeBody, true);
    up.accept = false;
    assert.equal(ex.feedBody(Buffer.from('abc'), 0, 3), 3);
    assert.equal(ex.canTakeBody, false);
    up.accept = true;
    const resumedBefore = h.sink.resumed;
    ex.onUpstreamDrain();
    assert.equal(ex.canTakeBody, true);
    assert.equal(h.sink.resumed, resumedBefore + 1, 'the client side is told to read again');
    ex.feedBody(Buffer.from('def'), 0, 3);
    assert.deepEqual(up.sent, ['POST /p host=app.test', 'body abc', 'body def', 'end']);
    assert.equal(ex.bodyDone, true);
  });

  it('pauses the upstream while the client is slow, and resumes it when the client drained', () => {
    const h = harness();
    const ex = h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    h.sink.accept = false;
    up.respond(200, 'big');
    assert.equal(up.paused, true);
    ex.onClientDrain();
    assert.equal(up.paused, false);
  });

  it('cancels the wait for a connection when the client goes away, and logs 499', () => {
    const h = harness();
    h.sources[0]!.plan.push('wait');
    const ex = h.exchange(GET);
    ex.abort();
    assert.equal(h.sources[0]!.cancelled, 1);
    assert.equal(ex.status, 499);
    assert.deepEqual(h.sink.events, ['done keepAlive=false']);
  });

  it('joins client and upstream after a 101 to a WebSocket handshake, and ends with the tunnel', async () => {
    const h = harness();
    // Each end a pair: the tunnel holds one side, the test plays the peer on the other.
    const [client, clientPeer] = duplexPair();
    const [server, serverPeer] = duplexPair();
    h.sink.tunnel = tunnelSide(client);
    const ex = h.exchange(
      'GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const up = h.sources[0]!.streams[0]!;
    assert.deepEqual(up.sent, ['GET /ws host=app.test upgrade=websocket']);
    up.user.onUpstreamUpgrade(response(101, [['Upgrade', 'websocket']]), server, Buffer.from('first'));
    assert.deepEqual(h.sink.events, ['upgrade 101']);
    assert.equal(h.ctx.longLived.size, 1, 'a live tunnel is a long-lived request');
    // The bytes the server sent with its 101 reach the client first.
    const got: Buffer[] = [];
    clientPeer.on('data', (d: Buffer) => got.push(d));
    await flush();
    assert.equal(Buffer.concat(got).toString(), 'first');
    const toServer: Buffer[] = [];
    serverPeer.on('data', (d: Buffer) => toServer.push(d));
    clientPeer.write('ping');
    await flush();
    assert.equal(Buffer.concat(toServer).toString(), 'ping');
    // A FIN each way (the client first, passed on; then the server's): a clean end.
    const serverSawFin = new Promise((r) => serverPeer.once('end', r));
    serverPeer.resume();
    clientPeer.end();
    await serverSawFin;
    serverPeer.end();
    clientPeer.resume();
    await flush();
    await flush();
    assert.equal(ex.done, true);
    assert.equal(ex.status, 101);
    assert.equal(h.ctx.longLived.size, 0);
    assert.deepEqual(h.sink.events, ['upgrade 101', 'done keepAlive=false']);
  });
});

/** A body filter the test drives: records its calls; `sync` filters upper-case at once. */
class TestFilter implements BodyFilter {
  readonly calls: string[] = [];
  out!: BodyOutput;
  accept = true;
  readonly sync: boolean;

  constructor(sync: boolean) {
    this.sync = sync;
  }

  start(out: BodyOutput): void {
    this.out = out;
    this.calls.push('start');
  }

  write(chunk: Buffer): boolean {
    this.calls.push(`write ${chunk.toString()}`);
    if (this.sync) this.out.push(Buffer.from(chunk.toString().toUpperCase()));
    return this.accept;
  }

  end(): void {
    this.calls.push('end');
    if (this.sync) this.out.end();
  }

  destroy(): void {
    this.calls.push('destroy');
  }
}

function bodyMiddleware(filter: BodyFilter | null, onHead?: (res: ResponseHead) => void): Middleware {
  return {
    onResponseBody: (_req, res) => {
      onHead?.(res);
      return filter;
    },
  };
}

describe('Exchange: the response body phase', () => {
  it('sends the body through the filters, the head with their first output, re-framed', () => {
    const f = new TestFilter(true);
    const h = harness({ middlewares: [bodyMiddleware(f, (res) => res.headers.set('X-Filtered', '1'))] });
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    up.respond(200, 'abc', [['Content-Length', '3']]);
    up.end();
    assert.deepEqual(f.calls, ['start', 'write abc', 'end']);
    assert.deepEqual(h.sink.events, ['head 200', 'data ABC', 'end', 'done keepAlive=true']);
  });

  it('holds the head until a filter outputs, so it may still change it', () => {
    const f = new TestFilter(false);
    const h = harness({ middlewares: [bodyMiddleware(f)] });
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    up.respond(200, 'abc');
    assert.deepEqual(h.sink.events, [], 'nothing before the filter speaks');
    f.out.push(Buffer.from('x'));
    up.end();
    assert.deepEqual(h.sink.events, ['head 200', 'data x']);
    f.out.end();
    assert.deepEqual(h.sink.events.slice(2), ['end', 'done keepAlive=true']);
  });

  it('sends the status a filter set before its first output (an http-wasm guest with buffer_response)', () => {
    const f = new TestFilter(false);
    let head: ResponseHead | null = null;
    const h = harness({
      middlewares: [
        bodyMiddleware(f, (res) => {
          head = res;
        }),
      ],
    });
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    up.respond(200, 'abc');
    up.end();
    head!.status = 202;
    f.out.push(Buffer.from('x'));
    f.out.end();
    assert.deepEqual(h.sink.events, ['head 202', 'data x', 'end', 'done keepAlive=true']);
  });

  it('chains filters in reverse middleware order, as onResponse', () => {
    const seen: string[] = [];
    /** Appends its tag to every chunk, synchronously. */
    class Tag implements BodyFilter {
      out: BodyOutput | null = null;
      readonly n: string;
      constructor(n: string) {
        this.n = n;
      }
      start(o: BodyOutput): void {
        this.out = o;
      }
      write(c: Buffer): boolean {
        seen.push(`${this.n}:${c.toString()}`);
        this.out!.push(Buffer.from(`${c.toString()}${this.n}`));
        return true;
      }
      end(): void {
        this.out!.end();
      }
      destroy(): void {}
    }
    const tag = (n: string): Middleware => ({ onResponseBody: () => new Tag(n) });
    const h = harness({ middlewares: [tag('a'), tag('b')] });
    h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(200, '-');
    h.sources[0]!.streams[0]!.end();
    assert.deepEqual(seen, ['b:-', 'a:-b']);
    assert.deepEqual(h.sink.events.slice(0, 3), ['head 200', 'data -ba', 'end']);
  });

  it('a middleware that wants no body changes nothing', () => {
    const h = harness({ middlewares: [bodyMiddleware(null)] });
    h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(200, 'plain');
    h.sources[0]!.streams[0]!.end();
    assert.deepEqual(h.sink.events, ['head 200', 'data plain', 'end', 'done keepAlive=true']);
  });

  it('pauses the upstream while a filter is full or the client is slow, resumes when both drained', () => {
    const f = new TestFilter(true);
    const h = harness({ middlewares: [bodyMiddleware(f)] });
    const ex = h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    f.accept = false;
    h.sink.accept = false;
    up.respond(200, 'abc');
    assert.equal(up.paused, true);
    f.out.drained();
    assert.equal(up.paused, true, 'the client is still slow');
    ex.onClientDrain();
    assert.equal(up.paused, false);
  });

  it('a failing filter breaks the response (never a clean end) and closes the connection', () => {
    const f = new TestFilter(false);
    const h = harness({ middlewares: [bodyMiddleware(f)] });
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    up.respond(200, 'abc');
    f.out.fail('coder error');
    assert.deepEqual(h.sink.events, ['head 200', 'broken', 'done keepAlive=false']);
    assert.equal(up.destroyed, true);
  });

  it('stops the filters when the client goes away mid-body', () => {
    const f = new TestFilter(false);
    const h = harness({ middlewares: [bodyMiddleware(f)] });
    const ex = h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(200, 'abc');
    ex.abort();
    assert.equal(f.calls.at(-1), 'destroy');
  });

  it('leaves bodiless responses alone: the filter is never asked', () => {
    let asked = 0;
    const h = harness({
      middlewares: [
        {
          onResponseBody: () => {
            asked++;
            return null;
          },
        },
      ],
    });
    h.exchange(GET);
    h.sources[0]!.streams[0]!.user.onUpstreamHead(response(204, [], 0), null, 0, 0);
    assert.equal(asked, 0);
  });
});

describe('Exchange: error pages (errors middleware)', () => {
  /** A route whose `errors` middleware sits after `before` middlewares, over one page server. */
  function withPages(
    spec: Partial<ErrorPageSpec> = {},
    middlewares: Middleware[] = [],
    at = 0,
  ): { h: ReturnType<typeof harness>; page: ScriptedSource } {
    const page = new ScriptedSource('page');
    const errorPage: ErrorPage = {
      at,
      spec: {
        status: [
          { from: 500, to: 599 },
          { from: 404, to: 404 },
        ],
        rewrites: [],
        service: 'pages@test',
        query: '/{status}.html?from={originalStatus}&u={url}',
        forward: null,
        nginx: null,
        ...spec,
      },
      service: serviceNode(scriptedService('pages@test', [page], 9)),
    };
    return { h: harness({ middlewares, errorPages: [errorPage] }), page };
  }

  it('replaces a caught upstream answer by the page, with the original status', () => {
    const { h, page } = withPages();
    h.exchange(GET);
    const up = h.sources[0]!.streams[0]!;
    up.respond(503, 'upstream says no');
    assert.equal(up.destroyed, true, 'the caught answer and its connection are dropped');
    const p = page.streams[0]!;
    assert.deepEqual(p.sent, ['GET /503.html?from=503&u=http%3A%2F%2Fapp.test%2Fa%3Fb%3D1 host=app.test']);
    p.respond(200, '<h1>sorry</h1>');
    p.end();
    assert.deepEqual(h.sink.events, ['head 503', 'data <h1>sorry</h1>', 'end', 'done keepAlive=true']);
  });

  it('lets statuses it does not catch through', () => {
    const { h, page } = withPages();
    h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(403, 'no');
    assert.equal(page.acquired.length, 0);
    assert.equal(h.sink.events[0], 'head 403');
  });

  it('rewrites the status (statusRewrites): {status} is the new one, {originalStatus} the old', () => {
    const { h, page } = withPages({ rewrites: [{ from: { from: 502, to: 504 }, to: 500 }] });
    h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(502);
    assert.match(page.streams[0]!.sent[0]!, /^GET \/500\.html\?from=502&/);
    page.streams[0]!.respond(200, 'page');
    assert.equal(h.sink.events[0], 'head 500');
  });

  it('catches the answers the proxy makes itself (no server: 503)', async () => {
    const { h, page } = withPages();
    h.sources[0]!.plan.push('refuse');
    h.exchange(GET);
    await flush();
    const p = page.streams[0]!;
    assert.match(p.sent[0]!, /^GET \/502\.html/);
    p.respond(200, 'bad gateway page');
    assert.equal(h.sink.events[0], 'head 502');
  });

  it('gives the original status with our own body when the page cannot be fetched', async () => {
    const { h, page } = withPages();
    page.plan.push('refuse');
    h.exchange(GET);
    h.sources[0]!.streams[0]!.respond(500);
    await flush();
    assert.equal(h.sink.events[0], 'direct 500 Bad Gateway');
  });

  it('catches answers from middlewares after it, not from those before it; only those before see the page', () => {
    const seen: string[] = [];
    const deny = (n: string): Middleware => ({
      onRequest: () => ({ status: 404, body: `${n} denies` }),
      onResponse: () => {
        seen.push(`res ${n}`);
      },
    });
    const pass = (n: string): Middleware => ({
      onRequest: () => undefined,
      onResponse: () => {
        seen.push(`res ${n}`);
      },
    });
    // [outer, (errors), inner-deny]: the inner 404 is caught; only `outer` sees the page.
    const a = withPages({}, [pass('outer'), deny('inner')], 1);
    a.h.exchange(GET);
    assert.match(a.page.streams[0]!.sent[0]!, /^GET \/404\.html/);
    a.page.streams[0]!.respond(200, 'nf');
    assert.deepEqual(seen, ['res outer']);
    assert.equal(a.h.sink.events[0], 'head 404');
    // [outer-deny, (errors)]: the 404 comes from before the page: not caught.
    const b = withPages({}, [deny('outer')], 1);
    b.h.exchange(GET);
    assert.equal(b.page.acquired.length, 0);
    assert.equal(b.h.sink.events[0], 'direct 404 outer denies');
  });

  it('asks for the page with HEAD for a HEAD request, and never retries a page', () => {
    const { h, page } = withPages();
    h.exchange('HEAD / HTTP/1.1\r\nHost: app.test\r\n\r\n');
    h.sources[0]!.streams[0]!.respond(500);
    assert.deepEqual(page.acquired, [{ method: 'HEAD', fresh: false }]);
    assert.match(page.streams[0]!.sent[0]!, /^HEAD \/500\.html/);
  });

  it('keeps reading an unfinished request body and drops it, closing the connection after', () => {
    const { h, page } = withPages();
    const ex = h.exchange('POST /p HTTP/1.1\r\nHost: app.test\r\nContent-Length: 6\r\n\r\nabc');
    const up = h.sources[0]!.streams[0]!;
    up.respond(500);
    assert.equal(ex.canTakeBody, true, 'the rest of the body is still read (and dropped)');
    const p = page.streams[0]!;
    assert.equal(ex.feedBody(Buffer.from('def'), 0, 3), 3);
    assert.deepEqual(
      p.sent,
      ['GET /500.html?from=500&u=http%3A%2F%2Fapp.test%2Fp host=app.test'],
      'no body goes to the page',
    );
    assert.deepEqual(up.sent, ['POST /p host=app.test', 'body abc']);
    p.respond(200, 'x');
    p.end();
    assert.equal(h.sink.keepAlive, false);
  });
});
