/**
 * Retry, body replay, retry budget, per-try and total timeouts and circuit breakers of the real
 * proxy process, against real node:http backends that reset, hang, answer 5xx or break
 * mid-response. Every scenario has its own router, service and backends, so that counts of
 * requests per backend belong to that scenario alone and a fresh smooth-WRR picker sends its first
 * request to the service's first server (A) deterministically.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type CurlResult, curl } from '../helpers/curl.ts';
import { freePort as closedPort } from '../helpers/free-port.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, parseResponses, rawRequest } from '../helpers/raw-client.ts';
import { Counter, DEFAULT_WAIT_MS, waitForLogFrom, within } from '../helpers/wait.ts';

// ---------------------------------------------------------------------------------------------
// Backends

/**
 * What a backend does with each request:
 * - ok: 200, naming itself, with the SHA-256 and length of the request body it read;
 * - status: that status, naming itself;
 * - reset: reads the whole request, then resets the connection (RST, no response);
 * - reset-early: resets as soon as the request head arrived, before reading the body;
 * - hang: reads the request and never answers;
 * - partial: a 200 head with Content-Length 1000 and 100 body bytes, then holds the connection
 *   until the test calls `breakAll()`, which resets it;
 * - partial-chunked: the same with a chunked body;
 * - partial-close: 100 of 1000 body bytes, then destroys the socket once they are written;
 * - slow-503: 503, 400 ms after the request arrived;
 * - slow-body: a 200 head at once, its body 400 ms later.
 */
type Mode =
  | 'ok'
  | 'reset'
  | 'reset-early'
  | 'hang'
  | 'partial'
  | 'partial-chunked'
  | 'partial-close'
  | 'slow-503'
  | 'slow-body'
  | number;

const PART = 'x'.repeat(100);

interface TestServer {
  readonly name: string;
  readonly url: string;
  /** Requests whose head arrived. */
  readonly hits: Counter;
  readonly methods: string[];
  mode: Mode;
  /** Resets every connection held by a `partial` response. */
  breakAll(): void;
  close(): Promise<void>;
}

