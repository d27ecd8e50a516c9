/**
 * TCP routing through the real proxy with real clients: openssl s_client and curl through TLS
 * passthrough (they must see the backend's own certificate), HTTPS routers and passthrough on
 * one port chosen by SNI, TLS termination, HTTP and TCP on one entry point, a server-first
 * protocol (a banner server) on its own entry point and beside TLS routers, real redis-server
 * and redis-cli, TCP middlewares, metrics and the access log.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import {
  metricSample,
  type RedisServer,
  redisCli,
  requireTool,
  startBannerServer,
  startEchoServer,
  startRedis,
  startTlsBackend,
  type TcpBackend,
  tcpExchange,
} from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, run, sClient, TestPki } from '../helpers/tls-certs.ts';

describe('TCP routers', () => {
  let proxyPki: TestPki;
  let backendPki: TestPki;
  let webCert: Issued;
  let termCert: Issued;
  let dbCert: Issued;
  let http: Backend;
  let echo: TcpBackend;
  let banner: TcpBackend;
  let dbTls: TcpBackend;
  let redis: RedisServer;
  let proxy: ProxyProcess;

  before(async () => {
    requireTool('/usr/bin/openssl', 'openssl');
    proxyPki = new TestPki('Proxy CA');
    backendPki = new TestPki('Backend CA');
    webCert = proxyPki.issue('web.test', ['web.test']);
    termCert = proxyPki.issue('term.test', ['term.test']);
    dbCert = backendPki.issue('db.test', ['db.test']);
    http = await startBackend((req, res) =>
      res.end(`http backend ${req.headers.host} ${req.headers['x-forwarded-proto']}`),
    );
    echo = await startEchoServer();
    banner = await startBannerServer('220 banner.test ESMTP ready\r\n');
    dbTls = await startTlsBackend(dbCert, 'http', 'db backend');
    redis = await startRedis();
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
  banner:
    address: "127.0.0.1:0"
  bannerBesideTls:
    address: "127.0.0.1:0"
    transport: { respondingTimeouts: { serverFirstTimeout: 300ms } }
  redis:
    address: "127.0.0.1:0"
  limited:
    address: "127.0.0.1:0"
  denied:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
accessLog: { format: json }
api: {}
metrics: { prometheus: {} }
http:
  routers:
    web: { entryPoints: [websecure, bannerBesideTls], rule: "Host(\`web.test\`)", service: http, tls: {} }
    plain: { entryPoints: [websecure], rule: "PathPrefix(\`/\`)", service: http }
  services:
    http: { loadBalancer: { servers: [{ url: "${http.url}" }] } }
tcp:
  routers:
    db: { entryPoints: [websecure], rule: "HostSNI(\`db.test\`)", service: db, tls: { passthrough: true } }
    term: { entryPoints: [websecure], rule: "HostSNI(\`term.test\`)", service: echo, tls: {} }
    banner: { entryPoints: [banner, bannerBesideTls], rule: "HostSNI(\`*\`)", service: banner }
    redis: { entryPoints: [redis], rule: "HostSNI(\`*\`)", service: redis }
    limited: { entryPoints: [limited], rule: "HostSNI(\`*\`)", service: echo, middlewares: [one] }
    denied: { entryPoints: [denied], rule: "HostSNI(\`*\`)", service: echo, middlewares: [tenOnly] }
  middlewares:
    one: { inFlightConn: { amount: 1 } }
    tenOnly: { ipAllowList: { sourceRange: ["10.0.0.0/8"] } }
  services:
    db: { loadBalancer: { servers: [{ address: "${dbTls.address}" }] } }
    echo: { loadBalancer: { servers: [{ address: "${echo.address}" }] } }
    banner: { loadBalancer: { servers: [{ address: "${banner.address}" }] } }
    redis: { loadBalancer: { servers: [{ address: "127.0.0.1:${redis.port}" }] } }
tls:
  certificates:
    - { certFile: web.pem, keyFile: web.key }
    - { certFile: term.pem, keyFile: term.key }
`,
      files: {
        'web.pem': webCert.certPem,
        'web.key': webCert.keyPem,
        'term.pem': termCert.certPem,
        'term.key': termCert.keyPem,
      },
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await Promise.all([http?.close(), echo?.close(), banner?.close(), dbTls?.close(), redis?.stop()]);
    proxyPki?.remove();
    backendPki?.remove();
  });

  const port = (ep: string): number => proxy.ports[ep]!;
  const resolve = (host: string, ep: string): string[] => ['--resolve', `${host}:${port(ep)}:127.0.0.1`];

  it('passes TLS through to the backend: openssl s_client and curl see its own certificate', async () => {
    const s = await sClient(port('websecure'), ['-servername', 'db.test', '-CAfile', backendPki.ca.certFile]);
    assert.match(s.out, /Verification: OK/, s.out);
    assert.match(s.out, /Peer certificate: CN ?= ?db\.test/, s.out);
    const r = await curl([
      '--cacert',
      backendPki.ca.certFile,
      ...resolve('db.test', 'websecure'),
      `https://db.test:${port('websecure')}/`,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.body.toString(), 'hello from db backend');
    // The proxy's CA does not vouch for it: the bytes were not re-encrypted by us.
    const wrongCa = await curl([
      '--cacert',
      proxyPki.ca.certFile,
      ...resolve('db.test', 'websecure'),
      `https://db.test:${port('websecure')}/`,
    ]);
    assert.notEqual(wrongCa.exitCode, 0);
  });

  it('chooses by SNI on one port: HTTPS routers, passthrough, termination, and cleartext HTTP', async () => {
    const web = await curl([
      '--cacert',
      proxyPki.ca.certFile,
      ...resolve('web.test', 'websecure'),
      `https://web.test:${port('websecure')}/x`,
    ]);
    assert.equal(web.status, 200, web.stderr);
    assert.equal(web.body.toString(), `http backend web.test:${port('websecure')} https`);
    const plain = await curl([`http://127.0.0.1:${port('websecure')}/x`]);
    assert.equal(plain.status, 200);
    assert.match(plain.body.toString(), /^http backend 127\.0\.0\.1:\d+ http$/);
    // term.test: TLS ends at the proxy (its certificate), the cleartext bytes go to the echo server.
    const out = await run('sh', [
      '-c',
      `(printf 'ping over tls\\n'; sleep 1) | timeout 10 openssl s_client -quiet -no_ign_eof -connect 127.0.0.1:${port('websecure')} -servername term.test -CAfile ${proxyPki.ca.certFile} -verify_return_error 2>&1`,
    ]);
    assert.match(out.out, /ping over tls/, out.out);
  });

  it('serves a server-first protocol: the banner comes first, at once or after serverFirstTimeout beside TLS routers', async () => {
    for (const ep of ['banner', 'bannerBesideTls']) {
      const r = await tcpExchange(port(ep), null, { untilData: 'ESMTP ready' });
      assert.equal(r.how, 'data', `${ep}: ${r.data.toString()}`);
      assert.equal(r.data.toString(), '220 banner.test ESMTP ready\r\n');
    }
    // The same port still terminates TLS for its HTTPS router.
    const web = await curl([
      '--cacert',
      proxyPki.ca.certFile,
      ...resolve('web.test', 'bannerBesideTls'),
      `https://web.test:${port('bannerBesideTls')}/`,
    ]);
    assert.equal(web.status, 200, web.stderr);
    // A client that speaks first still gets through to the banner server.
    const talk = await tcpExchange(port('bannerBesideTls'), 'EHLO me\r\n', { untilData: 'EHLO me' });
    assert.equal(talk.data.toString(), '220 banner.test ESMTP ready\r\nEHLO me\r\n');
  });

  it('carries redis-cli to a real redis-server', () => {
    assert.equal(redisCli(port('redis'), 'PING'), 'PONG');
    assert.equal(redisCli(port('redis'), 'SET', 'through', 'the-proxy'), 'OK');
    assert.equal(redisCli(port('redis'), 'GET', 'through'), 'the-proxy');
    const big = 'x'.repeat(1 << 20);
    assert.equal(redisCli(port('redis'), '-x', 'SET', 'big', { stdin: big }), 'OK');
    assert.equal(redisCli(port('redis'), 'STRLEN', 'big'), String(1 << 20));
  });

  it('refuses a client outside ipAllowList and a second connection past inFlightConn', async () => {
    const denied = await tcpExchange(port('denied'), 'hello');
    assert.equal(denied.data.length, 0);
    assert.notEqual(denied.how, 'timeout');
    const first = await new Promise<Socket>((resolve) => {
      const s = connect(port('limited'), '127.0.0.1', () => resolve(s));
    });
    first.on('error', () => {});
    first.write('one');
    await new Promise((r) => first.once('data', r));
    const second = await tcpExchange(port('limited'), 'two');
    assert.equal(second.data.length, 0, 'the second connection of the same client is closed');
    first.destroy();
  });

  it('counts TCP connections in metrics (open back to zero) and logs a line per connection', async () => {
    const r = await tcpExchange(port('banner'), null, { untilData: 'ready' });
    assert.equal(r.how, 'data');
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await (await fetch(`http://127.0.0.1:${port('traefik')}/metrics`)).text();
      if (
        metricSample(text, 'traffic_tcp_connections_open', {
          router: 'banner@file',
          entrypoint: 'banner',
        }) === 0
      )
        break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(
      metricSample(text, 'traffic_tcp_connections_open', { router: 'banner@file', entrypoint: 'banner' }),
      0,
    );
    const m = (name: string, labels: Record<string, string>): number =>
      metricSample(text, name, labels) ?? -1;
    const banner = { router: 'banner@file', entrypoint: 'banner' };
    assert.equal(m('traffic_tcp_connections_total', banner), 2, text);
    // Two banners of 29 bytes reached clients.
    assert.equal(m('traffic_tcp_bytes_sent_total', banner), 58, text);
    assert.equal(
      metricSample(text, 'traffic_tcp_connection_failures_total', {
        router: 'denied@file',
        reason: 'not_allowed',
      }),
      1,
    );
    // The access log is written in batches: wait for the lines of the connections above.
    const tcpLines = (): Record<string, unknown>[] =>
      proxy
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"TCP"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = 0; i < 100 && !tcpLines().some((l) => l.RouterName === 'denied@file'); i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    const lines = tcpLines();
    const db = lines.find((l) => l.RouterName === 'db@file');
    assert.ok(db, `no db line in: ${JSON.stringify(proxy.stdout().slice(0, 3000))}`);
    assert.equal(db.RequestProtocol, 'tls-passthrough');
    assert.equal(db.RequestHost, 'db.test');
    assert.equal(db.ServiceURL, dbTls.address);
    assert.equal(db.DownstreamStatus, 200);
    const denied = lines.find((l) => l.RouterName === 'denied@file');
    assert.equal(denied?.DownstreamStatus, 403);
  });
});
