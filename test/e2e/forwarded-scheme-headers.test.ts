/**
 * `entryPoints.<ep>.forwardedHeaders.addXForwardedSchemeHeaders` (Traefik v3.8, PR #12914),
 * through the real proxy process and a real node:http backend: X-Forwarded-Scheme and X-Scheme
 * are set to the X-Forwarded-Proto the request goes on with (pkg/middlewares/forwardedheaders
 * forwarded_header.go rewrite), over HTTP/1.1, h2c and HTTPS; never added without the option.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';

function rawValues(seen: Backend['seen'][number], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) {
    if (seen.rawHeaders[i]!.toLowerCase() === name) out.push(seen.rawHeaders[i + 1]!);
  }
  return out;
}

describe('forwardedHeaders.addXForwardedSchemeHeaders', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  const cert = selfSignedCertificate(['echo.test']);

  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      config: `entryPoints:
  plain:
    address: "127.0.0.1:0"
    forwardedHeaders: { addXForwardedSchemeHeaders: true }
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"], addXForwardedSchemeHeaders: true }
  secure:
    address: "127.0.0.1:0"
    http: { tls: {} }
    forwardedHeaders: { addXForwardedSchemeHeaders: true }
  without:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: INFO }
tls:
  certificates:
    - { certFile: echo.pem, keyFile: echo.key }
http:
  routers:
    echo: { rule: "Host(\`echo.test\`)", service: echo }
  services:
    echo:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
      files: { 'echo.pem': cert.certPem, 'echo.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  async function h1(ep: string, fields: string): Promise<Backend['seen'][number]> {
    const before = backend.seen.length;
    const r = await rawRequest(proxy.ports[ep]!, `GET /s HTTP/1.1\r\nHost: echo.test\r\n${fields}\r\n`, {
      responses: 1,
      timeoutMs: 5000,
    });
    assert.equal(r.responses[0]?.status, 200);
    assert.equal(backend.seen.length, before + 1);
    return backend.seen[before]!;
  }

  const schemes = (seen: Backend['seen'][number]) => [
    rawValues(seen, 'x-forwarded-proto'),
    rawValues(seen, 'x-forwarded-scheme'),
    rawValues(seen, 'x-scheme'),
  ];

  it('sets both to our scheme for an untrusted peer, whatever it claimed', async () => {
    const seen = await h1(
      'plain',
      'X-Forwarded-Scheme: https\r\nX-Scheme: https\r\nX-Forwarded-Proto: https\r\n',
    );
    assert.deepEqual(schemes(seen), [['http'], ['http'], ['http']]);
  });

  it("sets both to a trusted peer's X-Forwarded-Proto, replacing what it sent under those names", async () => {
    const seen = await h1('trusted', 'X-Forwarded-Proto: https\r\nX-Scheme: gopher\r\n');
    assert.deepEqual(schemes(seen), [['https'], ['https'], ['https']]);
    assert.deepEqual(schemes(await h1('trusted', '')), [['http'], ['http'], ['http']]);
  });

  it('sets ws for a WebSocket handshake, as X-Forwarded-Proto', async () => {
    const seen = await h1(
      'plain',
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    );
    assert.deepEqual(schemes(seen), [['ws'], ['ws'], ['ws']]);
  });

  it('sets https over TLS and over HTTP/2, and h2c', async () => {
    const before = backend.seen.length;
    const tls = await curl([
      '--http2',
      '--cacert',
      `${proxy.dir}/echo.pem`,
      '--resolve',
      `echo.test:${proxy.ports['secure']}:127.0.0.1`,
      `https://echo.test:${proxy.ports['secure']}/tls`,
    ]);
    assert.equal(tls.status, 200, tls.stderr);
    assert.equal(tls.transfers[0]?.info['http_version'], '2');
    assert.deepEqual(schemes(backend.seen[before]!), [['https'], ['https'], ['https']]);
    const h2c = await curl([
      '--http2-prior-knowledge',
      '-H',
      'X-Forwarded-Proto: https',
      `http://echo.test:${proxy.ports['trusted']}/h2c`,
      '--connect-to',
      `echo.test:${proxy.ports['trusted']}:127.0.0.1:${proxy.ports['trusted']}`,
    ]);
    assert.equal(h2c.status, 200, h2c.stderr);
    assert.equal(h2c.transfers[0]?.info['http_version'], '2');
    assert.deepEqual(schemes(backend.seen[before + 1]!), [['https'], ['https'], ['https']]);
  });

  it("adds neither without the option, and leaves a trusted peer's as they came", async () => {
    assert.deepEqual(schemes(await h1('without', '')), [['http'], [], []]);
    assert.deepEqual(schemes(await h1('without', 'X-Scheme: gopher\r\n')), [['http'], [], ['gopher']]);
  });
});