async function startServer(name: string, mode: Mode): Promise<TestServer> {
  const hits = new Counter();
  const methods: string[] = [];
  const held = new Set<net.Socket>();
  const respond = (self: TestServer, req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const m = self.mode;
    if (typeof m === 'number') {
      res.writeHead(m, { 'x-server': name, 'content-type': 'text/plain' });
      res.end(`${name} ${m}`);
      return;
    }
    switch (m) {
      case 'ok':
        res.writeHead(200, {
          'x-server': name,
          'x-body-sha256': createHash('sha256').update(body).digest('hex'),
          'x-body-length': String(body.length),
          'content-type': 'text/plain',
        });
        res.end(name);
        return;
      case 'reset':
      case 'reset-early':
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'slow-body':
        res.writeHead(200, { 'x-server': name, 'content-type': 'text/plain' });
        res.flushHeaders();
        setTimeout(() => res.end(name), 400);
        return;
      case 'slow-503':
        setTimeout(() => {
          res.writeHead(503, { 'x-server': name, 'content-type': 'text/plain' });
          res.end(`${name} 503`);
        }, 400);
        return;
      case 'partial':
      case 'partial-chunked':
        res.writeHead(
          200,
          m === 'partial' ? { 'x-server': name, 'content-length': '1000' } : { 'x-server': name },
        );
        res.write(PART);
        held.add(req.socket);
        return;
      case 'partial-close':
        res.writeHead(200, { 'x-server': name, 'content-length': '1000' });
        // Destroyed only once the bytes are in the kernel, so that they reach the proxy first.
        res.write(PART, () => req.socket.destroy());
        return;
    }
  };
  const server: Server = createServer((req, res) => {
    hits.inc();
    methods.push(req.method ?? '');
    if (self.mode === 'reset-early') {
      req.socket.resetAndDestroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => respond(self, req, res, Buffer.concat(chunks)));
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const self: TestServer = {
    name,
    url: `http://127.0.0.1:${port}`,
    hits,
    methods,
    mode,
    breakAll() {
      for (const s of held) s.resetAndDestroy();
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return self;
}

// ---------------------------------------------------------------------------------------------
// Configuration

const SMALL_LIMIT = 1024;

interface Route {
  readonly path: string;
  readonly servers: readonly string[];
  readonly middlewares?: readonly string[];
  readonly timeouts?: string;
}

function config(routes: readonly Route[]): string {
  const routers = routes
    .map((r) => {
      const mws = r.middlewares === undefined ? '' : `, middlewares: [${r.middlewares.join(', ')}]`;
      const to = r.timeouts === undefined ? '' : `, timeouts: ${r.timeouts}`;
      return `    r${r.path.slice(1)}: { rule: "PathPrefix(\`${r.path}\`)", service: s${r.path.slice(1)}${mws}${to} }`;
    })
    .join('\n');
  const services = routes
    .map(
      (r) =>
        `    s${r.path.slice(1)}:\n      loadBalancer:\n        servers: [${r.servers.map((u) => `{ url: "${u}" }`).join(', ')}]`,
    )
    .join('\n');
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  middlewares:
    retry2: { retry: { attempts: 2, initialInterval: 10ms } }
    retry3: { retry: { attempts: 3, initialInterval: 10ms } }
    retry502: { retry: { attempts: 2, status: ["502"] } }
    retry3s502: { retry: { attempts: 3, initialInterval: 10ms, status: ["502"] } }
    retrypost502: { retry: { attempts: 2, status: ["502"], retryNonIdempotentMethod: true } }
    retry503any: { retry: { attempts: 2, status: ["503"], disableRetryOnNetworkError: true } }
    retrydefaultbody: { retry: { attempts: 2, status: ["502"] } }
    retrynolimit: { retry: { attempts: 2, status: ["502"], maxRequestBodyBytes: -1 } }
    retry503: { retry: { attempts: 2, initialInterval: 10ms, status: ["503"] } }
    retry503once: { retry: { attempts: 1, initialInterval: 10ms, status: ["503"] } }
    retrybody:
      retry: { attempts: 2, initialInterval: 10ms, maxRequestBodyBytes: ${SMALL_LIMIT}, status: ["502"] }
    retrywindow: { retry: { attempts: 3, initialInterval: 10ms, timeout: 200ms, status: ["503"] } }
    retrynobudget:
      retry: { attempts: 3, initialInterval: 10ms, status: ["502"], budget: { percent: 0, minConcurrent: 0 } }
    cb:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 100ms
        fallbackDuration: 1s
        recoveryDuration: 1s
        responseCode: 503
    cbnet:
      circuitBreaker:
        expression: "NetworkErrorRatio() > 0.5"
        checkPeriod: 100ms
        fallbackDuration: 30s
    cblatency:
      circuitBreaker:
        expression: "LatencyAtQuantileMS(50.0) > 200"
        checkPeriod: 100ms
        fallbackDuration: 30s
    cbzero:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        fallbackDuration: 0s
        recoveryDuration: 0s
    cbserver:
      circuitBreaker:
        expression: "NetworkErrorRatio() > 0.5"
        checkPeriod: 100ms
        fallbackDuration: 30s
        recoveryDuration: 1s
        perServer: true
  routers:
${routers}
  services:
${services}
`;
}

// ---------------------------------------------------------------------------------------------

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function first(r: CurlResult, name: string): string | undefined {
  return r.headers[name]?.[0];
}

describe('resilience (retry, timeouts, circuit breakers) through the real proxy', () => {
  let proxy: ProxyProcess;
  let base: string;
  const s: Record<string, TestServer> = {};
  let refusedUrl = '';

  before(async () => {
    const specs: [string, Mode][] = [
      ['getA', 'reset'],
      ['getB', 'ok'],
      ['get502A', 'reset'],
      ['get502B', 'ok'],
      ['post502A', 'reset'],
      ['post502B', 'ok'],
      ['postAnyA', 'reset'],
      ['postAnyB', 'ok'],
      ['methodA', 503],
      ['methodB', 'ok'],
      ['putDefA', 'reset'],
      ['putDefB', 'ok'],
      ['putNoLimitA', 'reset'],
      ['putNoLimitB', 'ok'],
      ['postA', 'reset'],
      ['postB', 'ok'],
      ['refusedB', 'ok'],
      ['st2A', 503],
      ['st2B', 'ok'],
      ['st1A', 503],
      ['st1B', 'ok'],
      ['putSmallA', 'reset'],
      ['putSmallB', 'ok'],
      ['putLargeA', 'reset'],
      ['putLargeB', 'ok'],
      ['putChA', 'reset'],
      ['putChB', 'ok'],
      ['putChLargeA', 'reset'],
      ['putChLargeB', 'ok'],
      ['putEarlyA', 'reset-early'],
      ['putEarlyB', 'ok'],
      ['backoffA', 'reset'],
      ['backoffB', 'reset'],
      ['budgetA', 'reset'],
      ['budgetB', 'ok'],
      ['midA', 'partial'],
      ['midB', 'ok'],
      ['midChA', 'partial-chunked'],
      ['midChB', 'ok'],
      ['midCurlA', 'partial-close'],
      ['midCurlB', 'ok'],
      ['perTryA', 'hang'],
      ['perTryB', 'ok'],
      ['totalA', 'hang'],
      ['cb', 500],
      ['windowA', 'slow-503'],
      ['windowB', 'ok'],
      ['cbnet', 502],
      ['cblat', 'slow-body'],
      ['cbzero', 500],
      ['cbsA', 'reset'],
      ['cbsB', 'ok'],
    ];
    for (const [name, mode] of specs) s[name] = await startServer(name, mode);
    refusedUrl = `http://127.0.0.1:${await closedPort()}`;
    const u = (n: string): string => s[n]!.url;
    proxy = await startProxy({
      config: config([
        { path: '/get', servers: [u('getA'), u('getB')], middlewares: ['retry2'] },
        { path: '/post', servers: [u('postA'), u('postB')], middlewares: ['retry2'] },
        { path: '/getfive', servers: [u('get502A'), u('get502B')], middlewares: ['retry502'] },
        { path: '/postfive', servers: [u('post502A'), u('post502B')], middlewares: ['retry502'] },
        { path: '/postany', servers: [u('postAnyA'), u('postAnyB')], middlewares: ['retrypost502'] },
        { path: '/method', servers: [u('methodA'), u('methodB')], middlewares: ['retry503any'] },
        { path: '/putdef', servers: [u('putDefA'), u('putDefB')], middlewares: ['retrydefaultbody'] },
        { path: '/putnolimit', servers: [u('putNoLimitA'), u('putNoLimitB')], middlewares: ['retrynolimit'] },
        { path: '/refused', servers: [refusedUrl, u('refusedB')], middlewares: ['retry2'] },
        { path: '/st2', servers: [u('st2A'), u('st2B')], middlewares: ['retry503'] },
        { path: '/st1', servers: [u('st1A'), u('st1B')], middlewares: ['retry503once'] },
        { path: '/putsmall', servers: [u('putSmallA'), u('putSmallB')], middlewares: ['retrybody'] },
        { path: '/putlarge', servers: [u('putLargeA'), u('putLargeB')], middlewares: ['retrybody'] },
        { path: '/putch', servers: [u('putChA'), u('putChB')], middlewares: ['retrybody'] },
        { path: '/putchlarge', servers: [u('putChLargeA'), u('putChLargeB')], middlewares: ['retrybody'] },
        { path: '/putearly', servers: [u('putEarlyA'), u('putEarlyB')], middlewares: ['retrybody'] },
        { path: '/backoff', servers: [u('backoffA'), u('backoffB')], middlewares: ['retry3s502'] },
        { path: '/budget', servers: [u('budgetA'), u('budgetB')], middlewares: ['retrynobudget'] },
        { path: '/midcl', servers: [u('midA'), u('midB')], middlewares: ['retry3'] },
        { path: '/midch', servers: [u('midChA'), u('midChB')], middlewares: ['retry3'] },
        { path: '/midcurl', servers: [u('midCurlA'), u('midCurlB')], middlewares: ['retry3'] },
        {
          path: '/pertry',
          servers: [u('perTryA'), u('perTryB')],
          middlewares: ['retry2'],
          timeouts: '{ perTry: 300ms }',
        },
        { path: '/total', servers: [u('totalA')], timeouts: '{ total: 300ms }' },
        { path: '/window', servers: [u('windowA'), u('windowB')], middlewares: ['retrywindow'] },
        { path: '/cbroute', servers: [u('cb')], middlewares: ['cb'] },
        { path: '/cbnet', servers: [u('cbnet')], middlewares: ['cbnet'] },
        { path: '/cblat', servers: [u('cblat')], middlewares: ['cblatency'] },
        { path: '/cbzero', servers: [u('cbzero')], middlewares: ['cbzero'] },
        { path: '/cbserver', servers: [u('cbsA'), u('cbsB')], middlewares: ['cbserver'] },
      ]),
    });
    const applied = proxy.logs.find((l) => l.msg === 'configuration applied');
    assert.ok(applied !== undefined, `configuration applied; logs: ${JSON.stringify(proxy.logs)}`);
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(Object.values(s).map((x) => x.close()));
  });

  function get(path: string, extra: readonly string[] = []): Promise<CurlResult> {
    return curl([...extra, '--max-time', '10', `${base}${path}`]);
  }

  function send(method: string, path: string, body: Buffer, chunked = false): Promise<CurlResult> {
    return curl(
      [
        ...(chunked ? ['-H', 'Transfer-Encoding: chunked'] : []),
        '-X',
        method,
        '-H',
        'Expect:',
        '-H',
        'content-type: application/octet-stream',
        '--data-binary',
        '@-',
        '--max-time',
        '10',
        `${base}${path}`,
      ],
      { stdin: body },
    );
  }

  it('does not retry a GET reset after it reached the backend when status does not list 502, as Traefik', async () => {
    // Traefik's retry middleware retries a network failure only before any request byte went
    // out (its WroteHeaders hook); after that, the proxy's 502 is an answer like any other.
    const r = await get('/get');
    assert.equal(r.status, 502);
    assert.equal(s.getA!.hits.value, 1, 'A saw the request once');
    assert.equal(s.getB!.hits.value, 0, 'no retry');
  });

  it('retries a GET reset after it reached the backend when status lists 502, on the other server', async () => {
    const r = await get('/getfive');
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'get502B');
    assert.equal(r.body.toString(), 'get502B');
    assert.equal(s.get502A!.hits.value, 1, 'A saw the request once');
    assert.equal(s.get502B!.hits.value, 1, 'B saw the request once');
  });

  it('does not retry a POST on a listed status, and does with retryNonIdempotentMethod', async () => {
    const body = randomBytes(2000);
    const r = await send('POST', '/postfive', body);
    assert.equal(r.status, 502);
    assert.equal(s.post502A!.hits.value, 1);
    assert.equal(s.post502B!.hits.value, 0, 'a POST is not retried on a status by default');
    const any = await send('POST', '/postany', body);
    assert.equal(any.status, 200);
    assert.equal(first(any, 'x-server'), 'postAnyB');
    assert.equal(first(any, 'x-body-sha256'), sha256(body), 'the replayed body is the same');
    assert.equal(s.postAnyA!.hits.value, 1);
    assert.equal(s.postAnyB!.hits.value, 1);
  });

  it('retries a listed status for a method of its own (all but POST, PATCH and LOCK), as Traefik', async () => {
    const r = await get('/method', ['-X', 'PURGE']);
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'methodB');
    assert.deepEqual(s.methodA!.methods, ['PURGE']);
    assert.deepEqual(s.methodB!.methods, ['PURGE']);
  });

  it('keeps request bodies up to 2 MiB for a status retry by default, and any size with -1', async () => {
    // Traefik's dynamic.RetryDefaultMaxRequestBodyBytes.
    const body = randomBytes(512 * 1024);
    const r = await send('PUT', '/putdef', body);
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'putDefB');
    assert.equal(first(r, 'x-body-sha256'), sha256(body));
    const big = randomBytes(3 * 1024 * 1024);
    const n = await send('PUT', '/putnolimit', big);
    assert.equal(n.status, 200);
    assert.equal(first(n, 'x-server'), 'putNoLimitB');
    assert.equal(first(n, 'x-body-sha256'), sha256(big));
  });

  it('does not retry a POST that reached a backend: 502, and only one backend saw it', async () => {
    const r = await send('POST', '/post', Buffer.from('side effect'));
    assert.equal(r.status, 502);
    assert.equal(s.postA!.hits.value + s.postB!.hits.value, 1, 'exactly one backend saw the POST');
    assert.equal(s.postA!.hits.value, 1, 'the first pick (A) saw it');
    assert.equal(s.postB!.hits.value, 0);
    assert.deepEqual(s.postA!.methods, ['POST']);
  });

  it('tries another server for a POST whose connection was refused (nothing was sent)', async () => {
    const body = randomBytes(2000);
    const r = await send('POST', '/refused', body);
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'refusedB');
    assert.equal(first(r, 'x-body-sha256'), sha256(body), 'the body arrived intact');
    assert.equal(s.refusedB!.hits.value, 1);
    assert.deepEqual(s.refusedB!.methods, ['POST']);
  });

  it('retries a response whose status is listed in retry.status on the other server', async () => {
    const r = await get('/st2');
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'st2B');
    assert.equal(s.st2A!.hits.value, 1);
    assert.equal(s.st2B!.hits.value, 1);
  });

  it('passes a listed status through when attempts is 1 (no retry at all)', async () => {
    const r = await get('/st1');
    assert.equal(r.status, 503);
    assert.equal(first(r, 'x-server'), 'st1A', "the backend's own 503, not one of ours");
    assert.equal(r.body.toString(), 'st1A 503');
    assert.equal(s.st1A!.hits.value, 1);
    assert.equal(s.st1B!.hits.value, 0);
  });

  it('replays a PUT body kept within maxRequestBodyBytes to the other server, intact', async () => {
    const body = randomBytes(SMALL_LIMIT - 24);
    const r = await send('PUT', '/putsmall', body);
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'putSmallB');
    assert.equal(first(r, 'x-body-length'), String(body.length));
    assert.equal(first(r, 'x-body-sha256'), sha256(body), 'the replayed body is byte for byte the same');
    assert.equal(s.putSmallA!.hits.value, 1);
    assert.equal(s.putSmallB!.hits.value, 1);
  });

  it('does not replay a PUT body larger than maxRequestBodyBytes: 502', async () => {
    const body = randomBytes(SMALL_LIMIT * 64);
    const r = await send('PUT', '/putlarge', body);
    assert.equal(r.status, 502);
    assert.equal(s.putLargeA!.hits.value, 1);
    assert.equal(s.putLargeB!.hits.value, 0, 'nothing was replayed');
  });

  it('replays a chunked PUT body kept within maxRequestBodyBytes to the other server, intact', async () => {
    const body = randomBytes(SMALL_LIMIT - 24);
    const r = await send('PUT', '/putch', body, true);
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'putChB');
    assert.equal(first(r, 'x-body-sha256'), sha256(body));
    assert.equal(s.putChA!.hits.value, 1);
    assert.equal(s.putChB!.hits.value, 1);
  });

  it('does not replay a chunked PUT body that outgrew maxRequestBodyBytes: 502', async () => {
    const r = await send('PUT', '/putchlarge', randomBytes(SMALL_LIMIT * 64), true);
    assert.equal(r.status, 502);
    assert.equal(s.putChLargeA!.hits.value, 1);
    assert.equal(s.putChLargeB!.hits.value, 0);
  });

  it('replays a PUT intact when the server reset it before reading its body', async () => {
    const body = randomBytes(SMALL_LIMIT - 24);
    const r = await send('PUT', '/putearly', body);
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'putEarlyB');
    assert.equal(first(r, 'x-body-sha256'), sha256(body));
    assert.equal(s.putEarlyA!.hits.value, 1);
    assert.equal(s.putEarlyB!.hits.value, 1);
  });

  it('gives up with 502 after `attempts` tries in all, across the servers', async () => {
    const r = await get('/backoff');
    assert.equal(r.status, 502);
    const a = s.backoffA!.hits.value;
    const b = s.backoffB!.hits.value;
    assert.equal(a + b, 3, `3 tries in all (A ${a}, B ${b})`);
    assert.ok(a >= 1 && b >= 1, 'the retries went to the other server first');
  });

  it('does not retry at all with a retry budget of 0 %, minConcurrent 0', async () => {
    const from = proxy.logs.length;
    const r = await get('/budget');
    assert.equal(r.status, 502, "the reset server's error reaches the client");
    assert.equal(s.budgetA!.hits.value, 1);
    assert.equal(s.budgetB!.hits.value, 0, 'no retry happened');
    await waitForLogFrom(proxy, from, (l) => l.msg === 'retry budget exhausted');
  });

  /** Sends a GET, waits for the partial body, resets the backend, and returns what arrived. */
  async function brokenMidResponse(
    server: TestServer,
    path: string,
  ): Promise<{ data: Buffer; ended: 'fin' | 'rst' }> {
    const socket = net.connect(proxy.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let broke = false;
    let ended: 'fin' | 'rst' = 'fin';
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      // Only once the client holds the first body bytes: the head is out for sure.
      if (!broke && Buffer.concat(chunks).includes(PART)) {
        broke = true;
        server.breakAll();
      }
    });
    socket.on('error', () => {
      ended = 'rst';
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: test.local\r\n\r\n`);
    await within(once(socket, 'close'), 'the proxy to close the client connection');
    return { data: Buffer.concat(chunks), ended };
  }

  it('breaks the client connection when a backend resets mid-body (Content-Length), never retrying', async () => {
    const { data, ended } = await brokenMidResponse(s.midA!, '/midcl');
    const parsed = parseResponses(data, ['GET'], ended === 'fin');
    assert.equal(parsed.error, null, `parse error in ${JSON.stringify(data.toString('latin1'))}`);
    assert.equal(parsed.responses.length, 1, 'one response, nothing appended');
    const res = parsed.responses[0]!;
    assert.equal(res.status, 200);
    assert.equal(res.complete, false, 'the response is visibly incomplete');
    assert.equal(res.body.toString('latin1'), PART);
    assert.equal(parsed.rest.length, 0, 'no bytes after the partial body');
    assert.equal(s.midA!.hits.value, 1);
    assert.equal(s.midB!.hits.value, 0, 'no retry once the head was out');
  });

  it('breaks the client connection when a backend resets mid-body (chunked), without a last chunk', async () => {
    const { data, ended } = await brokenMidResponse(s.midChA!, '/midch');
    const parsed = parseResponses(data, ['GET'], ended === 'fin');
    assert.equal(parsed.error, null, `parse error in ${JSON.stringify(data.toString('latin1'))}`);
    assert.equal(parsed.responses.length, 1);
    const res = parsed.responses[0]!;
    assert.equal(res.status, 200);
    assert.equal(res.lastChunk, false, 'no terminating zero-size chunk');
    assert.equal(res.complete, false);
    assert.equal(res.body.toString('latin1'), PART);
    assert.equal(s.midChA!.hits.value, 1);
    assert.equal(s.midChB!.hits.value, 0);
  });

  it('makes curl report a partial transfer (exit 18) when a backend closes mid-body', async () => {
    const r = await get('/midcurl');
    assert.equal(r.status, 200);
    assert.equal(r.exitCode, 18, `curl exit code; stderr: ${r.stderr}`);
    assert.equal(r.body.toString('latin1'), PART);
    assert.equal(s.midCurlA!.hits.value, 1);
    assert.equal(s.midCurlB!.hits.value, 0);
  });

  it('moves a try that outlived the router perTry timeout to the other server', async () => {
    const r = await get('/pertry');
    assert.equal(r.status, 200);
    assert.equal(first(r, 'x-server'), 'perTryB');
    assert.equal(s.perTryA!.hits.value, 1, 'the hanging server got the first try');
    assert.equal(s.perTryB!.hits.value, 1);
  });

  it('retry.timeout ends the retrying, never a try: a listed status after it goes to the client', async () => {
    // Traefik's retry timeout: no retry once it has passed since the first try. A's 503 comes
    // after 400 ms, past the 200 ms: it is the answer, and B never sees the request.
    const r = await get('/window');
    assert.equal(r.status, 503);
    assert.equal(first(r, 'x-server'), 'windowA');
    assert.equal(s.windowA!.hits.value, 1);
    assert.equal(s.windowB!.hits.value, 0, 'no retry after the timeout');
  });

  it('answers 504 when the router total timeout runs out on a hanging server', async () => {
    const from = proxy.logs.length;
    const r = await get('/total');
    assert.equal(r.status, 504);
    assert.equal(s.totalA!.hits.value, 1);
    const l = await waitForLogFrom(proxy, from, (x) => x.msg === 'request failed' && x.path === '/total');
    assert.equal(l.code, 'ROUTE_TIMEOUT');
  });

  /**
   * A GET on a fresh connection with the raw client: no process to spawn, so that a series of them
   * fits well inside the breaker's 1 s fallback even on a loaded machine.
   */
  async function quick(path: string): Promise<{ status: number; server: string | undefined }> {
    const r = await rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: test.local\r\n\r\n`, {
      responses: 1,
      timeoutMs: DEFAULT_WAIT_MS,
    });
    const res = r.responses[0];
    assert.ok(res !== undefined, `a response to ${path}; got ${JSON.stringify(r.data.toString('latin1'))}`);
    return { status: res.status, server: header(res, 'x-server') };
  }

  it('trips the route breaker on 5xx, answers responseCode without the backend, then recovers', async () => {
    const cb = s.cb!;
    const isChange = (to: string) => (l: LogLine) =>
      l.msg === 'circuit breaker state changed' && String(l.middleware).startsWith('cb@') && l.to === to;
    const from = proxy.logs.length;
    // The first 500 already makes the ratio 1 > 0.5; allow a few in case of a check period edge.
    let statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(503); i++) statuses.push((await quick('/cbroute')).status);
    assert.ok(statuses.includes(503), `the breaker tripped; statuses ${statuses.join(',')}`);
    assert.equal(statuses[0], 500, "the first request got the backend's 500");
    const tripped = await waitForLogFrom(proxy, from, isChange('tripped'));
    assert.equal(tripped.from, 'standby');
    const hits = cb.hits.value;
    statuses = [];
    for (let i = 0; i < 5; i++) {
      const r = await quick('/cbroute');
      statuses.push(r.status);
      assert.equal(r.server, undefined, "the proxy's own answer, not the backend's");
    }
    assert.deepEqual(statuses, [503, 503, 503, 503, 503]);
    assert.equal(cb.hits.value, hits, 'no request reached the backend while tripped');

    cb.mode = 'ok';
    // Bounded poll: after fallbackDuration + recoveryDuration the next request finds it standby.
    const standby = waitForLogFrom(proxy, from, isChange('standby'), DEFAULT_WAIT_MS);
    let done = false;
    void standby.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done) {
      await quick('/cbroute');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const back = await standby;
    assert.equal(back.from, 'recovering');
    await waitForLogFrom(proxy, from, isChange('recovering'));
    const before = cb.hits.value;
    for (let i = 0; i < 3; i++) {
      const r = await quick('/cbroute');
      assert.equal(r.status, 200);
      assert.equal(r.server, 'cb');
    }
    assert.equal(cb.hits.value, before + 3, 'requests reach the backend again');
  });

  it("counts a backend's own 502 as a network error in NetworkErrorRatio(), as oxy does", async () => {
    // oxy's RTMetrics.Record counts every 502 and 504 as a network error, whoever wrote it.
    const statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(503); i++) statuses.push((await quick('/cbnet')).status);
    assert.equal(statuses[0], 502, "the first request got the backend's 502");
    assert.ok(statuses.includes(503), `the breaker tripped; statuses ${statuses.join(',')}`);
    const hits = s.cbnet!.hits.value;
    const r = await quick('/cbnet');
    assert.equal(r.status, 503);
    assert.equal(s.cbnet!.hits.value, hits, 'no request reached the backend while tripped');
  });

  it('times LatencyAtQuantileMS() to the last byte of the response, as oxy does', async () => {
    // The head comes at once, the body 400 ms later: oxy's latency is the whole exchange's.
    const statuses: number[] = [];
    for (let i = 0; i < 5 && !statuses.includes(503); i++) statuses.push((await quick('/cblat')).status);
    assert.equal(statuses[0], 200);
    assert.ok(statuses.includes(503), `the breaker tripped on slow bodies; statuses ${statuses.join(',')}`);
    const hits = s.cblat!.hits.value;
    assert.equal((await quick('/cblat')).status, 503);
    assert.equal(s.cblat!.hits.value, hits, 'no request reached the backend while tripped');
  });

  it('reads fallbackDuration and recoveryDuration of 0 as their defaults (10 s), as Traefik', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(503); i++) statuses.push((await quick('/cbzero')).status);
    assert.ok(statuses.includes(503), `the breaker tripped; statuses ${statuses.join(',')}`);
    const hits = s.cbzero!.hits.value;
    // Past any check period and tick: a 0 s fallback would have let requests through by now.
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 3; i++) assert.equal((await quick('/cbzero')).status, 503);
    assert.equal(s.cbzero!.hits.value, hits, 'still tripped: nothing reached the backend');
  });

  it('skips a server whose own breaker tripped while the healthy one keeps serving', async () => {
    const a = s.cbsA!;
    const b = s.cbsB!;
    const from = proxy.logs.length;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/cbserver')).status);
    const tripped = await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'circuit breaker state changed' && l.to === 'tripped' && l.server === a.url,
    );
    assert.equal(tripped.from, 'standby');
    assert.equal(statuses[0], 502, 'the first request met the resetting server');
    const aHits = a.hits.value;
    const bHits = b.hits.value;
    const later: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await get('/cbserver');
      later.push(r.status);
      assert.equal(first(r, 'x-server'), 'cbsB');
    }
    assert.deepEqual(later, Array(10).fill(200));
    assert.equal(a.hits.value, aHits, 'the tripped server was skipped');
    assert.equal(b.hits.value, bHits + 10);
    assert.ok(
      !proxy.logs.slice(from).some((l) => l.msg === 'circuit breaker state changed' && l.server === b.url),
      "the healthy server's breaker never changed state",
    );
  });
});
