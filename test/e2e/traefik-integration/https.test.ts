/**
 * Traefik's integration/https_test.go (v3 branch) run against our proxy: each test names the Go
 * test it follows; fixtures are integration/fixtures/https/*.toml adapted by ./fixture.ts, their
 * fixed backends (127.0.0.1:9010, 9020, 9030) made template fields, their certificates made by
 * ./fixture-https.ts under the same file names. Go's `tls.Dial` checks become a TLS handshake
 * (tls-certs.ts `handshake`) or an HTTPS request (`httpsGet`), which also shows what was served.
 */
import assert from 'node:assert/strict';
import { connect as connectH2, type Settings } from 'node:http2';
import { after, describe, it } from 'node:test';
import { type Backend, startBackend } from '../../helpers/backends.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import type { ProxyProcess, StartOptions } from '../../helpers/proxy-process.ts';
import { handshake } from '../../helpers/tls-certs.ts';
import { errorIssues } from '../../helpers/wait.ts';
import { startFixture } from './fixture.ts';
import { type HttpsOptions, httpsGet, removeFixturePkis, snitestCerts } from './fixture-https.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
  removeFixturePkis();
});

/** Go's startTestServer: answers `status`, with `text` as body when given. */
async function server(status: number, text = ''): Promise<Backend> {
  const b = await startBackend((_req, res) => {
    res.writeHead(status);
    res.end(text);
  });
  open.push(() => b.close());
  return b;
}

async function proxy(
  text: string,
  vars: Record<string, string> = {},
  opts: Partial<StartOptions> = {},
): Promise<ProxyProcess> {
  const p = await startFixture(text, vars, { ...opts, files: { ...snitestCerts().files, ...opts.files } });
  open.push(() => p.stop());
  return p;
}

/** The request of the Go test, or the error it failed with. */
async function attempt(port: number, o: HttpsOptions): Promise<Awaited<ReturnType<typeof httpsGet>> | Error> {
  return httpsGet(port, o).catch((e: Error) => e);
}

