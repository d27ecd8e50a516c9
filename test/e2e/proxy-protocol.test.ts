/**
 * The PROXY protocol with HAProxy on both sides of the real proxy: HAProxy in front sends v1 and
 * v2 headers (`send-proxy`, `send-proxy-v2`) for clients that connect from 127.0.0.2, and the
 * declared address must become the client address (X-Forwarded-For, a TCP router's ClientIP,
 * over TLS too); HAProxy behind receives ours (`accept-proxy`) from TCP and HTTP services and
 * tells its backend the address it read. Untrusted peers and malformed headers are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import {
  freePort,
  type Haproxy,
  startBannerServer,
  startHaproxy,
  type TcpBackend,
  tcpExchange,
} from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

/**
 * What a client bound to 127.0.0.2 gets back over a TCP connection to `port`. `send` (a request
 * with `Connection: close`) is written without a FIN: the server's close ends the exchange. After
 * a client's FIN the proxy would give the reply only terminationDelay (Traefik's rule: 0 for a
 * service without serversTransport).
 */
function fromOtherAddress(port: number, send: string | null): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    let data = '';
    s.setEncoding('latin1');
    s.on('connect', () => {
      if (send !== null) s.write(send);
    });
    s.on('data', (d: string) => {
      data += d;
      if (send === null && data.includes('\n')) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(data));
    setTimeout(() => s.destroy(), 10_000).unref();
  });
}

