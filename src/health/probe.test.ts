import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createSecureContext } from 'node:tls';
import { freePort as closedPort } from '../../test/helpers/free-port.ts';
import { startUnacceptingUpstream } from '../../test/helpers/stuck-upstream.ts';
import { Counter } from '../../test/helpers/wait.ts';
import { type Issued, TestPki } from '../upstream/test-pki.ts';
import { type ActiveCheckOptions, activeCheckOptions } from './active-options.ts';
import { type ProbeTarget, type ProbeTls, probe } from './probe.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
}

interface Origin {
  readonly port: number;
  readonly target: ProbeTarget;
  readonly seen: Seen[];
  readonly accepted: Counter;
  readonly closed: Counter;
  /** Resolves once every connection accepted so far has closed: nothing was leaked. */
  idle(): Promise<void>;
}

async function listen(t: TestContext, server: Server, host = '127.0.0.1'): Promise<Origin> {
  const sockets = new Set<Socket>();
  const accepted = new Counter();
  const closed = new Counter();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    accepted.inc();
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      closed.inc();
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as { port: number }).port;
  return {
    port,
    target: { host, port, authority: `${host}:${port}` },
    seen: [],
    accepted,
    closed,
    idle: () => closed.reach(accepted.value, 'the probe’s connections to close'),
  };
}

/** A node:http origin on 127.0.0.1 (or another loopback address) that records every request. */
async function httpOrigin(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<Origin> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    handler(req, res);
  });
  const origin = await listen(t, server, host);
  return { ...origin, seen };
}

/** Accepts connections and never writes a byte; counts the bytes it receives. */
async function silentOrigin(t: TestContext): Promise<Origin & { readonly received: () => number }> {
  let received = 0;
  const server = createNetServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
    });
  });
  return { ...(await listen(t, server)), received: () => received };
}

function status(code: number, headers: Record<string, string> = {}) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(code, headers);
    res.end('body');
  };
}

function opts(over: Partial<ActiveCheckOptions> = {}): ActiveCheckOptions {
  return activeCheckOptions({ path: '/health', ...over });
}

const never = new AbortController().signal;

