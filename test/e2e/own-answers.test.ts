/**
 * The answers the proxy writes itself, byte for byte as Traefik v3 writes them, through the real
 * proxy on a raw socket: the status line, the set of fields (Date aside) with their values, and
 * the body. Traefik's entry point turns Go's sniffing off (contenttype.DisableAutoDetection), so
 * an answer whose writer sets no Content-Type has none; Go's http.Error sets
 * `text/plain; charset=utf-8` and `X-Content-Type-Options: nosniff`; a `contentType` middleware
 * before the writer turns the sniffing back on. docs/errors.md has the same table.
 */
import assert from 'node:assert/strict';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { htpasswd } from '../helpers/htpasswd.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { DEFAULT_WAIT_MS, within } from '../helpers/wait.ts';

interface Answer {
  readonly statusLine: string;
  /** Lower-cased names in the order sent, Date left out. */
  readonly fields: readonly (readonly [string, string])[];
  readonly body: string;
}

/** Sends `request` on a new connection and reads one answer (no body for HEAD, 204, 304). */
function exchange(port: number, request: string, head = false): Promise<Answer> {
  return within(
    new Promise<Answer>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = Buffer.alloc(0);
      const done = (a: Answer): void => {
        socket.destroy();
        resolve(a);
      };
      const tryParse = (ended: boolean): void => {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) {
          if (ended) reject(new Error(`closed before a head: ${JSON.stringify(data.toString('latin1'))}`));
          return;
        }
        const lines = data.toString('latin1', 0, end).split('\r\n');
        const fields: [string, string][] = [];
        for (const line of lines.slice(1)) {
          const c = line.indexOf(':');
          const name = line.slice(0, c).toLowerCase();
          if (name !== 'date') fields.push([name, line.slice(c + 1).trim()]);
        }
        const statusLine = lines[0]!;
        const status = Number(statusLine.split(' ')[1]);
        const rest = data.subarray(end + 4);
        if (head || status === 204 || status === 304) {
          done({ statusLine, fields, body: '' });
          return;
        }
        const cl = fields.find(([n]) => n === 'content-length');
        if (cl !== undefined) {
          if (rest.length >= Number(cl[1]))
            done({ statusLine, fields, body: rest.toString('utf8', 0, Number(cl[1])) });
          return;
        }
        if (ended) done({ statusLine, fields, body: rest.toString('utf8') });
      };
      socket.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
        tryParse(false);
      });
      socket.on('end', () => tryParse(true));
      socket.on('error', reject);
      socket.write(request, 'latin1');
    }),
    'an answer',
    DEFAULT_WAIT_MS,
  );
}

const GO_TEXT = 'text/plain; charset=utf-8';

interface Row {
  readonly what: string;
  readonly host: string;
  readonly method?: string;
  readonly path?: string;
  readonly extra?: string;
  readonly body?: string;
  readonly status: string;
  /** Every field but Date, in any order: a RegExp for a value that changes. */
  readonly fields: Readonly<Record<string, string | RegExp>>;
  readonly text: string;
  /** Sent first on the same proxy (a token to use up). */
  readonly before?: () => Promise<void>;
}

