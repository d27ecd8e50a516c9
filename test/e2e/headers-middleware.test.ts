import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';

/*
 * The headers middleware through the real proxy, as Traefik v3 has it (pkg/middlewares/headers
 * and unrolled/secure): custom request headers (a Host override, removals), CORS preflights and
 * responses (with Traefik's June 2026 fixes), Strict-Transport-Security only over TLS or from a
 * trusted proxy's X-Forwarded-Proto, and allowedHosts' 500 carrying the custom response headers;
 * over HTTP/1.1 and HTTP/2.
 */

describe('headers middleware', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let pki: TestPki;
  let seen = 0;
  const port = (ep: string) => proxy.ports[ep] ?? 0;

  before(async () => {
    backend = await startBackend((req, res) => {
      seen++;
      res.writeHead(200, { 'content-type': 'application/json', 'x-frame-options': 'ALLOWALL' });
      res.end(JSON.stringify(req.headers));
    });
    pki = new TestPki();
    const cert = pki.issue('proxy', ['127.0.0.1']);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  secure:
    address: "127.0.0.1:0"
    http: { tls: {} }
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: INFO }
tls:
  certificates:
    - { certFile: "${cert.certFile}", keyFile: "${cert.keyFile}" }
http:
  routers:
    custom: { rule: "PathPrefix(\`/custom\`)", service: be, middlewares: [custom] }
    cors: { rule: "PathPrefix(\`/cors\`)", service: be, middlewares: [cors] }
    credentials: { rule: "PathPrefix(\`/credentials\`)", service: be, middlewares: [credentials] }
    secure: { rule: "PathPrefix(\`/secure\`)", service: be, middlewares: [secure] }
    lists: { rule: "PathPrefix(\`/lists\`)", service: be, middlewares: [lists] }
    csp: { rule: "PathPrefix(\`/csp\`)", service: be, middlewares: [csp] }
  middlewares:
    # A CSP written as a YAML block (Padumond/traefik-proxy in the corpus): Traefik loads it.
    csp:
      headers:
        contentSecurityPolicy: |
          default-src 'self';
          img-src 'self' data:
        customResponseHeaders:
          X-Robots-Tag: >
            noindex,
            nofollow
    custom:
      headers:
        customRequestHeaders: { Host: "backend.test", User-Agent: "", X-Forwarded-For: "", X-Added: "yes" }
        customResponseHeaders: { Content-Type: "", X-Served-By: edge }
    cors:
      headers:
        accessControlAllowOriginList: ["https://app.test"]
        accessControlAllowMethods: [GET, PUT]
        accessControlExposeHeaders: [X-Total]
    credentials:
      headers:
        accessControlAllowCredentials: true
        accessControlAllowOriginList: ["*"]
        accessControlAllowMethods: ["*"]
        accessControlAllowHeaders: ["*"]
        accessControlExposeHeaders: ["*"]
        accessControlMaxAge: 600
    lists:
      headers:
        accessControlAllowOriginList: ["https://app.test"]
        accessControlAllowMethods: ["GET, POST", OPTIONS]
        accessControlAllowHeaders: ["Content-Type, Authorization"]
        accessControlExposeHeaders: ["X-Total, X-Page"]
    secure:
      headers:
        stsSeconds: 300
        stsIncludeSubdomains: true
        publicKey: "pin-sha256=\\"base64==\\"; max-age=10"
        frameDeny: true
        allowedHosts: ["good.test"]
        hostsProxyHeaders: [X-Forwarded-Host]
        sslProxyHeaders: { X-Forwarded-Proto: https }
        customResponseHeaders: { X-Served-By: edge }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it("response values with line breaks load and go out as Go's server writes them: over HTTP/1.1 each CR/LF a space, ends trimmed; over HTTP/2 dropped", async () => {
    const r = await curl([`http://127.0.0.1:${port('web')}/csp`]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers['content-security-policy'], ["default-src 'self'; img-src 'self' data:"]);
    assert.deepEqual(r.headers['x-robots-tag'], ['noindex, nofollow']);
    const h2 = await curl([
      '--http2',
      '--cacert',
      pki.ca.certFile,
      `https://127.0.0.1:${port('secure')}/csp`,
    ]);
    assert.equal(h2.status, 200);
    assert.equal(h2.headers['content-security-policy'], undefined);
    assert.equal(h2.headers['x-robots-tag'], undefined);
  });

  it('custom request headers: a Host override, an empty value removing the field (X-Forwarded-For entirely)', async () => {
    const r = await curl([
      '-H',
      'User-Agent: client',
      '-H',
      'X-Forwarded-For: 203.0.113.9',
      `http://127.0.0.1:${port('web')}/custom`,
    ]);
    const got = JSON.parse(r.body.toString()) as Record<string, string>;
    assert.equal(got.host, 'backend.test');
    assert.equal(got['user-agent'], undefined);
    assert.equal(got['x-forwarded-for'], undefined);
    assert.equal(got['x-added'], 'yes');
    assert.equal(r.headers['content-type'], undefined, 'an empty customResponseHeaders value removes it');
    assert.deepEqual(r.headers['x-served-by'], ['edge']);
  });

  for (const proto of ['--http1.1', '--http2']) {
    it(`CORS preflight over ${proto.slice(2)}: answered here, 200 and empty, Max-Age only when configured, Expose-Headers`, async () => {
      const before = seen;
      const url = `https://127.0.0.1:${port('secure')}`;
      const ask = ['-X', 'OPTIONS', '-H', 'Access-Control-Request-Method: PUT', '--cacert', pki.ca.certFile];
      const r = await curl([proto, ...ask, '-H', 'Origin: https://app.test', `${url}/cors`]);
      assert.equal(r.status, 200);
      assert.equal(r.bodyBytes, 0);
      assert.deepEqual(r.headers['content-length'], ['0']);
      assert.deepEqual(r.headers['access-control-allow-origin'], ['https://app.test']);
      assert.deepEqual(r.headers['access-control-allow-methods'], ['GET,PUT']);
      assert.deepEqual(r.headers['access-control-expose-headers'], ['X-Total']);
      assert.equal(r.headers['access-control-max-age'], undefined);
      // With credentials, the wildcards answer with what the preflight asked for.
      const c = await curl([
        proto,
        ...ask,
        '-H',
        'Origin: https://other.test',
        '-H',
        'Access-Control-Request-Headers: x-token',
        `${url}/credentials`,
      ]);
      assert.deepEqual(c.headers['access-control-allow-origin'], ['https://other.test']);
      assert.deepEqual(c.headers['access-control-allow-methods'], ['PUT']);
      assert.deepEqual(c.headers['access-control-allow-headers'], ['x-token']);
      assert.deepEqual(c.headers['access-control-allow-credentials'], ['true']);
      assert.deepEqual(c.headers['access-control-max-age'], ['600']);
      assert.equal(c.headers['access-control-expose-headers'], undefined);
      assert.equal(seen, before, 'no preflight reached the backend');
    });
  }

  it('CORS list items that are lists themselves load and are joined as written, as Traefik joins them', async () => {
    const base = `http://127.0.0.1:${port('web')}`;
    const pre = await curl([
      '-X',
      'OPTIONS',
      '-H',
      'Access-Control-Request-Method: POST',
      '-H',
      'Origin: https://app.test',
      `${base}/lists`,
    ]);
    assert.equal(pre.status, 200);
    assert.deepEqual(pre.headers['access-control-allow-methods'], ['GET, POST,OPTIONS']);
    assert.deepEqual(pre.headers['access-control-allow-headers'], ['Content-Type, Authorization']);
    const res = await curl(['-H', 'Origin: https://app.test', `${base}/lists`]);
    assert.deepEqual(res.headers['access-control-expose-headers'], ['X-Total, X-Page']);
  });

  it('CORS on responses: the allowed origin, nothing for another; with credentials the origin, never *', async () => {
    const base = `http://127.0.0.1:${port('web')}`;
    const ok = await curl(['-H', 'Origin: https://app.test', `${base}/cors`]);
    assert.deepEqual(ok.headers['access-control-allow-origin'], ['https://app.test']);
    assert.deepEqual(ok.headers['access-control-expose-headers'], ['X-Total']);
    const other = await curl(['-H', 'Origin: https://evil.test', `${base}/cors`]);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const cred = await curl(['-H', 'Origin: https://other.test', `${base}/credentials`]);
    assert.deepEqual(cred.headers['access-control-allow-origin'], ['https://other.test']);
    assert.deepEqual(cred.headers['access-control-allow-credentials'], ['true']);
    assert.equal(cred.headers['access-control-expose-headers'], undefined);
  });

  it('Strict-Transport-Security and Public-Key-Pins only over TLS or when sslProxyHeaders match what a trusted proxy said', async () => {
    const sts = ['max-age=300; includeSubDomains'];
    const host = ['-H', 'Host: good.test'];
    const tls = await curl([
      '--http2',
      ...host,
      '--cacert',
      pki.ca.certFile,
      `https://127.0.0.1:${port('secure')}/secure`,
    ]);
    assert.equal(tls.status, 200);
    assert.deepEqual(tls.headers['strict-transport-security'], sts);
    assert.deepEqual(tls.headers['public-key-pins'], ['pin-sha256="base64=="; max-age=10']);
    assert.deepEqual(tls.headers['x-frame-options'], ['DENY'], 'overrides the backend');
    // A client's own X-Forwarded-Proto is replaced before the middleware sees it, as Traefik's entry point does.
    const xfp = ['-H', 'X-Forwarded-Proto: https'];
    const forged = await curl([...host, ...xfp, `http://127.0.0.1:${port('web')}/secure`]);
    assert.equal(forged.status, 200);
    assert.equal(forged.headers['strict-transport-security'], undefined);
    assert.equal(forged.headers['public-key-pins'], undefined);
    const trusted = await curl([...host, ...xfp, `http://127.0.0.1:${port('trusted')}/secure`]);
    assert.deepEqual(trusted.headers['strict-transport-security'], sts);
  });

  it('allowedHosts: 500 Bad Host, with the custom response headers; hostsProxyHeaders only from a trusted proxy', async () => {
    const bad = await curl(['-H', 'Host: evil.test', `http://127.0.0.1:${port('web')}/secure`]);
    assert.equal(bad.status, 500);
    assert.equal(bad.body.toString(), 'Bad Host\n');
    assert.deepEqual(bad.headers['x-served-by'], ['edge']);
    assert.equal(bad.headers['x-frame-options'], undefined);
    const claimed = ['-H', 'Host: evil.test', '-H', 'X-Forwarded-Host: good.test'];
    const untrusted = await curl([...claimed, `http://127.0.0.1:${port('web')}/secure`]);
    assert.equal(untrusted.status, 500);
    const trusted = await curl([...claimed, `http://127.0.0.1:${port('trusted')}/secure`]);
    assert.equal(trusted.status, 200);
  });
});
