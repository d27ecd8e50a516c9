/**
 * A proxy whose configuration terminates no TLS (no router with `tls`, no TLS entry point, no
 * resolver) still answers a ClientHello on its HTTP entry points as Traefik does: Traefik's TCP
 * router hands any ClientHello that no TLS router takes to its HTTPS forwarder, always set, with
 * the default TLS options and the default store (pkg/server/router/tcp/manager.go
 * buildEntryPointHandler, router.go ServeTCP; pkg/tls/tlsmanager.go Get). So: the certificates
 * of `tls.certificates` by SNI, else the default (generated) certificate, `sniStrict` of the
 * default options refusing unknown names; then the HTTPS handler, which has no router: 404.
 * TLS is loaded here on that first ClientHello; plain HTTP on the same port is served as before.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect as connectH2 } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, selfSignedCertificate } from '../helpers/tls-certs.ts';
import { startWorkers } from '../helpers/workers.ts';

const DEFAULT_CN = 'TRAEFIK DEFAULT CERT';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly subjectCN: string;
}

/** One HTTPS GET to 127.0.0.1:`port` with SNI `servername` (certificates not verified). */
function httpsGet(port: number, servername: string, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, servername, path, rejectUnauthorized: false, agent: false, timeout: 10_000 },
      (res) => {
        const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate() as PeerCertificate;
        const cn = peer.subject?.CN;
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            subjectCN: Array.isArray(cn) ? cn.join(',') : (cn ?? ''),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** One cleartext GET to 127.0.0.1:`port`. */
function httpGet(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The status of one HTTP/2 GET over TLS (SNI snitest.com, certificate not verified). */
function h2Status(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = connectH2(`https://127.0.0.1:${port}`, {
      servername: 'snitest.com',
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => session.destroy(new Error('timeout')), 10_000);
    session.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const req = session.request({ ':path': '/' });
    req.on('response', (h) => {
      clearTimeout(timer);
      resolve(Number(h[':status']));
      session.close();
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS on a proxy that has loaded none (Traefik: default store, default options, 404)', () => {
  let backend: Backend;
  const proxies: ProxyProcess[] = [];

  before(async () => {
    backend = await startBackend((_req, res) => res.end('plain'));
  });
  after(async () => {
    for (const p of proxies) await p.stop();
    await backend?.close();
  });

  async function start(
    extra = '',
    files: Record<string, string> = {},
    workers = false,
  ): Promise<ProxyProcess> {
    const p = await (workers ? startWorkers : startProxy)({
      config: `${workers ? 'workers: 2\n' : ''}entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
${extra}`,
      files,
    });
    proxies.push(p);
    return p;
  }

  it('only a plain HTTP router: the generated default certificate, then 404; cleartext still served', async () => {
    const p = await start();
    assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
    const r = await httpsGet(p.port, 'snitest.com');
    assert.equal(r.subjectCN, DEFAULT_CN);
    assert.equal(r.status, 404);
    // Without SNI too, and HTTP/2 offered by the default options' ALPN.
    const h = await handshake({ port: p.port, alpn: ['h2', 'http/1.1'] });
    assert.ok(h.ok, h.ok ? '' : h.error);
    assert.equal(h.subjectCN, DEFAULT_CN);
    assert.equal(h.alpn, 'h2');
    assert.equal(await h2Status(p.port), 404);
    assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
  });

  it('a ClientHello offering acme-tls/1 (with h2 too) is refused: no challenge certificate is pending', async () => {
    // Traefik's tlsmanager Get: isACMETLS asks the ACME challenge store only, whatever else is offered.
    const p = await start();
    const both = await handshake({ port: p.port, servername: 'snitest.com', alpn: ['h2', 'acme-tls/1'] });
    assert.equal(both.ok, false);
    const h2 = await handshake({ port: p.port, servername: 'snitest.com', alpn: ['h2'] });
    assert.ok(h2.ok, h2.ok ? '' : h2.error);
    assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
  });

  it('tls.certificates without any TLS router: the certificate its SNI names, else the default one', async () => {
    const c = selfSignedCertificate(['a.loaded.test'], { commonName: 'a.loaded.test' });
    const p = await start(
      `tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
`,
      { 'a.pem': c.certPem, 'a.key': c.keyPem },
    );
    const a = await httpsGet(p.port, 'a.loaded.test');
    assert.equal(a.subjectCN, 'a.loaded.test');
    assert.equal(a.status, 404);
    const other = await httpsGet(p.port, 'b.loaded.test');
    assert.equal(other.subjectCN, DEFAULT_CN);
    assert.equal(other.status, 404);
    assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
  });

  it('tls.certificates without any TLS router are loaded with the configuration: /api/certificates lists them', async () => {
    // Traefik's tlsManager takes the certificates whatever the routers (UpdateConfigs), and the
    // API lists them (GetServerCertificates) before any handshake.
    const c = selfSignedCertificate(['a.api.test'], { commonName: 'a.api.test' });
    const p = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, entryPoints: [web] }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
`,
      files: { 'a.pem': c.certPem, 'a.key': c.keyPem },
    });
    proxies.push(p);
    let names: string[] = [];
    // The first configuration is applied before TLS has loaded: bounded wait for the next.
    for (let i = 0; i < 50 && names.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const r = await fetch(`http://127.0.0.1:${p.ports['traefik']}/api/certificates`);
      assert.equal(r.status, 200);
      names = ((await r.json()) as { commonName: string }[]).map((x) => x.commonName);
    }
    assert.deepEqual(names, ['a.api.test']);
    assert.deepEqual(await httpGet(p.ports['web']!), { status: 200, body: 'plain' });
  });

  it('tls.options.default.sniStrict without any TLS router: an unknown name is refused, a known one served', async () => {
    const c = selfSignedCertificate(['a.strict.test'], { commonName: 'a.strict.test' });
    const p = await start(
      `tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
  options:
    default:
      sniStrict: true
`,
      { 'a.pem': c.certPem, 'a.key': c.keyPem },
    );
    const refused = await handshake({ port: p.port, servername: 'b.strict.test' });
    assert.equal(refused.ok, false);
    const a = await httpsGet(p.port, 'a.strict.test');
    assert.equal(a.subjectCN, 'a.strict.test');
    assert.equal(a.status, 404);
    assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
  });

  it('TLS loaded for another router: an entry point without HTTPS routers still answers 404, sniStrict applies', async () => {
    const c = selfSignedCertificate(['a.other.test'], { commonName: 'a.other.test' });
    const addr = new URL(backend.url).host;
    // A TCP router terminating TLS on `web` loads TLS; HTTPS requests still have no HTTPS router
    // there (Traefik: the HTTPS handler of `web` has none, 404), not the cleartext `all`.
    const p = await start(
      `tcp:
  routers:
    t: { rule: "HostSNI(\`tcp.other.test\`)", service: ts, tls: {} }
  services:
    ts: { loadBalancer: { servers: [{ address: "${addr}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
  options:
    default:
      sniStrict: true
`,
      { 'a.pem': c.certPem, 'a.key': c.keyPem },
    );
    const a = await httpsGet(p.port, 'a.other.test');
    assert.equal(a.subjectCN, 'a.other.test');
    assert.equal(a.status, 404);
    const refused = await handshake({ port: p.port, servername: 'b.other.test' });
    assert.equal(refused.ok, false);
    assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
  });

  it('workers: each worker loads TLS on its first ClientHello: default certificate, 404', async () => {
    const p = await start('', {}, true);
    const loaded = () =>
      new Set(
        p.logs
          .filter((l) => l.msg === 'loading TLS for a ClientHello (no router terminates TLS)')
          .map((l) => l.worker),
      );
    // One connection each: the kernel spreads them over both workers (bounded: 40 at most).
    for (let i = 0; i < 40 && (i < 6 || loaded().size < 2); i++) {
      const r = await httpsGet(p.port, 'snitest.com');
      assert.equal(r.subjectCN, DEFAULT_CN);
      assert.equal(r.status, 404);
      assert.deepEqual(await httpGet(p.port), { status: 200, body: 'plain' });
    }
    assert.deepEqual([...loaded()].sort(), [1, 2], 'each worker loaded TLS for its first ClientHello');
  });
});
