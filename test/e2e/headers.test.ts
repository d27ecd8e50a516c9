/**
 * Header handling at the edge, through the real proxy process: hop-by-hop fields (and every
 * field named in Connection) stripped in both directions (RFC 9110 §7.6.1), X-Forwarded-* and
 * X-Real-Ip overwritten for untrusted peers and extended for trusted ones (edge-rules §3.2),
 * and passHostHeader.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { FakeUpstream, httpResponse } from '../helpers/fake-upstream.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

/** Every value of a field as the backend received it, in order (rawHeaders, not Node's merge). */
function rawValues(seen: Backend['seen'][number], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) {
    if (seen.rawHeaders[i]!.toLowerCase() === name) out.push(seen.rawHeaders[i + 1]!);
  }
  return out;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'proxy-authorization',
];

describe('headers', () => {
  let backend: Backend;
  let upstream: FakeUpstream;
  let proxy: ProxyProcess;
  let web: number;
  let trusted: number;

  /** Sends `fields` to `port` with Host `host` and returns what the backend saw. */
  async function via(
    port: number,
    fields: string,
    host = 'echo.test',
    path = '/h',
  ): Promise<Backend['seen'][number]> {
    const before = backend.seen.length;
    const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`, {
      responses: 1,
      timeoutMs: 5000,
    });
    assert.equal(r.responses[0]?.status, 200, r.data.toString('latin1'));
    assert.equal(backend.seen.length, before + 1);
    return backend.seen[before]!;
  }

  before(async () => {
    backend = await startBackend();
    upstream = await FakeUpstream.start(async (conn) => {
      for (let n = 1; ; n++) {
        let req: Awaited<ReturnType<typeof conn.request>>;
        try {
          req = await conn.request(n);
        } catch {
          return;
        }
        if (req.target === '/hop-response') {
          conn.write(
            'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n' +
              'Connection: X-Secret-Hop, Set-Cookie\r\nKeep-Alive: timeout=5, max=100\r\n' +
              'Proxy-Connection: keep-alive\r\nProxy-Authenticate: Basic realm="x"\r\n' +
              'TE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\n' +
              'X-Secret-Hop: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Kept: yes\r\n\r\nok',
          );
        } else if (req.target === '/204-with-length') {
          conn.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\n');
        } else conn.write(httpResponse(200, 'plain'));
      }
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders:
      trustedIPs: ["127.0.0.1/32"]
log: { level: INFO }
http:
  routers:
    echo:   { rule: "Host(\`echo.test\`)", service: echo }
    nohost: { rule: "Host(\`nohost.test\`)", service: nohost }
    raw:    { rule: "Host(\`raw.test\`)", service: raw }
  services:
    echo:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
    nohost:
      loadBalancer:
        passHostHeader: false
        servers: [{ url: "${backend.url}" }]
    raw:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${upstream.port}" }]
`,
    });
    web = proxy.ports['web']!;
    trusted = proxy.ports['trusted']!;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), upstream?.close()]);
  });

  it('strips hop-by-hop request fields and every field the client named in Connection', async () => {
    const seen = await via(
      web,
      'Connection: keep-alive, X-Private, x-other-private\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
        'Trailer: X-T\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\n' +
        'Proxy-Authorization: Basic eDp5\r\nX-Private: secret\r\nX-Other-Private: secret\r\nX-Kept: yes\r\n',
    );
    for (const h of [...HOP_BY_HOP, 'x-private', 'x-other-private']) {
      assert.deepEqual(rawValues(seen, h), [], `${h} reached the backend`);
    }
    assert.deepEqual(rawValues(seen, 'x-kept'), ['yes']);
    assert.deepEqual(rawValues(seen, 'host'), ['echo.test']);
  });

  it('keeps the proxy-added X-Forwarded-* when the client names them in Connection', async () => {
    const seen = await via(
      web,
      'Connection: X-Forwarded-For, X-Real-Ip, X-Forwarded-Proto\r\nX-Forwarded-For: 6.6.6.6\r\n',
    );
    assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-real-ip'), ['127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
  });

  it("keeps a trusted peer's X-Forwarded-For that it named hop-by-hop, and adds the peer, as Traefik", async () => {
    // Traefik's removeConnectionHeaders (pkg/middlewares/forwardedheaders): Connection cannot
    // remove the X- forwarding fields it manages (RFC 9110 §7.6.1 lets an intermediary replace
    // the connection options). Traefik compares the names case-sensitively; ours in any case.
    for (const name of ['X-Forwarded-For', 'x-forwarded-for']) {
      const seen = await via(trusted, `Connection: ${name}\r\nX-Forwarded-For: 1.2.3.4\r\n`);
      assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['1.2.3.4, 127.0.0.1'], name);
    }
  });

  it('strips hop-by-hop response fields and every field the backend named in Connection', async () => {
    const r = await rawRequest(web, 'GET /hop-response HTTP/1.1\r\nHost: raw.test\r\n\r\n', {
      responses: 1,
      timeoutMs: 5000,
    });
    const res = r.responses[0]!;
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'ok');
    const names = res.headers.map(([n]) => n.toLowerCase());
    for (const h of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'proxy-authenticate',
      'te',
      'trailer',
      'upgrade',
      'x-secret-hop',
      'set-cookie',
    ]) {
      assert.ok(!names.includes(h), `${h} reached the client`);
    }
    assert.equal(header(res, 'x-kept'), 'yes');
    assert.equal(header(res, 'content-length'), '2');
    assert.equal(r.closedBy, 'client', 'the client connection stays open');
  });

  // Go's HTTP/1.1 and HTTP/2 servers give every Traefik response a Date it lacks (RFC 9110
  // §6.6.1: an origin server sends one, a proxy adds one to a response that came without).
  for (const proto of ['--http1.1', '--http2-prior-knowledge']) {
    it(`adds Date where the backend sent none and to its own answers, keeps the backend's (${proto.slice(2)})`, async () => {
      const dated = (r: Awaited<ReturnType<typeof curl>>): number => {
        const values = r.headers['date'] ?? [];
        assert.equal(values.length, 1, JSON.stringify(r.headers));
        assert.match(values[0]!, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
        return Date.parse(values[0]!);
      };
      const base = `http://127.0.0.1:${web}`;
      const plain = await curl([proto, '-H', 'Host: raw.test', `${base}/plain`]);
      assert.equal(plain.status, 200);
      assert.ok(Math.abs(dated(plain) - Date.now()) < 60_000);
      const own = await curl([proto, '-H', 'Host: unknown.test', `${base}/`]);
      assert.equal(own.status, 404);
      assert.ok(Math.abs(dated(own) - Date.now()) < 60_000);
      const echo = await curl([proto, '-H', 'Host: echo.test', `${base}/`]);
      assert.equal(echo.status, 200);
      dated(echo);
    });
  }

  it('drops a Content-Length the backend put on a 204', async () => {
    const r = await rawRequest(
      web,
      'GET /204-with-length HTTP/1.1\r\nHost: raw.test\r\n\r\nGET /next HTTP/1.1\r\nHost: raw.test\r\n\r\n',
      { responses: 2, timeoutMs: 5000 },
    );
    const [noContent, next] = r.responses;
    assert.equal(noContent!.status, 204);
    assert.equal(header(noContent!, 'content-length'), undefined);
    assert.equal(header(noContent!, 'x-kept'), 'yes');
    assert.equal(next!.body.toString(), 'plain');
  });

  it('overwrites spoofed forwarding fields from an untrusted peer', async () => {
    const seen = await via(
      web,
      'X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nX-Forwarded-Proto: https\r\n' +
        'X-Forwarded-Host: evil.test\r\nX-Forwarded-Port: 1\r\nX-Forwarded-Server: evil\r\n' +
        'X-Real-Ip: 6.6.6.6\r\nForwarded: for=9.9.9.9;proto=https\r\n',
    );
    assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['echo.test']);
    // Traefik's forwardedPort: the Host (echo.test) has no port, the request is plain HTTP: 80,
    // not the port the entry point listens on.
    assert.deepEqual(rawValues(seen, 'x-forwarded-port'), ['80']);
    assert.deepEqual(rawValues(seen, 'x-real-ip'), ['127.0.0.1']);
    // Traefik's rewrite: this proxy's host name, the client's value dropped.
    assert.deepEqual(rawValues(seen, 'x-forwarded-server'), [hostname()]);
    assert.deepEqual(rawValues(seen, 'forwarded'), []);
  });

  it('strips every forwarding field Traefik manages from an untrusted peer, underscore spellings too', async () => {
    const spoofed = [
      'X-Forwarded-Prefix',
      'X-Forwarded-Uri',
      'X-Forwarded-Method',
      'X-Forwarded-Scheme',
      'X-Scheme',
      'X-Forwarded-Tls-Client-Cert',
      'X-Forwarded-Tls-Client-Cert-Info',
      'X_Forwarded_For',
      'X_Forwarded-Proto',
      'X-Forwarded_Host',
      'x_real_ip',
      'X_Forwarded_Prefix',
      'X_Scheme',
    ];
    const seen = await via(
      web,
      `${spoofed.map((n) => `${n}: /evil\r\n`).join('')}X-Forwarded-Extra: kept\r\n`,
    );
    for (const name of spoofed) assert.deepEqual(rawValues(seen, name.toLowerCase()), [], name);
    assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
    // A field Traefik does not manage is the application's business.
    assert.deepEqual(rawValues(seen, 'x-forwarded-extra'), ['kept']);
  });

  it('sets forwarding fields for an untrusted peer that sent none, from curl', async () => {
    const before = backend.seen.length;
    const r = await curl(['-H', 'Host: echo.test:8443', `http://127.0.0.1:${web}/curl`]);
    assert.equal(r.status, 200);
    const seen = backend.seen[before]!;
    assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['echo.test:8443']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-port'), ['8443']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
  });

  it('extends X-Forwarded-For and keeps the other fields from a trusted peer', async () => {
    const seen = await via(
      trusted,
      'X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\n' +
        'X-Forwarded-Host: public.test\r\nX-Forwarded-Port: 443\r\nX-Real-Ip: 1.2.3.4\r\n' +
        'Forwarded: for=1.2.3.4;proto=https\r\n',
    );
    assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['1.2.3.4, 10.0.0.1, 127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['https']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['public.test']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-port'), ['443']);
    assert.deepEqual(rawValues(seen, 'x-real-ip'), ['1.2.3.4']);
    assert.deepEqual(rawValues(seen, 'forwarded'), ['for=1.2.3.4;proto=https']);
  });

  it('fills in the forwarding fields a trusted peer did not send', async () => {
    const seen = await via(trusted, '');
    assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['echo.test']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-port'), ['80']);
    assert.deepEqual(rawValues(seen, 'x-real-ip'), ['127.0.0.1']);
  });

  it('fills in the forwarding fields a trusted peer sent empty, as Traefik (its Get is "")', async () => {
    const seen = await via(
      trusted,
      'X-Forwarded-Proto: \r\nX-Forwarded-Host: \r\nX-Forwarded-Port: \r\nX-Real-Ip: \r\n',
    );
    assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['echo.test']);
    assert.deepEqual(rawValues(seen, 'x-forwarded-port'), ['80']);
    assert.deepEqual(rawValues(seen, 'x-real-ip'), ['127.0.0.1']);
  });

  it('passes the client Host by default', async () => {
    const seen = await via(web, '', 'echo.test:1234');
    assert.deepEqual(rawValues(seen, 'host'), ['echo.test:1234']);
  });

  it("sends the server's own authority as Host when passHostHeader is false", async () => {
    const seen = await via(web, '', 'nohost.test');
    assert.deepEqual(rawValues(seen, 'host'), [`127.0.0.1:${backend.port}`]);
    assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['nohost.test']);
  });
});