describe("the proxy's own answers, as Traefik writes them (raw socket)", () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  let h2: Http2Server;
  let port: number;
  let releaseHeld: (() => void) | null = null;
  let held: ReturnType<typeof connect> | null = null;
  let heldSeen: (() => void) | null = null;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/hold') {
        releaseHeld = () => res.end('held');
        heldSeen?.();
        return;
      }
      if (req.url === '/silent') return; // never answers: the response header timeout
      res.end('ok');
    });
    // An HTTP/2 server whose answer ends with its HEADERS frame, without a length.
    h2 = createH2Server();
    h2.on('stream', (stream) => stream.respond({ ':status': 200, 'x-empty': '1' }, { endStream: true }));
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    const h2Port = (h2.address() as AddressInfo).port;
    const user = htpasswd('u', 'p', ['-s']);
    const digestUser = 'u:traefik:0123456789abcdef0123456789abcdef';
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    refused: { rule: "Host(\`refused.test\`)", service: refused }
    empty: { rule: "Host(\`empty.test\`)", service: empty }
    slow: { rule: "Host(\`slow.test\`)", service: slow }
    scheme: { rule: "Host(\`scheme.test\`)", service: ok, middlewares: [toHttps] }
    regex: { rule: "Host(\`regex.test\`)", service: ok, middlewares: [rx] }
    deny: { rule: "Host(\`deny.test\`)", service: ok, middlewares: [allow] }
    rate: { rule: "Host(\`rate.test\`)", service: ok, middlewares: [rl] }
    flight: { rule: "Host(\`flight.test\`)", service: ok, middlewares: [ifr] }
    basic: { rule: "Host(\`basic.test\`)", service: ok, middlewares: [ba] }
    digest: { rule: "Host(\`digest.test\`)", service: ok, middlewares: [da] }
    big: { rule: "Host(\`big.test\`)", service: ok, middlewares: [buf] }
    badhost: { rule: "Host(\`badhost.test\`)", service: ok, middlewares: [hosts] }
    sniffredir: { rule: "Host(\`sniff-redirect.test\`)", service: ok, middlewares: [ct, toHttps] }
    sniffproxy: { rule: "Host(\`sniff-proxy.test\`)", service: refused, middlewares: [ct] }
    late: { rule: "Host(\`late.test\`)", service: ok, middlewares: [toHttps, ct] }
    grpcweb: { rule: "Host(\`grpcweb.test\`)", service: ok, middlewares: [gw] }
    h2empty: { rule: "Host(\`h2empty.test\`)", service: h2empty }
    breaker: { rule: "Host(\`breaker.test\`)", service: refused, middlewares: [cb] }
  middlewares:
    cb: { circuitBreaker: { expression: "NetworkErrorRatio() > 0.5", checkPeriod: 100ms, fallbackDuration: 1h } }
    toHttps: { redirectScheme: { scheme: https } }
    rx: { redirectRegex: { regex: ".*", replacement: "http://elsewhere.test/" } }
    allow: { ipAllowList: { sourceRange: ["192.0.2.1/32"] } }
    rl: { rateLimit: { average: 1, period: 1h, burst: 1 } }
    ifr: { inFlightReq: { amount: 1 } }
    ba: { basicAuth: { users: ["${user}"] } }
    da: { digestAuth: { users: ["${digestUser}"] } }
    buf: { buffering: { maxRequestBodyBytes: 4 } }
    hosts: { headers: { allowedHosts: ["good.test"] } }
    ct: { contentType: {} }
    gw: { grpcWeb: { allowOrigins: ["*"] } }
  services:
    ok: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
    refused: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
    empty: { loadBalancer: { servers: [] } }
    slow:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
        serversTransport: quick
    h2empty: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${h2Port}" }] } }
  serversTransports:
    quick: { forwardingTimeouts: { responseHeaderTimeout: 300ms } }