describe('PROXY protocol', () => {
  let pki: Issued;
  let ca: TestPki;
  let backend: Backend;
  let declared: TcpBackend;
  let others: TcpBackend;
  let receiver: Haproxy;
  let sender: Haproxy;
  let proxy: ProxyProcess;
  let dir: string;
  const ports: Record<string, number> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-pp-'));
    ca = new TestPki('PP CA');
    pki = ca.issue('a.test', ['a.test']);
    backend = await startBackend((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ xff: req.headers['x-forwarded-for'] ?? '', ppSrc: req.headers['x-pp-src'] ?? '' }),
      );
    });
    declared = await startBannerServer('declared\n');
    others = await startBannerServer('others\n');
    for (const n of ['r1', 'f1', 'f2', 'f3', 'f4', 'f5']) ports[n] = await freePort();
    // Behind us: reads our header and tells the backend the source it declared.
    receiver = await startHaproxy(
      `global
  maxconn 100
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend r1
  bind 127.0.0.1:${ports.r1} accept-proxy
  http-request set-header X-PP-Src %[src]
  default_backend web
backend web
  server w 127.0.0.1:${backend.port}
`,
      dir,
      [ports.r1!],
    );
    proxy = await startProxy({
      config: `entryPoints:
  pp:
    address: "127.0.0.1:0"
    proxyProtocol: { trustedIPs: ["127.0.0.1"] }
  ppTls:
    address: "127.0.0.1:0"
    proxyProtocol: { trustedIPs: ["127.0.0.1/32"] }
  ppTcp:
    address: "127.0.0.1:0"
    proxyProtocol: { trustedIPs: ["127.0.0.1"] }
  untrusted:
    address: "127.0.0.1:0"
    proxyProtocol: { trustedIPs: ["10.0.0.0/8"] }
  untrustedTcp:
    address: "127.0.0.1:0"
    proxyProtocol: { trustedIPs: ["10.0.0.0/8"] }
  tcpOut1:
    address: "127.0.0.1:0"
  tcpOut2:
    address: "127.0.0.1:0"
  httpOut:
    address: "127.0.0.1:0"
log: { level: DEBUG }
accessLog: { format: json }
http:
  routers:
    pp: { entryPoints: [pp, untrusted], rule: "PathPrefix(\`/\`)", service: echo }
    ppTls: { entryPoints: [ppTls], rule: "Host(\`a.test\`)", service: echo, tls: {} }
    httpOut: { entryPoints: [httpOut], rule: "PathPrefix(\`/\`)", service: viaHaproxy }
  services:
    echo: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
    viaHaproxy: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${ports.r1}" }], serversTransport: pp2 } }
  serversTransports:
    pp2: { proxyProtocol: {} }
tcp:
  routers:
    declared: { entryPoints: [ppTcp], rule: "ClientIP(\`127.0.0.2\`)", service: declared }
    others: { entryPoints: [ppTcp, untrustedTcp], rule: "HostSNI(\`*\`)", service: others }
    forged: { entryPoints: [untrustedTcp], rule: "ClientIP(\`192.0.2.7\`)", service: declared }
    out1: { entryPoints: [tcpOut1], rule: "HostSNI(\`*\`)", service: out1 }
    out2: { entryPoints: [tcpOut2], rule: "HostSNI(\`*\`)", service: out2 }
  services:
    declared: { loadBalancer: { servers: [{ address: "${declared.address}" }] } }
    others: { loadBalancer: { servers: [{ address: "${others.address}" }] } }
    out1: { loadBalancer: { servers: [{ address: "127.0.0.1:${ports.r1}" }], serversTransport: v1 } }
    out2: { loadBalancer: { servers: [{ address: "127.0.0.1:${ports.r1}" }], serversTransport: v2 } }
  serversTransports:
    v1: { proxyProtocol: { version: 1 } }
    v2: { proxyProtocol: { version: 2 } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
`,
      files: { 'a.pem': pki.certPem, 'a.key': pki.keyPem },
    });
    // In front of us: sends the header of each client it takes.
    const to = (ep: string): string => `127.0.0.1:${proxy.ports[ep]}`;
    sender = await startHaproxy(
      `global
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen f1
  bind 127.0.0.1:${ports.f1}
  server s ${to('pp')} send-proxy
listen f2
  bind 127.0.0.1:${ports.f2}
  server s ${to('pp')} send-proxy-v2
listen f3
  bind 127.0.0.1:${ports.f3}
  server s ${to('ppTls')} send-proxy-v2
listen f4
  bind 127.0.0.1:${ports.f4}
  server s ${to('ppTcp')} send-proxy
listen f5
  bind 127.0.0.1:${ports.f5}
  server s ${to('ppTcp')} send-proxy-v2
`,
      mkdtempSync(join(dir, 'front-')),
      [ports.f1!, ports.f2!, ports.f3!, ports.f4!, ports.f5!],
    );
  });

  after(async () => {
    await sender?.stop();
    await proxy?.stop('SIGTERM', 3_000);
    await receiver?.stop();
    await Promise.all([backend?.close(), declared?.close(), others?.close()]);
    ca?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the client address from HAProxy send-proxy (v1) and send-proxy-v2 headers, for HTTP', async () => {
    for (const f of ['f1', 'f2']) {
      const r = await curl(['--interface', '127.0.0.2', `http://127.0.0.1:${ports[f]}/`]);
      assert.equal(r.status, 200, r.stderr);
      assert.deepEqual(JSON.parse(r.body.toString()), { xff: '127.0.0.2', ppSrc: '' }, f);
    }
    // The access log names the declared client too (it is written in batches: wait for it).
    const lines = (): string[] =>
      proxy
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"RouterName":"pp@file"'));
    for (let i = 0; i < 100 && lines().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(lines().length, 2, proxy.stdout());
    for (const l of lines()) assert.equal(JSON.parse(l).ClientHost, '127.0.0.2', l);
  });

  it('takes it before TLS: an HTTPS router behind send-proxy-v2 sees the declared client', async () => {
    const r = await curl([
      '--interface',
      '127.0.0.2',
      '--cacert',
      ca.ca.certFile,
      '--resolve',
      `a.test:${ports.f3}:127.0.0.1`,
      `https://a.test:${ports.f3}/`,
    ]);
    assert.equal(r.status, 200, r.stderr);
    assert.equal(JSON.parse(r.body.toString()).xff, '127.0.0.2');
  });

  it('routes TCP by the declared address (ClientIP), with v1 and v2', async () => {
    assert.equal(await fromOtherAddress(ports.f4!, null), 'declared\n');
    assert.equal(await fromOtherAddress(ports.f5!, null), 'declared\n');
    // Without a header (it is optional) the connection's own address counts.
    const direct = await tcpExchange(proxy.ports['ppTcp']!, null, { untilData: '\n' });
    assert.equal(direct.data.toString(), 'others\n');
  });

  it("ignores an untrusted peer's header (Traefik: go-proxyproto IGNORE), serves it without one, closes a malformed one", async () => {
    // HTTP: the header is read and dropped; the request is served with the peer's own address.
    const withHeader = await tcpExchange(
      proxy.ports['untrusted']!,
      'PROXY TCP4 192.0.2.7 127.0.0.1 5000 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const text = withHeader.data.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 /, text);
    assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).xff, '127.0.0.1');
    // TCP: ClientIP sees the peer, not the declared 192.0.2.7, and the header never reaches the
    // server (which echoes what it gets after its banner).
    const tcp = await tcpExchange(
      proxy.ports['untrustedTcp']!,
      'PROXY TCP4 192.0.2.7 127.0.0.1 5000 80\r\nping\n',
      { untilData: 'ping\n' },
    );
    assert.equal(tcp.data.toString(), 'others\nping\n');
    const plain = await curl([`http://127.0.0.1:${proxy.ports['untrusted']}/`]);
    assert.equal(plain.status, 200);
    assert.equal(JSON.parse(plain.body.toString()).xff, '127.0.0.1');
    const malformed = await tcpExchange(
      proxy.ports['pp']!,
      'PROXY TCP4 192.0.2.7 oops\r\nGET / HTTP/1.1\r\n\r\n',
    );
    assert.equal(malformed.data.length, 0);
    assert.notEqual(malformed.how, 'timeout');
  });

  it('sends v1 and v2 headers to a TCP server (HAProxy accept-proxy reads our client)', async () => {
    for (const ep of ['tcpOut1', 'tcpOut2']) {
      const reply = await fromOtherAddress(
        proxy.ports[ep]!,
        'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
      assert.equal(JSON.parse(body).ppSrc, '127.0.0.2', `${ep}: ${reply}`);
    }
  });

  it('sends a header on HTTP service connections too (ours), one connection per client', async () => {
    const r = await curl(['--interface', '127.0.0.2', `http://127.0.0.1:${proxy.ports['httpOut']}/a`]);
    assert.equal(r.status, 200, r.stderr);
    assert.equal(JSON.parse(r.body.toString()).ppSrc, '127.0.0.2');
    const other = await curl([`http://127.0.0.1:${proxy.ports['httpOut']}/b`]);
    assert.equal(
      JSON.parse(other.body.toString()).ppSrc,
      '127.0.0.1',
      'not the connection of the first client',
    );
  });
});
