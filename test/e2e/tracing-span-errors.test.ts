/**
 * The error status Traefik's middlewares put on the request's current span when they refuse it
 * or fail (observability.SetStatusErrorf), through the real proxy to a real OTLP/HTTP receiver:
 * their own span at `traceVerbosity: detailed` (WrapMiddleware), the entry point's otherwise.
 * - forwardAuth when its call fails (pkg/middlewares/auth/forward.go, "Error calling %s. Cause:
 *   %s");
 * - ipAllowList refusing an address ("Rejecting IP %s: %v", pkg/middlewares/ipallowlist, with
 *   pkg/ip/checker.go's errors);
 * - replacePathRegex on a new path it cannot unescape ("Unable to unescape url raw path %q: %v");
 * - circuitBreaker's fallback ("blocked by circuit-breaker (%q)", pkg/middlewares/circuitbreaker);
 * - rateLimit with Redis when Redis fails ("Could not insert/update bucket").
 * And, at detailed, a middleware's span starts when it runs (WrapMiddleware around each handler,
 * a chain's members too): a refusal leaves no span for what comes after it.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const ERROR = 2;
const UNSET = 0;

/** A loopback port nothing listens on (bound, then closed): connections to it are refused. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let traces = 0;
function newTrace(): { id: string; header: string } {
  const id = (++traces).toString(16).padStart(32, 'f');
  return { id, header: `00-${id}-00f067aa0ba902b7-01` };
}

describe('tracing: the error status of a middleware that refuses or fails', () => {
  let app: Backend;
  let boom: Backend;
  let cut: Backend;
  let away: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;
  let dead: number;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    cut = await startBackend((_req, res) => {
      // A head, then the connection closes before the body's 100 bytes.
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('abc', () => res.socket?.destroy());
    });
    away = await startBackend((_req, res) => {
      res.writeHead(302, { Location: 'http://[::1' });
      res.end();
    });
    boom = await startBackend((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    receiver = await startOtlpReceiver();
    dead = await deadPort();
    const detailed = 'observability: { traceVerbosity: detailed }';
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    forwardedHeaders: { insecure: true }
log: { level: INFO }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    ask: { rule: "PathPrefix(\`/ask\`)", service: app, middlewares: [ask], ${detailed} }
    cut: { rule: "PathPrefix(\`/cut\`)", service: app, middlewares: [askCut], ${detailed} }
    away: { rule: "PathPrefix(\`/away\`)", service: app, middlewares: [askAway], ${detailed} }
    big: { rule: "PathPrefix(\`/big\`)", service: app, middlewares: [askBody], ${detailed} }
    deny: { rule: "PathPrefix(\`/deny\`)", service: app, middlewares: [deny, hdr], ${detailed} }
    deny-min: { rule: "PathPrefix(\`/min/deny\`)", service: app, middlewares: [deny] }
    old-deny: { rule: "PathPrefix(\`/old/deny\`)", service: app, middlewares: [oldDeny], ${detailed} }
    deep: { rule: "PathPrefix(\`/deep\`)", service: app, middlewares: [deep] }
    shallow: { rule: "PathPrefix(\`/shallow\`)", service: app, middlewares: [shallow] }
    bad: { rule: "PathPrefix(\`/bad\`)", service: app, middlewares: [bad], ${detailed} }
    broken: { rule: "PathPrefix(\`/broken\`)", service: boom, middlewares: [cb], ${detailed} }
    limited: { rule: "PathPrefix(\`/limited\`)", service: app, middlewares: [limit], ${detailed} }
    buffered: { rule: "PathPrefix(\`/buffered\`)", service: app, middlewares: [buf, hdr], ${detailed} }
    slow: { rule: "PathPrefix(\`/slow\`)", service: app, middlewares: [slow], ${detailed} }
    bufdeny: { rule: "PathPrefix(\`/bufdeny\`)", service: app, middlewares: [buf, deny], ${detailed} }
    bufchain: { rule: "PathPrefix(\`/bufchain\`)", service: app, middlewares: [bufHdr], ${detailed} }
    chained: { rule: "PathPrefix(\`/chained\`)", service: app, middlewares: [hdr, both], ${detailed} }
  middlewares:
    ask: { forwardAuth: { address: "http://127.0.0.1:${dead}/verify" } }
    askCut: { forwardAuth: { address: "${cut.url}/verify" } }
    askAway: { forwardAuth: { address: "${away.url}/verify" } }
    askBody: { forwardAuth: { address: "${app.url}/verify", forwardBody: true, maxBodySize: 4 } }
    deny: { ipAllowList: { sourceRange: ["192.0.2.0/24"] } }
    oldDeny: { ipWhiteList: { sourceRange: ["192.0.2.0/24"] } }
    deep: { ipAllowList: { sourceRange: ["192.0.2.0/24"], ipStrategy: { depth: 2 } } }
    shallow: { ipAllowList: { sourceRange: ["192.0.2.0/24"], ipStrategy: { depth: 1 } } }
    buf: { buffering: { maxRequestBodyBytes: 4 } }
    hdr: { headers: { customRequestHeaders: { X-Seen: "1" } } }
    strip: { stripPrefix: { prefixes: ["/chained"] } }
    slow: { rateLimit: { average: 1, period: 1s, burst: 1, sourceCriterion: { requestHeaderName: X-Key } } }
    bufHdr: { chain: { middlewares: [buf, hdr] } }
    both: { chain: { middlewares: [deny, strip] } }
    bad: { replacePathRegex: { regex: "^/bad/(.*)", replacement: "/%zz/$1" } }
    cb: { circuitBreaker: { expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5", checkPeriod: 10ms, fallbackDuration: 1h } }
    limit: { rateLimit: { average: 10, redis: { endpoints: ["127.0.0.1:${dead}"], dialTimeout: 1s } } }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
    boom: { loadBalancer: { servers: [{ url: "${boom.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), boom?.close(), cut?.close(), away?.close(), receiver?.close()]);
  });

  /** Sends a traced GET; returns its status and its trace's spans once the entry span is in. */
  const traced = async (
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; spans: ReceivedSpan[] }> => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}${path}`, {
      headers: { traceparent: t.header, ...headers },
    });
    await res.arrayBuffer();
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    return { status: res.status, spans: receiver.spans.filter((s) => s.traceId === t.id) };
  };
  const one = (spans: readonly ReceivedSpan[], name: string): ReceivedSpan => {
    const found = spans.filter((s) => s.name === name);
    assert.equal(found.length, 1, `${name} in ${spans.map((s) => s.name).join(',')}`);
    return found[0]!;
  };

  it("forwardAuth's failed call: its span is an error, 'Error calling <address>. Cause: …'", async () => {
    const { status, spans } = await traced('/ask');
    assert.equal(status, 500);
    const fa = one(spans, 'ForwardAuth');
    assert.equal(fa.status.code, ERROR);
    // Go's client error, as Traefik's span carries it.
    assert.equal(
      fa.status.message,
      `Error calling http://127.0.0.1:${dead}/verify. Cause: Get "http://127.0.0.1:${dead}/verify": dial tcp 127.0.0.1:${dead}: connect: connection refused`,
    );
    // The auth call's own span has none (Traefik marks the request's context, not the call's).
    assert.equal(one(spans, 'AuthRequest').status.code, UNSET);
    assert.equal(one(spans, 'Router').status.code, UNSET);
  });

  it("forwardAuth's answer cut short: 'Error reading body <address>. Cause: …'", async () => {
    const { status, spans } = await traced('/cut');
    assert.equal(status, 500);
    const fa = one(spans, 'ForwardAuth');
    assert.equal(fa.status.code, ERROR);
    assert.equal(fa.status.message, `Error reading body ${cut.url}/verify. Cause: unexpected EOF`);
  });

  it("forwardAuth's refusal with a Location it cannot read: 'Error reading response location header …'", async () => {
    const { status, spans } = await traced('/away');
    assert.equal(status, 500);
    const fa = one(spans, 'ForwardAuth');
    assert.equal(fa.status.code, ERROR);
    assert.ok(
      fa.status.message.startsWith(`Error reading response location header ${away.url}/verify. Cause: `),
      fa.status.message,
    );
  });

  it("forwardAuth's forwardBody over maxBodySize: 'Request body is too large, maxBodySize: 4'", async () => {
    // Announced by its Content-Length, then streamed (chunked) past the limit.
    for (const body of ['0123456789', undefined]) {
      const t = newTrace();
      const res = await new Promise<number>((resolve, reject) => {
        const req = request(
          `http://127.0.0.1:${proxy.ports['web']}/big`,
          { method: 'POST', headers: { traceparent: t.header } },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        if (body !== undefined) req.end(body);
        else {
          req.write('01234');
          req.write('56789');
          req.end();
        }
      });
      assert.equal(res, 401);
      await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
      const spans = receiver.spans.filter((s) => s.traceId === t.id);
      assert.deepEqual(one(spans, 'ForwardAuth').status, {
        code: ERROR,
        message: 'Request body is too large, maxBodySize: 4',
      });
    }
  });

  it('ipAllowList refusing the peer: its span is an error, and nothing after it has a span', async () => {
    const { status, spans } = await traced('/deny');
    assert.equal(status, 403);
    const span = one(spans, 'IPAllowLister');
    assert.deepEqual(span.status, {
      code: ERROR,
      message: 'Rejecting IP 127.0.0.1: "127.0.0.1" matched none of the trusted IPs',
    });
    // The entry point's 403 does not clear it there, and the Headers after it never ran.
    assert.deepEqual(spans.map((s) => s.name).sort(), ['EntryPoint', 'IPAllowLister', 'Router']);
  });

  it('ipWhiteList (the deprecated type) has its own span name, IPWhiteLister, as in Traefik v3', async () => {
    // pkg/middlewares/ipwhitelist: typeName "IPWhiteLister", the same refusal and span error.
    const { status, spans } = await traced('/old/deny');
    assert.equal(status, 403);
    assert.deepEqual(one(spans, 'IPWhiteLister').status, {
      code: ERROR,
      message: 'Rejecting IP 127.0.0.1: "127.0.0.1" matched none of the trusted IPs',
    });
    assert.deepEqual(spans.map((s) => s.name).sort(), ['EntryPoint', 'IPWhiteLister', 'Router']);
  });

  it("ipAllowList at minimal verbosity: the entry point's span carries the error", async () => {
    const { status, spans } = await traced('/min/deny');
    assert.equal(status, 403);
    assert.deepEqual(one(spans, 'EntryPoint').status, {
      code: ERROR,
      message: 'Rejecting IP 127.0.0.1: "127.0.0.1" matched none of the trusted IPs',
    });
  });

  it("ipAllowList's other errors: an address it cannot parse, none at all (pkg/ip/checker.go)", async () => {
    const bad = await traced('/shallow', { 'X-Forwarded-For': 'not-an-ip' });
    assert.equal(bad.status, 403);
    assert.equal(
      one(bad.spans, 'EntryPoint').status.message,
      "Rejecting IP not-an-ip: unable to parse address: not-an-ip: can't parse IP from address not-an-ip",
    );
    const none = await traced('/deep', { 'X-Forwarded-For': '192.0.2.1' });
    assert.equal(none.status, 403);
    assert.equal(one(none.spans, 'EntryPoint').status.message, 'Rejecting IP : empty IP address');
  });

  it('replacePathRegex on a path it cannot unescape: its span is an error with the raw path', async () => {
    const { status, spans } = await traced('/bad/x');
    assert.equal(status, 500);
    assert.deepEqual(one(spans, 'ReplacePathRegex').status, {
      code: ERROR,
      message: 'Unable to unescape url raw path "/%zz/x": invalid URL escape "%zz"',
    });
  });

  it("circuitBreaker's fallback: its span is an error naming the expression", async () => {
    let last = { status: 0, spans: [] as ReceivedSpan[] };
    // The breaker trips once its check sees the 500s; bounded.
    for (let i = 0; i < 200 && last.status !== 503; i++) {
      last = await traced('/broken');
      if (last.status !== 503) await sleep(20);
    }
    assert.equal(last.status, 503);
    assert.deepEqual(one(last.spans, 'CircuitBreaker').status, {
      code: ERROR,
      message: 'blocked by circuit-breaker ("ResponseCodeRatio(500, 600, 0, 600) > 0.5")',
    });
  });

  it('rateLimit with Redis down: its span is an error, Could not insert/update bucket', async () => {
    const { status, spans } = await traced('/limited');
    assert.equal(status, 500);
    assert.deepEqual(one(spans, 'RateLimiter').status, {
      code: ERROR,
      message: 'Could not insert/update bucket',
    });
  });

  it('a chain whose member refuses: the spans of the members before it and its own, none after', async () => {
    const { status, spans } = await traced('/chained');
    assert.equal(status, 403);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['EntryPoint', 'Headers', 'IPAllowLister', 'Router']);
    const hdr = one(spans, 'Headers');
    const deny = one(spans, 'IPAllowLister');
    assert.equal(deny.parentSpanId, hdr.spanId);
    assert.equal(deny.status.code, ERROR);
    assert.equal(hdr.status.code, UNSET);
  });

  it('buffering refusing a body too large: its span, none for the middlewares after it', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/buffered`, {
      method: 'POST',
      body: '0123456789',
      headers: { traceparent: t.header },
    });
    await res.arrayBuffer();
    assert.equal(res.status, 413);
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === t.id);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['Buffer', 'EntryPoint', 'Router']);
  });

  it('a chain [buffering, headers] whose body is read: Router > Buffer > Headers > Service > ReverseProxy', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/bufchain`, {
      method: 'POST',
      body: '012',
      headers: { traceparent: t.header },
    });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === t.id);
    const names = ['Router', 'Buffer', 'Headers', 'Service', 'ReverseProxy'];
    for (let i = 1; i < names.length; i++)
      assert.equal(one(spans, names[i]!).parentSpanId, one(spans, names[i - 1]!).spanId, names[i]);
    assert.equal(spans.length, 6);
  });

  it('a middleware after a buffering refusing a small body: Buffer > its span, with its error', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/bufdeny`, {
      method: 'POST',
      body: '012',
      headers: { traceparent: t.header },
    });
    await res.arrayBuffer();
    assert.equal(res.status, 403);
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === t.id);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['Buffer', 'EntryPoint', 'IPAllowLister', 'Router']);
    const deny = one(spans, 'IPAllowLister');
    assert.equal(deny.parentSpanId, one(spans, 'Buffer').spanId);
    assert.equal(deny.status.code, ERROR);
  });

  it("rateLimit: a request whose client leaves while it waits for its token: 'Context canceled'", async () => {
    // The second request of a source 0.5-1 s after its first waits (up to Traefik's maxDelay,
    // 500 ms at 1/s); its connection is reset while it waits (a FIN alone may be a half-close,
    // after which the answer is still sent). Under load the wait may be missed (the request goes
    // through): another source is tried, a bounded number of times.
    let marked: ReceivedSpan | undefined;
    for (let n = 0; n < 10 && marked === undefined; n++) {
      const key = `k${n}-${Date.now()}`;
      const first = await fetch(`http://127.0.0.1:${proxy.ports['web']}/slow`, { headers: { 'X-Key': key } });
      await first.arrayBuffer();
      await sleep(650);
      const t = newTrace();
      const sock = connect(proxy.ports['web']!, '127.0.0.1');
      await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
      sock.write(`GET /slow HTTP/1.1\r\nHost: x\r\nX-Key: ${key}\r\ntraceparent: ${t.header}\r\n\r\n`);
      await sleep(100);
      sock.resetAndDestroy();
      await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
      const rl = receiver.spans.find((s) => s.traceId === t.id && s.name === 'RateLimiter');
      if (rl?.status.code === ERROR) marked = rl;
    }
    assert.ok(marked, 'a waiting request was reset');
    assert.deepEqual(marked.status, { code: ERROR, message: 'Context canceled' });
  });
});