/** Go's try.RequestWithTransport: retried until `ok` (a reload may be under way), bounded. */
async function until(
  port: number,
  o: HttpsOptions,
  ok: (r: Awaited<ReturnType<typeof httpsGet>>) => boolean,
) {
  let last: Awaited<ReturnType<typeof attempt>> | undefined;
  for (let i = 0; i < 30; i++) {
    last = await attempt(port, o);
    if (!(last instanceof Error) && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never as expected: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

const H2 = ['h2', 'http/1.1'];

/** One proxy for the tests that share a fixture (started by the first that runs). */
function shared<T>(start: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= start();
    return p;
  };
}

// integration/fixtures/https/https_sni.toml
const HTTPS_SNI = `[entryPoints]
  [entryPoints.web-secure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]

  [http.routers.router2]
    service = "service2"
    rule = "Host(\`snitest.org\`)"
    [http.routers.router2.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"

  [http.services.service2]
    [http.services.service2.loadBalancer]
      [[http.services.service2.loadBalancer.servers]]
        url = "{{ .Server2 }}"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.com.cert"
  keyFile = "fixtures/https/snitest.com.key"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.org.cert"
  keyFile = "fixtures/https/snitest.org.key"
`;

// integration/fixtures/https/https_sni_default_cert.toml
const HTTPS_SNI_DEFAULT_CERT = `[entryPoints]
  [entryPoints.web-secure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]

  [http.routers.router2]
    service = "service1"
    rule = "Host(\`www.snitest.com\`)"
    [http.routers.router2.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"
`;
const DEFAULT_CERT_TLS = `
[[tls.certificates]]
  certFile = "fixtures/https/wildcard.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.snitest.com.key"

[[tls.certificates]]
  certFile = "fixtures/https/www.snitest.com.cert"
  keyFile = "fixtures/https/www.snitest.com.key"

[tls.stores]
  [tls.stores.default.defaultCertificate]
    certFile = "fixtures/https/snitest.com.cert"
    keyFile = "fixtures/https/snitest.com.key"
`;

describe('traefik integration/https_test.go', () => {
  const certs = snitestCerts();

  const sniProxy = shared(async () => {
    const [b1, b2] = [await server(204), await server(205)];
    return proxy(HTTPS_SNI, { Server1: b1.url, Server2: b2.url });
  });

  it('TestWithSNIConfigHandshake: SNI snitest.com gets its certificate, h2 negotiated', async () => {
    const p = await sniProxy();
    const h = await handshake({ port: p.ports['web-secure']!, servername: 'snitest.com', alpn: H2 });
    assert.ok(h.ok, h.ok ? '' : h.error);
    assert.equal(h.fingerprint256, certs['snitest.com'].fingerprint256);
    assert.equal(h.alpn, 'h2');
  });

  it('TestWithSNIConfigRoute: each SNI and Host to its backend, with its certificate', async () => {
    const p = await sniProxy();
    const port = p.ports['web-secure']!;
    const r1 = await httpsGet(port, { servername: 'snitest.com' });
    assert.equal(r1.subjectCN, 'snitest.com');
    assert.equal(r1.status, 204);
    const r2 = await httpsGet(port, { servername: 'snitest.org' });
    assert.equal(r2.subjectCN, 'snitest.org');
    assert.equal(r2.status, 205);
  });

  // integration/fixtures/https/https_tls_options.toml, with the v3 test's routers 4 and 5
  // (snitest.net, asking options foo and baz) that TestWithConflictingTLSOptions uses, and the API
  // on Traefik's default :8080 that the Go tests read.
  const HTTPS_TLS_OPTIONS = `[entryPoints]
  [entryPoints.web-secure]
    address = ":4443"
  [entryPoints.traefik]
    address = ":8080"

[api]
  dashboard = false
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]
      options = "foo"

  [http.routers.router2]
    service = "service2"
    rule = "Host(\`snitest.org\`)"
    [http.routers.router2.tls]
      options = "bar"

  [http.routers.router3]
    service = "service2"
    rule = "Host(\`snitest.org\`)"
    [http.routers.router3.tls]
      options = "unknown"

  [http.routers.router4]
    service = "service1"
    rule = "Host(\`snitest.net\`)"
    [http.routers.router4.tls]
      options = "foo"

  [http.routers.router5]
    service = "service1"
    rule = "Host(\`snitest.net\`)"
    [http.routers.router5.tls]
      options = "baz"

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"

  [http.services.service2]
    [http.services.service2.loadBalancer]
      [[http.services.service2.loadBalancer.servers]]
        url = "{{ .Server2 }}"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.com.cert"
  keyFile = "fixtures/https/snitest.com.key"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.org.cert"
  keyFile = "fixtures/https/snitest.org.key"

[tls.options]
  [tls.options.foo]
    minVersion = "VersionTLS11"

  [tls.options.bar]
    minVersion = "VersionTLS12"

  [tls.options.baz]
    minVersion = "VersionTLS11"
`;

  const optionsProxy = shared(async () => {
    const [b1, b2] = [await server(204), await server(205)];
    return proxy(HTTPS_TLS_OPTIONS, { Server1: b1.url, Server2: b2.url });
  });

  it('TestWithTLSOptions: each host with its options; TLS 1.1 refused where bar asks 1.2; unknown options reported', async () => {
    const p = await optionsProxy();
    const port = p.ports['web-secure']!;
    const r1 = await httpsGet(port, { servername: 'snitest.com', maxVersion: 'TLSv1.2' });
    assert.equal(r1.subjectCN, 'snitest.com');
    assert.equal(r1.status, 204);
    const r2 = await httpsGet(port, { servername: 'snitest.org', maxVersion: 'TLSv1.2' });
    assert.equal(r2.subjectCN, 'snitest.org');
    assert.equal(r2.status, 205);
    const r3 = await attempt(port, { servername: 'snitest.org', maxVersion: 'TLSv1.1' });
    assert.ok(r3 instanceof Error, 'TLS 1.1 served where bar asks 1.2');
    assert.match(r3.message, /version|protocol/i);
    assert.ok(
      errorIssues(p, 0).some((i) => /router3/.test(i) && /unknown/.test(i)),
      JSON.stringify(errorIssues(p, 0)),
    );
    // Go's try.BodyContains on /api/rawdata: router3's Traefik error.
    const raw = await httpRequest(p.ports['traefik']!, { path: '/api/rawdata' });
    assert.ok(raw.text.includes('unknown TLS options: unknown@file'), raw.text);
  });

  it('TestWithConflictingTLSOptions: snitest.net, asked foo and baz, gets the default options (TLS 1.1 refused)', async () => {
    const p = await optionsProxy();
    const port = p.ports['web-secure']!;
    assert.equal((await httpsGet(port, { servername: 'snitest.net', maxVersion: 'TLSv1.2' })).status, 204);
    const r = await attempt(port, { servername: 'snitest.net', maxVersion: 'TLSv1.1' });
    assert.ok(r instanceof Error, 'TLS 1.1 served: the conflict did not fall back to the default options');
    assert.ok(
      // Ours, a located warning in the log.
      p.logs.some((l) => /routers on snitest\.net.*ask for different TLS options/.test(JSON.stringify(l))),
      'the conflict on snitest.net is not reported',
    );
    // Go's try.BodyContains on /api/rawdata: Traefik's words, on routers left in `warning`.
    const raw = await httpRequest(p.ports['traefik']!, { path: '/api/rawdata' });
    assert.ok(
      raw.text.includes(
        'found different TLS options for routers on the same host snitest.net, so using the default TLS options instead',
      ),
      raw.text,
    );
    const r4 = JSON.parse(
      (await httpRequest(p.ports['traefik']!, { path: '/api/http/routers/router4@file' })).text,
    );
    assert.equal(r4.status, 'warning');
  });

  // integration/fixtures/https/https_sni_strict.toml
  it('TestWithSNIStrictNotMatchedRequest: sniStrict refuses an SNI no certificate names', async () => {
    const p = await proxy(
      `[entryPoints]
  [entryPoints.websecure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "http://127.0.0.1:1"

[tls.options]
  [tls.options.default]
    sniStrict = true

[tls.stores]
  [tls.stores.default]
    [tls.stores.default.defaultCertificate]
      certFile = "fixtures/https/snitest.com.cert"
      keyFile = "fixtures/https/snitest.com.key"
`,
    );
    const h = await handshake({ port: p.ports.websecure!, servername: 'snitest.org', alpn: H2 });
    assert.equal(h.ok, false);
    // Not in the Go test: snitest.com is refused too, its certificate being the store's default
    // only, which Traefik's GetBestCertificate never searches (pkg/tls/certificate_store.go;
    // traefik/traefik#7224, #9495).
    const own = await handshake({ port: p.ports.websecure!, servername: 'snitest.com', alpn: H2 });
    assert.equal(own.ok, false);
  });

  const defaultCertProxy = shared(() =>
    proxy(HTTPS_SNI_DEFAULT_CERT + DEFAULT_CERT_TLS, { Server1: 'http://127.0.0.1:1' }),
  );

  for (const [name, sni, expected] of [
    ['TestWithDefaultCertificate', 'snitest.org', 'snitest.com'],
    ['TestWithDefaultCertificateNoSNI', undefined, 'snitest.com'],
    ['TestWithOverlappingStaticCertificate', 'www.snitest.com', 'www.snitest.com'],
  ] as const) {
    it(`${name}: SNI ${sni ?? '(none)'} gets ${expected === 'snitest.com' ? 'the default certificate' : 'the exact name, not the wildcard'}, h2`, async () => {
      const p = await defaultCertProxy();
      const h = await handshake({
        port: p.ports['web-secure']!,
        ...(sni === undefined ? {} : { servername: sni }),
        alpn: H2,
      });
      assert.ok(h.ok, h.ok ? '' : h.error);
      assert.equal(h.fingerprint256, certs[expected].fingerprint256);
      assert.equal(h.alpn, 'h2');
    });
  }

  // integration/fixtures/https/dynamic_https_sni_default_cert.toml: the certificates in the file
  // provider's own file rather than the static one.
  it('TestWithOverlappingDynamicCertificate: www.snitest.com gets the exact name, not the wildcard, h2', async () => {
    const p = await proxy(
      `[entryPoints]
  [entryPoints.web-secure]
    address = ":4443"

[providers.file]
  filename = "dynamic.toml"
`,
      {},
      {
        files: {
          'dynamic.toml':
            HTTPS_SNI_DEFAULT_CERT.slice(HTTPS_SNI_DEFAULT_CERT.indexOf('[http.routers]')).replace(
              '{{ .Server1 }}',
              'http://127.0.0.1:1',
            ) + DEFAULT_CERT_TLS,
        },
      },
    );
    const h = await handshake({ port: p.ports['web-secure']!, servername: 'www.snitest.com', alpn: H2 });
    assert.ok(h.ok, h.ok ? '' : h.error);
    assert.equal(h.fingerprint256, certs['www.snitest.com'].fingerprint256);
    assert.equal(h.alpn, 'h2');
  });

  /** integration/fixtures/https/dynamic_https.toml: a bad certificate, then snitest.org's inline. */
  const dynamicHttps = (s1: string, s2: string): string => `[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]

  [http.routers.router2]
    service = "service2"
    rule = "Host(\`snitest.org\`)"
    [http.routers.router2.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "${s1}"

  [http.services.service2]
    [http.services.service2.loadBalancer]
      [[http.services.service2.loadBalancer.servers]]
        url = "${s2}"

#  bad certificates to validate the loop on the certificate appending
[[tls.certificates]]
  # bad content
  certFile = """-----BEGIN CERTIFICATE-----
MIIC/zCCAeegAwIBAgIJALAYHG/vGqWEMA0GCSqGSIb3DQEBBQUAMBYxFDASBgNV
-----END CERTIFICATE-----"""
  # bad content
  keyFile = """-----BEGIN RSA PRIVATE KEY-----
wihZ13e3i5UQEYuoRcH1RUd1wyYoBSKuQnsT2WwVZ1wlXSYaELAbQgaI9NtfBA0G
-----END RSA PRIVATE KEY-----"""

[[tls.certificates]]
  certFile = """${certs['snitest.org'].certPem.trim()}"""
  keyFile = """${certs['snitest.org'].keyPem.trim()}"""
`;

  /** integration/fixtures/https/dynamic_https_sni.toml: the file provider watching dynamic.toml. */
  async function dynamicProxy(s1: string, s2: string): Promise<ProxyProcess> {
    return proxy(
      `[entryPoints]
  [entryPoints.web-secure]
    address = ":4443"

[providers.file]
  filename = "dynamic.toml"
  watch = true
`,
      {},
      { files: { 'dynamic.toml': dynamicHttps(s1, s2) } },
    );
  }

  const DEFAULT_CN = 'TRAEFIK DEFAULT CERT';

  it('TestWithSNIDynamicConfigRouteWithNoChange: snitest.org with its certificate, snitest.com with the generated default', async () => {
    const [b1, b2] = [await server(204), await server(205)];
    const p = await dynamicProxy(b1.url, b2.url);
    const port = p.ports['web-secure']!;
    const org = await httpsGet(port, { servername: 'snitest.org' });
    assert.equal(org.subjectCN, 'snitest.org');
    assert.equal(org.status, 205);
    const com = await httpsGet(port, { servername: 'snitest.com' });
    assert.equal(com.subjectCN, DEFAULT_CN);
    assert.equal(com.status, 204);
  });

  // An entry point left with no TLS router reads no first bytes; the ClientHello that reaches its
  // HTTP codec is handed to the TLS side, as Traefik's always-set httpsForwarder takes it
  // (pkg/server/router/tcp/manager.go buildEntryPointHandler): default certificate, 404.
  it('TestWithSNIDynamicConfigRouteWithChange: the file rewritten to snitest.com only: its certificate, 404s', async () => {
    const [b1, b2] = [await server(204), await server(205)];
    const p = await dynamicProxy(b1.url, b2.url);
    const port = p.ports['web-secure']!;
    await until(port, { servername: 'snitest.org' }, (r) => r.status === 205);
    // Go's modifyCertificateConfFileContent: only a tls.certificates entry naming files.
    p.writeFile(
      'dynamic.toml',
      `[[tls.certificates]]
  certFile = "fixtures/https/snitest.com.cert"
  keyFile = "fixtures/https/snitest.com.key"
`,
    );
    await until(
      port,
      { servername: 'snitest.com' },
      (r) => r.subjectCN === 'snitest.com' && r.status === 404,
    );
    await until(port, { servername: 'snitest.org' }, (r) => r.subjectCN === DEFAULT_CN && r.status === 404);
  });

  it('TestWithSNIDynamicConfigRouteWithTlsConfigurationDeletion: the file emptied: the default certificate, 404', async () => {
    const b2 = await server(205);
    const p = await dynamicProxy('http://127.0.0.1:1', b2.url);
    const port = p.ports['web-secure']!;
    await until(
      port,
      { servername: 'snitest.org' },
      (r) => r.subjectCN === 'snitest.org' && r.status === 205,
    );
    p.writeFile('dynamic.toml', '');
    await until(port, { servername: 'snitest.org' }, (r) => r.subjectCN === DEFAULT_CN && r.status === 404);
  });

  // Not a Go test: the same fact (Traefik's httpsForwarder, always set) in a proxy that has never
  // loaded TLS (no certificate, no TLS router yet): TLS loads on this first ClientHello (TlsGate
  // onDemand), which gets the generated certificate, then 404 (test/e2e/tls-never-loaded.test.ts).
  it('a ClientHello on a proxy without any TLS: the generated certificate, 404', async () => {
    const b = await server(200, 'plain');
    const p = await proxy(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.router1]
  rule = "PathPrefix(\`/\`)"
  service = "service1"

[http.services.service1.loadBalancer]
  [[http.services.service1.loadBalancer.servers]]
    url = "{{ .Server1 }}"
`,
      { Server1: b.url },
    );
    const r = await httpsGet(p.ports.web!, { servername: 'snitest.com' });
    assert.equal(r.subjectCN, DEFAULT_CN);
    assert.equal(r.status, 404);
  });

  // integration/fixtures/https/https_redirect.toml (router<N>TLS, on web-secure, left out: the test
  // reads only the redirects of the web entry point).
  it('TestEntryPointHttpsRedirectAndPathModification: redirectScheme before the path middlewares keeps the path', async () => {
    const routers: [string, string, string[]][] = [
      ['router1', 'example.com', []],
      ['router2', 'example2.com', ['api-slash-strip']],
      ['router3', 'test.com', ['foo-add-prefix']],
      ['router4', 'test2.com', ['foo-slash-add-prefix']],
      ['router5', 'foo.com', ['id-strip-regex-prefix']],
      ['router6', 'foo2.com', ['id-slash-strip-regex-prefix']],
      ['router7', 'bar.com', ['api-regex-replace']],
      ['router8', 'bar2.com', ['api-slash-regex-replace']],
      ['router9', 'pow.com', ['api-replace-path']],
      ['router10', 'pow2.com', ['api-slash-replace-path']],
    ];
    const p = await proxy(`[entryPoints]
  [entryPoints.web]
    address = ":8888"

  [entryPoints.web-secure]
    address = ":8443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
${routers
  .map(
    ([name, host, mws]) => `  [http.routers.${name}]
    entryPoints = ["web"]
    rule = "Host(\`${host}\`)"
    middlewares = ${JSON.stringify(['redirect-https', ...mws])}
    service = "service1"
`,
  )
  .join('\n')}
[http.middlewares]
  [http.middlewares.api-strip.stripPrefix]
    prefixes = ["/api"]
  [http.middlewares.api-slash-strip.stripPrefix]
    prefixes = ["/api/"]
  [http.middlewares.foo-add-prefix.addPrefix]
    prefix = "/foo"
  [http.middlewares.foo-slash-add-prefix.addPrefix]
    prefix = "/foo/"
  [http.middlewares.id-strip-regex-prefix.stripPrefixRegex]
    regex = ["/{id:[a-z]+}"]
  [http.middlewares.id-slash-strip-regex-prefix.stripPrefixRegex]
    regex = ["/{id:[a-z]+}/"]
  [http.middlewares.api-regex-replace.replacePathRegex]
    regex = "/api"
    replacement = "/"
  [http.middlewares.api-slash-regex-replace.replacePathRegex]
    regex = "/api/"
    replacement = "/"
  [http.middlewares.api-replace-path.replacePath]
    path = "/api"
  [http.middlewares.api-slash-replace-path.replacePath]
    path = "/api/"
  [http.middlewares.redirect-https.redirectScheme]
    scheme = "https"
    port = "8443"

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "http://127.0.0.1:1"
`);
    const all = ['example.com', 'example2.com', 'foo.com', 'foo2.com', 'bar.com', 'bar2.com'];
    const pow = ['test.com', 'test2.com', 'pow.com', 'pow2.com'];
    const cases: [string[], string][] = [
      [['example.com', 'foo.com', 'bar.com'], '/api'],
      [all, '/api/'],
      [all, '/api/bacon'],
      [all, '/api/bacon/'],
      [pow, '/'],
      [pow, '/wtf'],
      [pow, '/wtf/'],
      [pow, '/wtf/foo'],
    ];
    for (const [hosts, path] of cases) {
      for (const host of hosts) {
        const r = await httpRequest(p.ports.web!, { path, headers: { Host: host } });
        assert.equal(r.headers.location, `https://${host}:8443${path}`, `${host}${path}`);
      }
    }
  });

  // integration/fixtures/https/https_sni_case_insensitive_dynamic.toml (v3 rule syntax).
  it('TestWithSNIDynamicCaseInsensitive: bar.www.snitest.com gets the *.WWW.SNITEST.COM certificate, h2', async () => {
    const p = await proxy(`[entryPoints]
  [entryPoints.web-secure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "HostRegexp(\`[a-z1-9-]+\\\\.snitest\\\\.com\`)"
    service = "service1"
    [http.routers.router1.tls]

  [http.routers.router2]
    rule = "HostRegexp(\`[a-z1-9-]+\\\\.www\\\\.snitest\\\\.com\`)"
    service = "service1"
    [http.routers.router2.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "http://127.0.0.1:1"

[[tls.certificates]]
  certFile = "fixtures/https/uppercase_wildcard.www.snitest.com.cert"
  keyFile = "fixtures/https/uppercase_wildcard.www.snitest.com.key"

[tls.stores]
  [tls.stores.default.defaultCertificate]
    certFile = "fixtures/https/wildcard.snitest.com.cert"
    keyFile = "fixtures/https/wildcard.snitest.com.key"
`);
    const h = await handshake({ port: p.ports['web-secure']!, servername: 'bar.www.snitest.com', alpn: H2 });
    assert.ok(h.ok, h.ok ? '' : h.error);
    assert.equal(h.fingerprint256, certs['uppercase_wildcard.www.snitest.com'].fingerprint256);
    assert.equal(h.alpn, 'h2');
  });

  // integration/fixtures/https/https_domain_fronting.toml, routers 1 to 3 (those the test asks).
  const frontingProxy = shared(async () => {
    const [b1, b2, b3] = [
      await server(200, 'server1'),
      await server(200, 'server2'),
      await server(200, 'server3'),
    ];
    return proxy(
      `[entryPoints.websecure]
  address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.router1]
  rule = "Host(\`site1.www.snitest.com\`)"
  service = "service1"
  [http.routers.router1.tls]

[http.routers.router2]
  rule = "Host(\`site2.www.snitest.com\`)"
  service = "service2"
  [http.routers.router2.tls]

[http.routers.router3]
  rule = "Host(\`site3.www.snitest.com\`)"
  service = "service3"
  [http.routers.router3.tls]
    options = "mytls"

[http.services.service1]
  [[http.services.service1.loadBalancer.servers]]
    url = "{{ .Server1 }}"

[http.services.service2]
  [[http.services.service2.loadBalancer.servers]]
    url = "{{ .Server2 }}"

[http.services.service3]
  [[http.services.service3.loadBalancer.servers]]
    url = "{{ .Server3 }}"

[[tls.certificates]]
  certFile = "fixtures/https/wildcard.www.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.www.snitest.com.key"

[tls.options]
  [tls.options.mytls]
    maxVersion = "VersionTLS12"
`,
      { Server1: b1.url, Server2: b2.url, Server3: b3.url },
    );
  });

  it('TestWithDomainFronting: Host against SNI: same options follow the Host, other options 421, case-insensitive', async () => {
    const p = await frontingProxy();
    const port = p.ports.websecure!;
    // Go's cases "Spaces after the host header" (and after both) fail in Go's client, which
    // refuses to send such a Host: nothing reaches the proxy, so they are left out.
    const cases: [string, string, string, number, string][] = [
      ['SimpleCase', 'site1.www.snitest.com', 'site1.www.snitest.com', 200, 'server1'],
      [
        'Simple case with port in the Host Header',
        'site3.www.snitest.com:4443',
        'site3.www.snitest.com',
        200,
        'server3',
      ],
      [
        'Domain Fronting with same tlsOptions should follow header',
        'site1.www.snitest.com',
        'site2.www.snitest.com',
        200,
        'server1',
      ],
      [
        'Domain Fronting with same tlsOptions should follow header (2)',
        'site2.www.snitest.com',
        'site1.www.snitest.com',
        200,
        'server2',
      ],
      [
        'Domain Fronting with different tlsOptions should produce a 421',
        'site2.www.snitest.com',
        'site3.www.snitest.com',
        421,
        '',
      ],
      [
        'Domain Fronting with different tlsOptions should produce a 421 (2)',
        'site3.www.snitest.com',
        'site1.www.snitest.com',
        421,
        '',
      ],
      ['Case insensitive', 'sIte1.www.snitest.com', 'sitE1.www.snitest.com', 200, 'server1'],
    ];
    for (const [desc, host, servername, status, body] of cases) {
      const r = await httpsGet(port, { host, servername });
      assert.equal(r.status, status, desc);
      assert.ok(r.body.includes(body), `${desc}: ${r.body}`);
    }
  });

  // Go's case "Spaces after the servername": an SNI of `site3.www.snitest.com `. Deliberate
  // (docs/migrating-from-traefik.md, "Traefik's integration tests"): Traefik chooses the TLS
  // options by the SNI as sent (no router names it: the default options), then its snicheck
  // trims the SNI before comparing it with the Host (pkg/middlewares/snicheck/snicheck.go
  // ServeHTTP, strings.TrimSpace) and serves site3, whose mytls options the connection never had:
  // with clientAuth in mytls, a trailing space would skip the client certificate. Here it is 421.
  it('TestWithDomainFronting: Spaces after the servername', {
    todo: "deliberate: an SNI with a trailing space did not get the Host's TLS options, so 421 (Traefik trims it and serves)",
  }, async () => {
    const p = await frontingProxy();
    const r = await httpsGet(p.ports.websecure!, {
      host: 'site3.www.snitest.com',
      servername: 'site3.www.snitest.com ',
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'server3');
  });

  // integration/fixtures/https/https_invalid_tls_options.toml
  it('TestWithInvalidTLSOption: clientAuth without CA in the asked and the default options: every handshake fails', async () => {
    const b = await server(200, 'server1');
    const p = await proxy(
      `[entryPoints.websecure]
  address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]

  [http.routers.router1]
    entryPoints = ["websecure"]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]
      options = "invalidTLSOptions"

  [http.routers.router2]
    entryPoints = ["websecure"]
    service = "service1"
    rule = "Host(\`snitest.org\`)"
    [http.routers.router2.tls]

  # fallback router
  [http.routers.router3]
    entryPoints = ["websecure"]
    service = "service1"
    rule = "Path(\`/\`)"
    [http.routers.router3.tls]

[[http.services.service1.loadBalancer.servers]]
  url = "{{ .Server1 }}"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.com.cert"
  keyFile = "fixtures/https/snitest.com.key"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.org.cert"
  keyFile = "fixtures/https/snitest.org.key"

[tls.options]

  [tls.options.default.clientAuth]
    # Missing caFile to have an invalid mTLS configuration.
    clientAuthType = "RequireAndVerifyClientCert"

  [tls.options.invalidTLSOptions.clientAuth]
    # Missing caFile to have an invalid mTLS configuration.
    clientAuthType = "RequireAndVerifyClientCert"
`,
      { Server1: b.url },
    );
    for (const sni of ['snitest.com', 'snitest.org', undefined]) {
      const r = await attempt(p.ports.websecure!, sni === undefined ? {} : { servername: sni });
      assert.ok(r instanceof Error, `served with SNI ${sni ?? '(none)'}: ${JSON.stringify(r)}`);
    }
    assert.equal(b.seen.length, 0);
  });

  // integration/fixtures/https/max_concurrent_stream.toml (SimpleSuite's test in https_test.go):
  // the api@internal router's TLS, its certificate (resources/tls/local.cert) the generated one.
  it('TestMaxConcurrentStream: the first SETTINGS frame carries MAX_CONCURRENT_STREAMS 42', async () => {
    const p = await proxy(`[entryPoints]
  [entryPoints.websecure]
    address = ":8000"
    [entryPoints.websecure.http2]
      maxConcurrentStreams = 42

[api]
  dashboard = false

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.api]
  rule = "PathPrefix(\`/api\`)"
  service = "api@internal"
  [http.routers.api.tls]
`);
    const session = connectH2(`https://127.0.0.1:${p.ports.websecure!}`, { rejectUnauthorized: false });
    try {
      const settings = await new Promise<Settings>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no SETTINGS')), 5_000);
        session.once('remoteSettings', (s) => {
          clearTimeout(t);
          resolve(s);
        });
        session.once('error', reject);
      });
      assert.equal(settings.maxConcurrentStreams, 42);
      // Go waits for api@internal in /api/rawdata: here it is read through that TLS router, on h2.
      const rawdata = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/api/rawdata' });
        let body = '';
        let status = 0;
        req.setEncoding('utf8');
        req.on('response', (h) => {
          status = Number(h[':status']);
        });
        req.on('data', (c: string) => {
          body += c;
        });
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.setTimeout(5_000, () => req.close());
      });
      assert.equal(rawdata.status, 200);
      assert.match(rawdata.body, /api@internal/);
    } finally {
      session.destroy();
    }
  });
});