`,
    });
    port = proxy.port;
  });

  after(async () => {
    releaseHeld?.();
    held?.destroy();
    await proxy?.stop();
    await backend?.close();
    await new Promise<void>((resolve) => (h2 ? h2.close(() => resolve()) : resolve()));
  });

  const rows: Row[] = [
    {
      what: 'no router: Go http.NotFound',
      host: 'nowhere.test',
      status: 'HTTP/1.1 404 Not Found',
      fields: { 'content-type': GO_TEXT, 'x-content-type-options': 'nosniff', 'content-length': '19' },
      text: '404 page not found\n',
    },
    {
      what: "a refused server: the proxy's ErrorHandler, no type",
      host: 'refused.test',
      status: 'HTTP/1.1 502 Bad Gateway',
      fields: { 'content-length': '11' },
      text: 'Bad Gateway',
    },
    {
      what: 'no server: http.Error "no available server"',
      host: 'empty.test',
      status: 'HTTP/1.1 503 Service Unavailable',
      fields: { 'content-type': GO_TEXT, 'x-content-type-options': 'nosniff', 'content-length': '20' },
      text: 'no available server\n',
    },
    {
      what: "a response header timeout: the proxy's ErrorHandler, no type",
      host: 'slow.test',
      path: '/silent',
      status: 'HTTP/1.1 504 Gateway Timeout',
      fields: { 'content-length': '15' },
      text: 'Gateway Timeout',
    },
    {
      what: "redirectScheme's moveHandler: Location and the status text, no type",
      host: 'scheme.test',
      path: '/a?b=1',
      status: 'HTTP/1.1 302 Found',
      fields: { location: 'https://scheme.test/a?b=1', 'content-length': '5' },
      text: 'Found',
    },
    {
      what: 'redirectScheme to a POST: 307',
      host: 'scheme.test',
      method: 'POST',
      extra: 'Content-Length: 0\r\n',
      status: 'HTTP/1.1 307 Temporary Redirect',
      fields: { location: 'https://scheme.test/', 'content-length': '18' },
      text: 'Temporary Redirect',
    },
    {
      what: 'redirectScheme to a HEAD: the length of the text, no body',
      host: 'scheme.test',
      method: 'HEAD',
      status: 'HTTP/1.1 307 Temporary Redirect',
      fields: { location: 'https://scheme.test/', 'content-length': '18' },
      text: '',
    },
    {
      what: "redirectRegex's moveHandler",
      host: 'regex.test',
      status: 'HTTP/1.1 302 Found',
      fields: { location: 'http://elsewhere.test/', 'content-length': '5' },
      text: 'Found',
    },
    {
      what: "ipAllowList's reject: the status text, no type",
      host: 'deny.test',
      status: 'HTTP/1.1 403 Forbidden',
      fields: { 'content-length': '9' },
      text: 'Forbidden',
    },
    {
      what: "rateLimit's serveDelayError: Retry-After, X-Retry-In, the status text, no type",
      host: 'rate.test',
      before: async () => {
        const first = await exchange(port, 'GET / HTTP/1.1\r\nHost: rate.test\r\n\r\n');
        assert.equal(first.statusLine, 'HTTP/1.1 200 OK', 'the one token');
      },
      status: 'HTTP/1.1 429 Too Many Requests',
      fields: { 'retry-after': /^\d+$/, 'x-retry-in': /^[\dhms.µ]+$/, 'content-length': '17' },
      text: 'Too Many Requests',
    },
    {
      what: "inFlightReq's oxy connlimit: 429 with its error text, no type",
      host: 'flight.test',
      before: async () => {
        const seen = new Promise<void>((resolve) => {
          heldSeen = resolve;
        });
        held = connect(port, '127.0.0.1');
        held.on('error', () => {});
        held.write('GET /hold HTTP/1.1\r\nHost: flight.test\r\n\r\n');
        await within(seen, 'the held request at the backend');
      },
      status: 'HTTP/1.1 429 Too Many Requests',
      fields: { 'content-length': '26' },
      text: 'max connections reached: 1',
    },
    {
      what: "basicAuth's RequireAuth: goauth's text/plain",
      host: 'basic.test',
      status: 'HTTP/1.1 401 Unauthorized',
      fields: {
        'content-type': 'text/plain',
        'www-authenticate': 'Basic realm="traefik"',
        'content-length': '17',
      },
      text: '401 Unauthorized\n',
    },
    {
      what: "digestAuth's RequireAuth: goauth's text/plain",
      host: 'digest.test',
      status: 'HTTP/1.1 401 Unauthorized',
      fields: {
        'content-type': 'text/plain',
        'www-authenticate':
          /^Digest realm="traefik", nonce="[^"]+", opaque="[^"]+", algorithm=MD5, qop="auth"$/,
        'content-length': '17',
      },
      text: '401 Unauthorized\n',
    },
    {
      what: "buffering's oxy SizeErrHandler: the status text, no type",
      host: 'big.test',
      method: 'POST',
      extra: 'Content-Length: 10\r\n',
      body: '0123456789',
      status: 'HTTP/1.1 413 Request Entity Too Large',
      fields: { 'content-length': '24', connection: 'close' },
      text: 'Request Entity Too Large',
    },
    {
      what: 'headers\' allowedHosts: unrolled/secure\'s http.Error "Bad Host"',
      host: 'badhost.test',
      status: 'HTTP/1.1 500 Internal Server Error',
      fields: { 'content-type': GO_TEXT, 'x-content-type-options': 'nosniff', 'content-length': '9' },
      text: 'Bad Host\n',
    },
    {
      what: 'contentType before a redirect: its sniffing names the text',
      host: 'sniff-redirect.test',
      status: 'HTTP/1.1 302 Found',
      fields: { location: 'https://sniff-redirect.test/', 'content-type': GO_TEXT, 'content-length': '5' },
      text: 'Found',
    },
    {
      what: "contentType before the proxy: the 502's text sniffed",
      host: 'sniff-proxy.test',
      status: 'HTTP/1.1 502 Bad Gateway',
      fields: { 'content-type': GO_TEXT, 'content-length': '11' },
      text: 'Bad Gateway',
    },
    {
      what: 'contentType after the redirect: no sniffing for it',
      host: 'late.test',
      status: 'HTTP/1.1 302 Found',
      fields: { location: 'https://late.test/', 'content-length': '5' },
      text: 'Found',
    },
    {
      what: "grpcWeb's CORS preflight: rs/cors' 204, no length",
      host: 'grpcweb.test',
      method: 'OPTIONS',
      extra:
        'Origin: https://app.test\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-grpc-web\r\n',
      status: 'HTTP/1.1 204 No Content',
      fields: {
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        'access-control-allow-origin': 'https://app.test',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'x-grpc-web',
        'access-control-allow-credentials': 'true',
        'access-control-max-age': '600',
      },
      text: '',
    },
    {
      what: "a request without Host: Go's server's own refusal (badRequestError), closed",
      host: '',
      status: 'HTTP/1.1 400 Bad Request: missing required Host header',
      fields: { 'content-type': GO_TEXT, connection: 'close' },
      text: '400 Bad Request: missing required Host header',
    },
    {
      what: "an ambiguous length: Go's server's plain 400, closed",
      host: 'refused.test',
      method: 'POST',
      extra: 'Content-Length: 1\r\nContent-Length: 2\r\n',
      status: 'HTTP/1.1 400 Bad Request',
      fields: { 'content-type': GO_TEXT, connection: 'close' },
      text: '400 Bad Request',
    },
    {
      what: "an unknown transfer coding: Go's server's 501",
      host: 'refused.test',
      method: 'POST',
      extra: 'Transfer-Encoding: gzip, chunked\r\n',
      status: 'HTTP/1.1 501 Not Implemented',
      fields: { 'content-type': GO_TEXT, connection: 'close' },
      text: 'Unsupported transfer encoding',
    },
    {
      what: "an HTTP/2 server's empty END_STREAM answer: Content-Length 0 on HTTP/1.1",
      host: 'h2empty.test',
      status: 'HTTP/1.1 200 OK',
      fields: { 'x-empty': '1', 'content-length': '0' },
      text: '',
    },
  ];

  it("circuitBreaker's fallback once open: the status text, no type", async () => {
    // The refused server's 502s open it at a check (every 100 ms): bounded polling, no timing.
    let a: Answer | undefined;
    for (let i = 0; i < 100; i++) {
      a = await exchange(port, 'GET / HTTP/1.1\r\nHost: breaker.test\r\n\r\n');
      if (a.statusLine !== 'HTTP/1.1 502 Bad Gateway') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(a?.statusLine, 'HTTP/1.1 503 Service Unavailable');
    assert.deepEqual(a.fields, [['content-length', '19']]);
    assert.equal(a.body, 'Service Unavailable');
  });

  for (const row of rows) {
    it(row.what, async () => {
      await row.before?.();
      const method = row.method ?? 'GET';
      const host = row.host === '' ? '' : `Host: ${row.host}\r\n`;
      const req = `${method} ${row.path ?? '/'} HTTP/1.1\r\n${host}${row.extra ?? ''}\r\n${row.body ?? ''}`;
      const a = await exchange(port, req, method === 'HEAD');
      assert.equal(a.statusLine, row.status, row.what);
      assert.deepEqual(
        a.fields.map(([n]) => n).sort(),
        Object.keys(row.fields).sort(),
        `${row.what}: ${JSON.stringify(a.fields)}`,
      );
      for (const [name, value] of a.fields) {
        const want = row.fields[name]!;
        if (typeof want === 'string') assert.equal(value, want, `${row.what}: ${name}`);
        else assert.match(value, want, `${row.what}: ${name}`);
      }
      assert.equal(a.body, row.text, row.what);
    });
  }
});