describe('probe, HTTP mode', () => {
  it('passes on a 200 and reports the status', async (t) => {
    const o = await httpOrigin(t, status(200));
    assert.deepEqual(await probe(o.target, opts(), never), { ok: true, reason: 'status 200' });
    assert.equal(o.seen.length, 1);
    await o.idle();
  });

  it('fails on a 500 with the status as the reason', async (t) => {
    const o = await httpOrigin(t, status(500));
    assert.deepEqual(await probe(o.target, opts(), never), { ok: false, reason: 'status 500' });
    await o.idle();
  });

  it('accepts any 2xx or 3xx by default and fails a 4xx', async (t) => {
    const codes = [204, 304, 404];
    let i = 0;
    const o = await httpOrigin(t, (_req, res) => {
      res.writeHead(codes[i++]!);
      res.end();
    });
    assert.deepEqual(await probe(o.target, opts(), never), { ok: true, reason: 'status 204' });
    assert.deepEqual(await probe(o.target, opts(), never), { ok: true, reason: 'status 304' });
    assert.deepEqual(await probe(o.target, opts(), never), { ok: false, reason: 'status 404' });
  });

  it('judges the status against the configured ranges only', async (t) => {
    const codes = [503, 200];
    let i = 0;
    const o = await httpOrigin(t, (_req, res) => {
      res.writeHead(codes[i++]!);
      res.end();
    });
    const o5xx = opts({ status: [{ from: 500, to: 503 }] });
    assert.deepEqual(await probe(o.target, o5xx, never), { ok: true, reason: 'status 503' });
    assert.deepEqual(await probe(o.target, o5xx, never), { ok: false, reason: 'status 200' });
  });

  it('sends the method, path and headers, the server’s authority as Host and Connection: close', async (t) => {
    const o = await httpOrigin(t, status(200));
    const given = opts({
      method: 'HEAD',
      path: '/healthz?deep=1',
      headers: [
        ['X-Probe', 'first'],
        ['x-probe', 'second'],
        ['X-Other', 'o'],
        ['Host', 'ignored.example'],
        ['Connection', 'keep-alive'],
      ],
    });
    assert.deepEqual(await probe(o.target, given, never), { ok: true, reason: 'status 200' });
    const [req] = o.seen;
    assert.ok(req);
    assert.equal(req.method, 'HEAD');
    assert.equal(req.url, '/healthz?deep=1');
    assert.equal(req.headers.host, o.target.authority);
    assert.equal(req.headers.connection, 'close');
    // A later header of the same name replaces the earlier one, as Go's Header.Set does.
    assert.equal(req.headers['x-probe'], 'second');
    assert.equal(req.rawHeaders.filter((h) => h.toLowerCase() === 'x-probe').length, 1);
    assert.equal(req.headers['x-other'], 'o');
    assert.equal(req.rawHeaders.filter((h) => h.toLowerCase() === 'host').length, 1);
    await o.idle();
  });

  it('sends Go’s User-Agent and Accept-Encoding as Traefik’s probes carry them, unless the check sets them', async (t) => {
    const o = await httpOrigin(t, status(200));
    await probe(o.target, opts(), never);
    await probe(o.target, opts({ method: 'HEAD' }), never);
    await probe(
      o.target,
      opts({
        headers: [
          ['user-agent', 'checker/2'],
          ['Accept-Encoding', 'identity'],
        ],
      }),
      never,
    );
    await probe(o.target, opts({ headers: [['Range', 'bytes=0-0']] }), never);
    assert.deepEqual(
      o.seen.map((r) => [r.headers['user-agent'], r.headers['accept-encoding']]),
      [
        ['Go-http-client/1.1', 'gzip'],
        ['Go-http-client/1.1', undefined],
        ['checker/2', 'identity'],
        ['Go-http-client/1.1', undefined],
      ],
    );
    assert.equal(o.seen[2]!.rawHeaders.filter((h) => h.toLowerCase() === 'user-agent').length, 1);
  });

  it('adds the leading slash a path lacks', async (t) => {
    const o = await httpOrigin(t, status(200));
    await probe(o.target, opts({ path: 'ping' }), never);
    assert.equal(o.seen[0]?.url, '/ping');
  });

  it('resolves the path against the server URL’s path and query, as Traefik (Go’s URL.Parse)', async (t) => {
    const o = await httpOrigin(t, status(200));
    const at = (path: string) => ({ ...o.target, path });
    // Absent: the server URL itself, query included.
    await probe(at('/api/status?deep=1'), opts({ path: '' }), never);
    // Relative: beside the URL's last segment; absolute: instead of the URL's path.
    await probe(at('/api/v1/'), opts({ path: 'health' }), never);
    await probe(at('/api/v1'), opts({ path: 'health?x=1' }), never);
    await probe(at('/api/v1/'), opts({ path: '../ping' }), never);
    await probe(at('/api/v1/'), opts({ path: '/health' }), never);
    await probe(at('/api?q=1'), opts({ path: '?only=query' }), never);
    assert.deepEqual(
      o.seen.map((s) => s.url),
      ['/api/status?deep=1', '/api/v1/health', '/api/health?x=1', '/api/ping', '/health', '/api?only=query'],
    );
  });

  it('sends the configured hostname as Host', async (t) => {
    const o = await httpOrigin(t, status(200));
    await probe(o.target, opts({ hostname: 'api.internal' }), never);
    assert.equal(o.seen[0]?.headers.host, 'api.internal');
  });

  it('probes the override port, and the default Host carries that port', async (t) => {
    const o = await httpOrigin(t, status(200));
    const target = { host: '127.0.0.1', port: await closedPort(), authority: 'svc.local' };
    assert.deepEqual(await probe(target, opts({ port: o.port }), never), { ok: true, reason: 'status 200' });
    assert.equal(o.seen[0]?.headers.host, `svc.local:${o.port}`);
  });

  it('fails with the connect error when nothing listens', async () => {
    const port = await closedPort();
    const target = { host: '127.0.0.1', port, authority: `127.0.0.1:${port}` };
    assert.deepEqual(await probe(target, opts(), never), { ok: false, reason: 'connect ECONNREFUSED' });
  });

  it('is judged on the response head and closes the connection without reading the body (Traefik)', async (t) => {
    const body = Buffer.alloc(4 << 20, 'x');
    const o = await httpOrigin(t, (_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    assert.deepEqual(await probe(o.target, opts(), never), { ok: true, reason: 'status 200' });
    await o.idle();
  });

  it('passes a 200 whose body breaks off, or never ends, within the timeout: the body is never read', async (t) => {
    const o = await httpOrigin(t, (req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      if (req.url === '/broken') res.write('only ten b', () => res.destroy());
      else res.write('partial');
    });
    assert.deepEqual(await probe(o.target, opts({ path: '/broken' }), never), {
      ok: true,
      reason: 'status 200',
    });
    assert.deepEqual(await probe(o.target, opts({ path: '/endless', timeoutMs: 60_000 }), never), {
      ok: true,
      reason: 'status 200',
    });
    await o.idle();
  });

  it('an h2c server’s check is judged on its response head too', async (t) => {
    const http2 = await import('node:http2');
    const server = http2.createServer();
    const seen: (string | string[] | undefined)[][] = [];
    server.on('stream', (stream, headers) => {
      seen.push([headers['user-agent'], headers['accept-encoding']]);
      stream.respond({ ':status': 202 });
      stream.write('never ends');
    });
    const o = await listen(t, server);
    const target = { ...o.target, h2c: true };
    assert.deepEqual(await probe(target, opts({ timeoutMs: 60_000 }), never), {
      ok: true,
      reason: 'status 202',
    });
    // Go's HTTP/2 client's defaults, as on Traefik's probes of h2c servers.
    assert.deepEqual(seen, [['Go-http-client/2.0', 'gzip']]);
  });

  it('times out a server that accepts and never answers, and closes the connection', async (t) => {
    const o = await silentOrigin(t);
    assert.deepEqual(await probe(o.target, opts({ timeoutMs: 200 }), never), {
      ok: false,
      reason: 'timeout after 200ms',
    });
    assert.equal(o.accepted.value, 1);
    await o.idle();
  });

  it('stops when the signal aborts and closes the connection', async (t) => {
    const o = await silentOrigin(t);
    const ac = new AbortController();
    const result = probe(o.target, opts(), ac.signal);
    await o.accepted.reach(1);
    ac.abort();
    assert.deepEqual(await result, { ok: false, reason: 'aborted' });
    await o.idle();
  });

  it('does not start when the signal is already aborted', async () => {
    const port = await closedPort();
    const target = { host: '127.0.0.1', port, authority: `127.0.0.1:${port}` };
    assert.deepEqual(await probe(target, opts(), AbortSignal.abort()), { ok: false, reason: 'aborted' });
  });

  it('fails instead of throwing on a header node:http refuses', async (t) => {
    const o = await httpOrigin(t, status(200));
    const r = await probe(o.target, opts({ headers: [['X-Bad', 'a\r\nInjected: 1']] }), never);
    assert.equal(r.ok, false);
    assert.match(r.reason, /^invalid request: /);
    assert.equal(o.seen.length, 0);
  });
  it('fails instead of throwing on a port out of range, in both modes', async () => {
    const target = { host: '127.0.0.1', port: 70_000, authority: '127.0.0.1:70000' };
    for (const mode of ['http', 'tcp'] as const) {
      const r = await probe(target, opts({ mode }), never);
      assert.equal(r.ok, false, mode);
    }
  });
});

describe('probe, redirects', () => {
  it('follows a relative redirect on the same server and judges the final response', async (t) => {
    const o = await httpOrigin(t, (req, res) => {
      if (req.url === '/health') status(302, { location: '/ready?x=1' })(req, res);
      else status(200)(req, res);
    });
    assert.deepEqual(await probe(o.target, opts(), never), { ok: true, reason: 'status 200' });
    assert.deepEqual(
      o.seen.map((s) => s.url),
      ['/health', '/ready?x=1'],
    );
    await o.idle();
  });

  it('fails when the redirect leads to a failing status', async (t) => {
    const o = await httpOrigin(t, (req, res) => {
      if (req.url === '/health') status(307, { location: '/down' })(req, res);
      else status(500)(req, res);
    });
    assert.deepEqual(await probe(o.target, opts(), never), { ok: false, reason: 'status 500' });
  });

  it('keeps a custom Host on a relative redirect and the method on a 303', async (t) => {
    const o = await httpOrigin(t, (req, res) => {
      if (req.url === '/health') status(303, { location: 'next' })(req, res);
      else status(200)(req, res);
    });
    await probe(o.target, opts({ method: 'HEAD', hostname: 'api.internal' }), never);
    assert.deepEqual(
      o.seen.map((s) => [s.method, s.url, s.headers.host]),
      [
        ['HEAD', '/health', 'api.internal'],
        ['HEAD', '/next', 'api.internal'],
      ],
    );
  });

  it('follows an absolute redirect to another server with that server as Host', async (t) => {
    const other = await httpOrigin(t, status(200));
    const o = await httpOrigin(t, status(301, { location: `http://${other.target.authority}/elsewhere` }));
    const given = opts({ hostname: 'api.internal', headers: [['Authorization', 'secret']] });
    assert.deepEqual(await probe(o.target, given, never), { ok: true, reason: 'status 200' });
    const [req] = other.seen;
    assert.ok(req);
    assert.equal(req.url, '/elsewhere');
    assert.equal(req.headers.host, other.target.authority);
    // Same host, another port: Go still counts it as the same domain.
    assert.equal(req.headers.authorization, 'secret');
    await other.idle();
    await o.idle();
  });

  it('drops credentials on a redirect to another host but keeps the other headers', async (t) => {
    const other = await httpOrigin(t, status(200), '127.0.0.2');
    const o = await httpOrigin(t, status(302, { location: `http://${other.target.authority}/` }));
    const given = opts({
      headers: [
        ['Authorization', 'secret'],
        ['Cookie', 'c=1'],
        ['X-Trace', 't'],
      ],
    });
    assert.deepEqual(await probe(o.target, given, never), { ok: true, reason: 'status 200' });
    const [req] = other.seen;
    assert.ok(req);
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers.cookie, undefined);
    assert.equal(req.headers['x-trace'], 't');
  });

  it('gives up after 10 redirects', async (t) => {
    let n = 0;
    const o = await httpOrigin(t, (req, res) => status(302, { location: `/hop${++n}` })(req, res));
    assert.deepEqual(await probe(o.target, opts(), never), {
      ok: false,
      reason: 'stopped after 10 redirects',
    });
    assert.equal(o.seen.length, 11);
    await o.idle();
  });

  it('succeeds after exactly 10 redirects', async (t) => {
    let n = 0;
    const o = await httpOrigin(t, (req, res) =>
      n++ < 10 ? status(302, { location: `/hop${n}` })(req, res) : status(200)(req, res),
    );
    assert.deepEqual(await probe(o.target, opts(), never), { ok: true, reason: 'status 200' });
    assert.equal(o.seen.length, 11);
  });

  it('judges the redirect itself when following is disabled', async (t) => {
    const o = await httpOrigin(t, status(302, { location: '/elsewhere' }));
    assert.deepEqual(await probe(o.target, opts({ followRedirects: false }), never), {
      ok: true,
      reason: 'status 302',
    });
    const only200 = opts({ followRedirects: false, status: [{ from: 200, to: 200 }] });
    assert.deepEqual(await probe(o.target, only200, never), { ok: false, reason: 'status 302' });
    assert.deepEqual(
      o.seen.map((s) => s.url),
      ['/health', '/health'],
    );
  });

  it('fails a redirect to a scheme it cannot probe', async (t) => {
    const o = await httpOrigin(t, status(302, { location: 'ftp://127.0.0.1/' }));
    assert.deepEqual(await probe(o.target, opts(), never), {
      ok: false,
      reason: 'redirect to unsupported scheme ftp',
    });
    assert.equal(o.seen.length, 1);
  });
});

describe('probe, redirects between http and https', () => {
  let pki: TestPki;
  let leaf: Issued;
  before(() => {
    pki = new TestPki('Probe CA');
    leaf = pki.issue('localhost', ['localhost', '127.0.0.1']);
  });
  after(() => pki.remove());

  /** The transport's TLS as build-snapshot gives it: trusting the test CA, SNI the host. */
  function transportTls(host: string): ProbeTls {
    return {
      secureContext: createSecureContext({ ca: pki.ca.certPem }),
      servername: host === '127.0.0.1' ? undefined : host,
      rejectUnauthorized: true,
    };
  }

  async function httpsOrigin(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void) {
    const seen: string[] = [];
    const server = createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
      seen.push(req.url ?? '');
      handler(req, res);
    });
    server.on('tlsClientError', () => {});
    const origin = await listen(t, server);
    return { ...origin, seen };
  }

  it('follows an http server to https with the transport’s TLS (Go’s client)', async (t) => {
    const secure = await httpsOrigin(t, status(200));
    const o = await httpOrigin(t, status(301, { location: `https://localhost:${secure.port}/ready` }));
    const asked: string[] = [];
    const target: ProbeTarget = {
      ...o.target,
      redirectTls: (host) => {
        asked.push(host);
        return transportTls(host);
      },
    };
    assert.deepEqual(await probe(target, opts(), never), { ok: true, reason: 'status 200' });
    assert.deepEqual(secure.seen, ['/ready']);
    assert.deepEqual(asked, ['localhost']);
    await secure.idle();
    await o.idle();
  });

  it('follows an https server to its own absolute https URL', async (t) => {
    let n = 0;
    const secure = await httpsOrigin(t, (req, res) =>
      n++ === 0
        ? status(302, { location: `https://127.0.0.1:${secure.port}/next` })(req, res)
        : status(200)(req, res),
    );
    const target: ProbeTarget = { ...secure.target, tls: transportTls('127.0.0.1') };
    assert.deepEqual(await probe(target, opts(), never), { ok: true, reason: 'status 200' });
    assert.deepEqual(secure.seen, ['/health', '/next']);
  });

  it('speaks cleartext to an http:// location on the https server’s own host', async (t) => {
    const plain = await httpOrigin(t, status(204));
    const secure = await httpsOrigin(t, status(308, { location: `http://127.0.0.1:${plain.port}/plain` }));
    const target: ProbeTarget = { ...secure.target, tls: transportTls('127.0.0.1') };
    assert.deepEqual(await probe(target, opts(), never), { ok: true, reason: 'status 204' });
    assert.deepEqual(
      plain.seen.map((s) => s.url),
      ['/plain'],
    );
  });

  it('fails when the transport’s TLS settings do not load, saying why', async (t) => {
    const o = await httpOrigin(t, status(302, { location: 'https://localhost:1/' }));
    const target: ProbeTarget = { ...o.target, redirectTls: () => 'serversTransport t@file: bad root CA' };
    assert.deepEqual(await probe(target, opts(), never), {
      ok: false,
      reason: 'redirect to https://localhost:1: serversTransport t@file: bad root CA',
    });
  });
});

