/**
 * The ACME client's HTTPS transport against a CA on loopback that stalls: Traefik's
 * `clientResponseHeaderTimeout` bounds the wait for the response head, `clientTimeout` the
 * request whole (pkg/provider/acme/provider.go createHTTPClient).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
} from 'node:net';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../x509/index.ts';
import { httpsTransport } from './acme-transport.ts';

describe('httpsTransport timeouts (clientTimeout, clientResponseHeaderTimeout)', () => {
  const cert = selfSignedCertificate(['127.0.0.1']);
  let server: Server;
  let base: string;
  /** What the CA does with each request, by path. */
  const behaviour = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

  before(async () => {
    server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      behaviour.get(req.url ?? '')?.(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('gives up on a CA that never sends the response head after clientResponseHeaderTimeout', async () => {
    behaviour.set('/silent', () => {});
    const t = httpsTransport({
      caCertificates: cert.certPem,
      timeoutMs: 60_000,
      responseHeaderTimeoutMs: 100,
    });
    await assert.rejects(
      t.send({ method: 'GET', url: `${base}/silent` }),
      /GET https:\/\/127\.0\.0\.1:\d+\/silent: no response headers within clientResponseHeaderTimeout \(100 ms\)/,
    );
    t.close();
  });

  it('bounds the wait for the head on a kept-alive connection too', async () => {
    behaviour.set('/dir', (_req, res) => res.end('{}'));
    behaviour.set('/silent', () => {});
    const t = httpsTransport({
      caCertificates: cert.certPem,
      timeoutMs: 60_000,
      responseHeaderTimeoutMs: 100,
    });
    const first = await t.send({ method: 'GET', url: `${base}/dir` });
    assert.equal(first.status, 200);
    await assert.rejects(
      t.send({ method: 'POST', url: `${base}/silent`, body: '{}' }),
      /no response headers within clientResponseHeaderTimeout \(100 ms\)/,
    );
    t.close();
  });

  it('gives up on a body that never ends after clientTimeout, the head having come in time', async () => {
    behaviour.set('/trickle', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' });
      res.write('-----BEGIN CERTIFICATE-----\n');
    });
    const t = httpsTransport({ caCertificates: cert.certPem, timeoutMs: 300, responseHeaderTimeoutMs: 100 });
    await assert.rejects(
      t.send({ method: 'GET', url: `${base}/trickle` }),
      /no complete response within clientTimeout \(300 ms\)/,
    );
    t.close();
  });
});

describe("httpsTransport trust of the CA (Traefik's caServerName, caSystemCertPool)", () => {
  // The CA's certificate names ca.test only: reached at 127.0.0.1, only caServerName makes it fit.
  const cert = selfSignedCertificate(['ca.test']);
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) =>
      res.end(JSON.stringify({ sni: (req.socket as import('node:tls').TLSSocket).servername })),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const get = async (opts: Parameters<typeof httpsTransport>[0]) => {
    const t = httpsTransport(opts);
    try {
      return await t.send({ method: 'GET', url: `${base}/dir` });
    } finally {
      t.close();
    }
  };

  it('checks the certificate against caServerName, and sends it as SNI', async () => {
    await assert.rejects(get({ caCertificates: cert.certPem }), /IP: 127\.0\.0\.1 is not in the cert's list/);
    const r = await get({ caCertificates: cert.certPem, caServerName: 'ca.test' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { sni: 'ca.test' });
  });

  it('keeps caCertificates trusted with caSystemCertPool, and trusts no private CA without them', async () => {
    const r = await get({ caCertificates: cert.certPem, caSystemCertPool: true, caServerName: 'ca.test' });
    assert.equal(r.status, 200);
    // lego's CreateCertPool: a server name alone is an empty pool (the system's with caSystemCertPool).
    await assert.rejects(get({ caServerName: 'ca.test' }), /self-signed|unable to get local issuer/i);
    await assert.rejects(
      get({ caServerName: 'ca.test', caSystemCertPool: true }),
      /self-signed|unable to get local issuer/i,
    );
  });
});

describe("httpsTransport through HTTPS_PROXY (Go's ProxyFromEnvironment, lego's default transport)", () => {
  const cert = selfSignedCertificate(['ca.test']);
  let server: Server;
  let port = 0;
  let proxy: NetServer;
  const connects: string[] = [];

  before(async () => {
    server = createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    // A CONNECT proxy on loopback: every tunnel goes to the CA above, whatever host it names.
    proxy = createNetServer((s) => {
      s.once('data', (d: Buffer) => {
        connects.push(d.toString('latin1').split('\r\n')[0]!);
        const up = connect(port, '127.0.0.1', () => {
          s.write('HTTP/1.1 200 Connection established\r\n\r\n');
          s.pipe(up).pipe(s);
        });
        up.on('error', () => s.destroy());
        s.on('error', () => up.destroy());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => proxy.close(r));
  });

  const env = (): NodeJS.ProcessEnv => ({
    HTTPS_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  });

  it('tunnels to the CA through the proxy with CONNECT', async () => {
    const t = httpsTransport({ caCertificates: cert.certPem, env: env() });
    try {
      const r = await t.send({ method: 'GET', url: 'https://ca.test/dir' });
      assert.equal(r.status, 200);
      assert.equal(r.body, '{"ok":true}');
      assert.deepEqual(connects, ['CONNECT ca.test:443 HTTP/1.1']);
    } finally {
      t.close();
    }
  });

  it('goes to a loopback CA directly, as Go never proxies localhost', async () => {
    connects.length = 0;
    const t = httpsTransport({ caCertificates: cert.certPem, caServerName: 'ca.test', env: env() });
    try {
      const r = await t.send({ method: 'GET', url: `https://127.0.0.1:${port}/dir` });
      assert.equal(r.status, 200);
      assert.deepEqual(connects, []);
    } finally {
      t.close();
    }
  });
});
