/**
 * GHSA-g55h-rg46-x9c5 (Traefik before v3.7.11): client-certificate options on a router with several
 * hosts (``Host(`a`) || Host(`b`)``) bypassed when another router asks other options for one of its
 * hosts. Through the real proxy, with real TLS clients (HTTP/1.1 and HTTP/2, with and without a
 * client certificate): the host no other router claims keeps its client certificates; a request
 * for it on a connection whose SNI got other options (another host, the conflicting host, none) is
 * answered 421 Misdirected Request, on HTTP/1.1 and HTTP/2 alike. A wildcard host with client
 * certificates keeps them whatever the case of SNI or Host (GHSA-5r4w-85f3-pw66, GHSA-9cr8-q42q-g8m7).
 * A router negating the host (`!Host`) claims none (CVE-2026-114656).
 */
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('mTLS options on a router with several hosts (GHSA-g55h-rg46-x9c5)', () => {
  let pki: TestPki;
  let cert: Issued;
  let client: Issued;
  let backend: Backend;
  let proxy: ProxyProcess;
  let port = 0;

  before(async () => {
    pki = new TestPki('multi-host mTLS CA');
    cert = pki.issue('a.test', ['a.test', 'b.test', 'c.test', '*.w.test']);
    client = pki.issue('client', []);
    backend = await startBackend((req, res) => res.end(`backend ${req.url}`));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
http:
  routers:
    # The protected router serves two hosts.
    multi: { rule: "Host(\`a.test\`) || Host(\`b.test\`)", service: be, tls: { options: mtls } }
    # Another router (another tenant) asks the default options for one of them: b.test conflicts.
    other: { rule: "Host(\`b.test\`) && PathPrefix(\`/other\`)", service: be, tls: {} }
    open: { rule: "Host(\`c.test\`)", service: be, tls: {} }
    # A negated Host claims no host (Traefik v3.7.13, CVE-2026-114656): no conflict on a.test.
    neg: { rule: "!Host(\`a.test\`) && PathPrefix(\`/neg\`)", service: be, tls: {} }
    # A wildcard host with client certificates (GHSA-5r4w-85f3-pw66, GHSA-9cr8-q42q-g8m7).
    wild: { rule: "Host(\`*.w.test\`)", service: be, tls: { options: mtls } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    mtls:
      clientAuth:
        caFiles: [ca.pem]
        clientAuthType: RequireAndVerifyClientCert
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem, 'ca.pem': pki.ca.certPem },
    });
    port = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await backend?.close();
    pki?.remove();
  });

  /** One HTTP/1.1 request: its status, or the error's code when the connection failed. */
  const h1 = (servername: string, host: string, withCert: boolean): Promise<number | string> =>
    new Promise((resolve) => {
      httpsRequest(
        {
          port,
          host: '127.0.0.1',
          path: '/x',
          servername,
          headers: { host },
          ca: pki.ca.certPem,
          rejectUnauthorized: false,
          ...(withCert ? { cert: client.certPem, key: client.keyPem } : {}),
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
        .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
        .end();
    });

  /** One HTTP/1.1 request on a connection without SNI (node sends none to an IP literal): its status line. */
  const noSni = (host: string): Promise<string> =>
    new Promise((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      let text = '';
      s.on('secureConnect', () => s.end(`GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      s.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      s.on('close', () => resolve(text));
    });

  /** One HTTP/2 request with `:authority` `authority` on a connection whose SNI is `servername`. */
  const h2 = (servername: string, authority: string): Promise<number | string> =>
    new Promise((resolve) => {
      const session = h2connect(`https://${authority}:${port}`, {
        host: '127.0.0.1',
        port,
        servername,
        ca: pki.ca.certPem,
        rejectUnauthorized: false,
      });
      session.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      const req = session.request({ ':path': '/x', ':authority': authority });
      req.on('response', (headers) => {
        resolve(Number(headers[':status']));
        session.close();
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        resolve(e.code ?? e.message);
        session.close();
      });
      req.resume();
      req.end();
    });

  it('keeps the client certificates of the host no other router claims', async () => {
    assert.equal(typeof (await h1('a.test', 'a.test', false)), 'string', 'a.test without a certificate');
    assert.equal(await h1('a.test', 'a.test', true), 200);
    assert.equal(await h1('c.test', 'c.test', false), 200);
  });

  it('answers 421 on HTTP/1.1 to that host on a connection whose SNI got other options', async () => {
    const before = backend.seen.length;
    assert.equal(await h1('c.test', 'a.test', false), 421, 'SNI of another host');
    assert.equal(await h1('b.test', 'a.test', false), 421, 'SNI of the conflicting host of the same router');
    const misdirected = await noSni('a.test');
    assert.match(misdirected, /^HTTP\/1\.1 421 /, 'no SNI');
    // Traefik's SNI check answers with http.Error: its type, nosniff, the status text and a newline.
    assert.match(misdirected, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    assert.match(misdirected, /\r\nX-Content-Type-Options: nosniff\r\n/);
    assert.ok(misdirected.endsWith('\r\n\r\nMisdirected Request\n'), JSON.stringify(misdirected));
    assert.equal(backend.seen.length, before, 'nothing reached the backend');
  });

  it('answers 421 on HTTP/2 to that host on a connection whose SNI got other options', async () => {
    const before = backend.seen.length;
    assert.equal(await h2('c.test', 'a.test'), 421);
    assert.equal(await h2('b.test', 'a.test'), 421);
    assert.equal(await h2('c.test', 'c.test'), 200);
    assert.equal(backend.seen.length, before + 1);
  });

  it('keeps the client certificates of a wildcard host, whatever the case of the SNI or Host (GHSA-5r4w-85f3-pw66)', async () => {
    const before = backend.seen.length;
    assert.equal(typeof (await h1('api.w.test', 'api.w.test', false)), 'string', 'no certificate');
    assert.equal(
      typeof (await h1('API.W.Test', 'api.w.test', false)),
      'string',
      'mixed-case SNI, no certificate',
    );
    assert.equal(await h1('api.w.test', 'api.w.test', true), 200);
    assert.equal(await h1('c.test', 'api.w.test', false), 421);
    assert.equal(await h1('c.test', 'API.W.TEST', false), 421);
    assert.equal(await h2('c.test', 'api.w.test'), 421);
    assert.equal(backend.seen.length, before + 1);
  });

  it('keeps them when another router negates the host (CVE-2026-114656: Traefik before v3.7.13 counted !Host)', async () => {
    assert.equal(typeof (await h1('a.test', 'a.test', false)), 'string', 'no certificate');
    assert.equal(await h1('a.test', 'a.test', true), 200);
    // The negating router serves the other hosts, with the default options.
    assert.equal(await h1('c.test', 'c.test', false), 200);
  });

  it('warns of the conflicting host and the routers asking for it', () => {
    const lines = proxy.logs
      .map((l) => JSON.stringify(l))
      .filter((l) => l.includes('ask for different TLS options'));
    assert.ok(
      lines.length > 0 && lines.every((l) => l.includes('b.test') && !l.includes('a.test')),
      lines.join('\n'),
    );
  });
});