describe('probe, TCP mode', () => {
  it('passes when a connection opens, sends nothing and closes it', async (t) => {
    const o = await silentOrigin(t);
    const tcp = activeCheckOptions({ mode: 'tcp' });
    assert.deepEqual(await probe(o.target, tcp, never), { ok: true, reason: 'connected' });
    await o.idle();
    assert.equal(o.accepted.value, 1);
    assert.equal(o.received(), 0);
  });

  it('probes the override port', async (t) => {
    const o = await silentOrigin(t);
    const target = { host: '127.0.0.1', port: await closedPort(), authority: 'x' };
    assert.deepEqual(await probe(target, activeCheckOptions({ mode: 'tcp', port: o.port }), never), {
      ok: true,
      reason: 'connected',
    });
  });

  it('fails with the connect error when nothing listens', async () => {
    const port = await closedPort();
    const target = { host: '127.0.0.1', port, authority: `127.0.0.1:${port}` };
    assert.deepEqual(await probe(target, activeCheckOptions({ mode: 'tcp' }), never), {
      ok: false,
      reason: 'connect ECONNREFUSED',
    });
  });

  it('times out a handshake that never completes', async (t) => {
    const u = await startUnacceptingUpstream();
    t.after(() => u.close());
    const target = { host: '127.0.0.1', port: u.port, authority: `127.0.0.1:${u.port}` };
    assert.deepEqual(await probe(target, activeCheckOptions({ mode: 'tcp', timeoutMs: 200 }), never), {
      ok: false,
      reason: 'timeout after 200ms',
    });
  });
});

describe('probe of a server URL no request can be sent to', () => {
  it("fails at once with Go's transport error, as Traefik's check of such a server does", async () => {
    const target: ProbeTarget = {
      host: '',
      port: 0,
      authority: '',
      unusable: 'unsupported protocol scheme ""',
    };
    for (const mode of ['http', 'grpc', 'tcp'] as const) {
      assert.deepEqual(await probe(target, opts({ mode }), never), {
        ok: false,
        reason: 'unsupported protocol scheme ""',
      });
    }
  });
});
