/**
 * The scenarios of Traefik's newest integration/fixtures/https/ files (v3.7 and v3.8), whose Go
 * tests in integration/https_test.go are not in the index we read Traefik from: each test is
 * named after its fixture and checks what the fixture's own comments say it is for. Fixtures are
 * adapted by ./fixture.ts, certificates made by ./fixture-https.ts under the same file names.
 *
 * Not ported: https_default_cert_sans.toml (`tls.stores.*.defaultCertDomain`, not supported
 * here), https_ech.toml (encrypted ClientHello: node's client cannot send one).
 */
import assert from 'node:assert/strict';
import { connect as connectH2, type Settings } from 'node:http2';
import { after, describe, it } from 'node:test';
import { type Backend, startBackend } from '../../helpers/backends.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { startFixture } from './fixture.ts';
import { type HttpsOptions, httpsGet, removeFixturePkis, snitestCerts } from './fixture-https.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
  removeFixturePkis();
});

async function server(): Promise<Backend> {
  const b = await startBackend((_req, res) => res.end('server1'));
  open.push(() => b.close());
  return b;
}

async function proxy(text: string, vars: Record<string, string> = {}): Promise<ProxyProcess> {
  const p = await startFixture(text, vars, { files: snitestCerts().files });
  open.push(() => p.stop());
  return p;
}

async function attempt(port: number, o: HttpsOptions) {
  return httpsGet(port, o).catch((e: Error) => e);
}

describe('traefik integration/https_test.go (newest fixtures)', () => {
  const certs = snitestCerts();

  it('https_entrypoint_tls.toml: a router without tls on an entry point with http.tls is served over TLS', async () => {
    const b = await server();
    const p = await proxy(
      `[entryPoints]
  [entryPoints.websecure]
    address = ":4443"
    [entryPoints.websecure.http.tls]

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.com.cert"
  keyFile = "fixtures/https/snitest.com.key"
`,
      { Server1: b.url },
    );
    const r = await httpsGet(p.ports.websecure!, { servername: 'snitest.com' });
    assert.equal(r.fingerprint256, certs['snitest.com'].fingerprint256);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'server1');
  });

  it('https_wildcard_host.toml: Host(`*.snitest.com`) serves one label under it with the wildcard certificate', async () => {
    const b = await server();
    const p = await proxy(
      `[entryPoints]
  [entryPoints.websecure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  # Wildcard router: routes any *.snitest.com subdomain to service1.
  [http.routers.wildcard]
    service = "service1"
    rule = "Host(\`*.snitest.com\`)"
    [http.routers.wildcard.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"

[[tls.certificates]]
  certFile = "fixtures/https/wildcard.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.snitest.com.key"
`,
      { Server1: b.url },
    );
    const port = p.ports.websecure!;
    const r = await httpsGet(port, { servername: 'foo.snitest.com' });
    assert.equal(r.fingerprint256, certs['wildcard.snitest.com'].fingerprint256);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'server1');
    assert.equal((await httpsGet(port, { servername: 'snitest.com' })).status, 404);
  });

  it('https_wildcard_tls_options.toml: the exact host options win over the wildcard router ones', async () => {
    const b = await server();
    const p = await proxy(
      `[entryPoints]
  [entryPoints.websecure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  # Wildcard router covering all *.snitest.com subdomains with TLS option "foo" (minTLS12).
  [http.routers.wildcard]
    service = "service1"
    rule = "Host(\`*.snitest.com\`)"
    [http.routers.wildcard.tls]
      options = "foo"

  # foo.snitest.com uses TLS option "bar" (minTLS13)
  [http.routers.bar]
    service = "service1"
    rule = "Host(\`foo.snitest.com\`)"
    [http.routers.bar.tls]
      options = "bar"

# minTLS11
[http.routers.other]
  service = "service1"
  rule = "Host(\`other.snitest.com\`)"
  [http.routers.other.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .BackendURL }}"

[[tls.certificates]]
  certFile = "fixtures/https/wildcard.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.snitest.com.key"

[tls.options]
  [tls.options.foo]
    minVersion = "VersionTLS12"
    maxVersion = "VersionTLS12"

  [tls.options.bar]
    minVersion = "VersionTLS13"
    maxVersion = "VersionTLS13"

  [tls.options.default]
    minVersion = "VersionTLS11"
    maxVersion = "VersionTLS11"
`,
      { BackendURL: b.url },
    );
    const port = p.ports.websecure!;
    // A name only the wildcard router covers: foo's TLS 1.2 only.
    const w = await httpsGet(port, { servername: 'any.snitest.com' });
    assert.equal(w.protocol, 'TLSv1.2');
    assert.equal(w.status, 200);
    assert.ok(
      (await attempt(port, { servername: 'any.snitest.com', minVersion: 'TLSv1.3' })) instanceof Error,
    );
    // foo.snitest.com: bar's TLS 1.3 only.
    const f = await httpsGet(port, { servername: 'foo.snitest.com' });
    assert.equal(f.protocol, 'TLSv1.3');
    assert.equal(f.status, 200);
    assert.ok(
      (await attempt(port, { servername: 'foo.snitest.com', maxVersion: 'TLSv1.2' })) instanceof Error,
    );
    // other.snitest.com: the default options' TLS 1.1 only, which a TLS 1.2 client cannot get.
    assert.ok(
      (await attempt(port, { servername: 'other.snitest.com', minVersion: 'TLSv1.2' })) instanceof Error,
    );
  });

  it('https_tls_options_conflict.toml: same options applied, a conflict falls back to default, entry points apart, fronting 421', async () => {
    const b = await server();
    const p = await proxy(
      `[entryPoints.websecure]
  address = ":4443"

[entryPoints.websecure2]
  address = ":4444"

[providers.file]
  filename = "{{ .SelfFilename }}"

# --- Same host, same options, same entryPoint: no conflict, the options are applied. ---
[http.routers.same-1]
  rule = "Host(\`same.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.same-1.tls]
    options = "tls12"

[http.routers.same-2]
  rule = "Host(\`same.www.snitest.com\`) && PathPrefix(\`/same\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.same-2.tls]
    options = "tls12"

# --- Same host, different options, same entryPoint: conflict, fallback to default options. ---
[http.routers.conflict-1]
  rule = "Host(\`conflict.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.conflict-1.tls]
    options = "tls12"

[http.routers.conflict-2]
  rule = "Host(\`conflict.www.snitest.com\`) && PathPrefix(\`/conflict\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.conflict-2.tls]
    options = "tls13"

# --- Same host, different options, different entryPoints: no conflict, each entryPoint keeps its own options. ---
[http.routers.cross-ep1]
  rule = "Host(\`cross.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.cross-ep1.tls]
    options = "tls12"

[http.routers.cross-ep2]
  rule = "Host(\`cross.www.snitest.com\`)"
  entryPoints = ["websecure2"]
  service = "service1"
  [http.routers.cross-ep2.tls]
    options = "tls13"

# --- Domain fronting (Host header != SNI): same options follow the header, different options are rejected. ---
[http.routers.df-a]
  rule = "Host(\`df-a.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.df-a.tls]
    options = "tls12"

[http.routers.df-b]
  rule = "Host(\`df-b.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.df-b.tls]
    options = "tls12"

[http.routers.df-c]
  rule = "Host(\`df-c.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.df-c.tls]
    options = "tls13"

[http.services.service1]
  [[http.services.service1.loadBalancer.servers]]
    url = "{{ .Server1 }}"

[[tls.certificates]]
  certFile = "fixtures/https/wildcard.www.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.www.snitest.com.key"

[tls.options]
  [tls.options.tls12]
    maxVersion = "VersionTLS12"
  [tls.options.tls13]
    minVersion = "VersionTLS13"
`,
      { Server1: b.url },
    );
    const [ep1, ep2] = [p.ports.websecure!, p.ports.websecure2!];
    const same = await httpsGet(ep1, { servername: 'same.www.snitest.com' });
    assert.equal(same.protocol, 'TLSv1.2');
    assert.equal(same.status, 200);
    const conflict = await httpsGet(ep1, { servername: 'conflict.www.snitest.com' });
    assert.equal(conflict.protocol, 'TLSv1.3', 'the conflict did not fall back to the default options');
    assert.equal(conflict.status, 200);
    assert.equal((await httpsGet(ep1, { servername: 'cross.www.snitest.com' })).protocol, 'TLSv1.2');
    assert.equal((await httpsGet(ep2, { servername: 'cross.www.snitest.com' })).protocol, 'TLSv1.3');
    const sameOptions = await httpsGet(ep1, {
      servername: 'df-a.www.snitest.com',
      host: 'df-b.www.snitest.com',
    });
    assert.equal(sameOptions.status, 200);
    const otherOptions = await httpsGet(ep1, {
      servername: 'df-a.www.snitest.com',
      host: 'df-c.www.snitest.com',
    });
    assert.equal(otherOptions.status, 421);
  });

  it('https_tls_options_conflict_strict.toml: core.strictTLSOptions disables the routers of a conflict, its hosts get the default options', async () => {
    const b = await server();
    const p = await proxy(
      `[core]
  strictTLSOptions = true

[entryPoints.websecure]
  address = ":4443"

[entryPoints.websecure2]
  address = ":4444"

# The fixture's [api] is on Traefik's default :8080: the traefik entry point declared to move it.
[entryPoints.traefik]
  address = ":8080"

[api]
  dashboard = false
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

# --- Same host, same options, same entryPoint: no conflict, the options are applied. ---
[http.routers.same-1]
  rule = "Host(\`same.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.same-1.tls]
    options = "tls12"

[http.routers.same-2]
  rule = "Host(\`same.www.snitest.com\`) && PathPrefix(\`/same\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.same-2.tls]
    options = "tls12"

# --- Same host, different options, same entryPoint: conflict, the TLS connections are rejected. ---
[http.routers.conflict-1]
  rule = "Host(\`conflict.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.conflict-1.tls]
    options = "tls12"

[http.routers.conflict-2]
  rule = "Host(\`conflict.www.snitest.com\`) && PathPrefix(\`/conflict\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.conflict-2.tls]
    options = "tls13"

# --- Same host, different options, different entryPoints: no conflict, each entryPoint keeps its own options. ---
[http.routers.cross-ep1]
  rule = "Host(\`cross.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.cross-ep1.tls]
    options = "tls12"

[http.routers.cross-ep2]
  rule = "Host(\`cross.www.snitest.com\`)"
  entryPoints = ["websecure2"]
  service = "service1"
  [http.routers.cross-ep2.tls]
    options = "tls13"

# (The fixture writes Host(a, b), a v2 form that v3 refuses, which would leave multi-1 out for
# its rule alone: written as v3 spells two hosts.)
# --- A conflicting router serving several domains: all of them are rejected. ---
[http.routers.multi-1]
  rule = "Host(\`multi-a.www.snitest.com\`) || Host(\`multi-b.www.snitest.com\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.multi-1.tls]
    options = "tls12"

[http.routers.multi-2]
  rule = "Host(\`multi-a.www.snitest.com\`) && PathPrefix(\`/multi\`)"
  entryPoints = ["websecure"]
  service = "service1"
  [http.routers.multi-2.tls]
    options = "tls13"

[http.services.service1]
  [[http.services.service1.loadBalancer.servers]]
    url = "{{ .Server1 }}"

[[tls.certificates]]
  certFile = "fixtures/https/wildcard.www.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.www.snitest.com.key"

[tls.options]
  [tls.options.tls12]
    maxVersion = "VersionTLS12"
  [tls.options.tls13]
    minVersion = "VersionTLS13"
`,
      { Server1: b.url },
    );
    const [ep1, ep2] = [p.ports.websecure!, p.ports.websecure2!];
    const same = await httpsGet(ep1, { servername: 'same.www.snitest.com', path: '/same' });
    assert.equal(same.protocol, 'TLSv1.2');
    assert.equal(same.status, 200);
    // The conflict's routers are not built: the host is mapped to no options (the default ones,
    // TLS 1.3 here) and nothing serves it, on either router's path.
    for (const path of ['/', '/conflict']) {
      const conflict = await httpsGet(ep1, { servername: 'conflict.www.snitest.com', path });
      assert.equal(conflict.protocol, 'TLSv1.3');
      assert.equal(conflict.status, 404, `conflict.www.snitest.com${path} was served`);
    }
    // A disabled router loses all its hosts, also the one no other router asks for.
    for (const host of ['multi-a.www.snitest.com', 'multi-b.www.snitest.com']) {
      const multi = await httpsGet(ep1, { servername: host, path: '/multi' });
      assert.equal(multi.protocol, 'TLSv1.3', `${host} kept multi-1's tls12 options`);
      assert.equal(multi.status, 404, `${host} was served`);
    }
    const cross1 = await httpsGet(ep1, { servername: 'cross.www.snitest.com' });
    assert.equal(cross1.protocol, 'TLSv1.2');
    assert.equal(cross1.status, 200);
    const cross2 = await httpsGet(ep2, { servername: 'cross.www.snitest.com' });
    assert.equal(cross2.protocol, 'TLSv1.3');
    assert.equal(cross2.status, 200);
    // Marked in error: disabled in the API, the conflict named.
    for (const r of ['conflict-1', 'conflict-2', 'multi-1', 'multi-2']) {
      const res = await httpRequest(p.ports.traefik!, { path: `/api/http/routers/${r}@file` });
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /"status":"disabled"/, `${r}: ${res.text}`);
      assert.match(res.text, /different TLS options/, `${r}: ${res.text}`);
    }
    const same1 = await httpRequest(p.ports.traefik!, { path: '/api/http/routers/same-1@file' });
    assert.match(same1.text, /"status":"enabled"/);
  });

  it('max_decoder_header_table_size.toml: http2.maxDecoderHeaderTableSize is the SETTINGS_HEADER_TABLE_SIZE sent', async () => {
    const p = await proxy(`[entryPoints]
  [entryPoints.web]
    address = ":8000"
    [entryPoints.web.http2]
      maxDecoderHeaderTableSize = 10000

[providers.file]
  filename = "{{ .SelfFilename }}"
`);
    // Prior-knowledge h2c on the cleartext entry point (the fixture has no TLS router).
    const session = connectH2(`http://127.0.0.1:${p.ports.web!}`);
    try {
      const settings = await new Promise<Settings>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no SETTINGS')), 5_000);
        session.once('remoteSettings', (s) => {
          clearTimeout(t);
          resolve(s);
        });
        session.once('error', reject);
      });
      assert.equal(settings.headerTableSize, 10000);
    } finally {
      session.destroy();
    }
  });

  // integration/fixtures/https/https_domain_fronting.toml, its v3.7 routers 4 to 6 (routers 1 to 3
  // are TestWithDomainFronting in ./https.test.ts): a host whose routers ask different options
  // (site4) gets the default ones, one whose routers agree (site5) keeps them, and a rule's
  // trailing dot (site6) names the same host.
  it('https_domain_fronting.toml (site4 to site6): conflict, agreement and a trailing dot in the rule', async () => {
    const backends = new Map<string, string>();
    for (const n of [4, 5, 6]) {
      const b = await startBackend((_req, res) => res.end(`server${n}`));
      open.push(() => b.close());
      backends.set(`Server${n}`, b.url);
    }
    const p = await proxy(
      `[entryPoints.websecure]
  address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.router4]
  rule = "Host(\`site4.www.snitest.com\`)"
  service = "service4"
  [http.routers.router4.tls]

[http.routers.router4path]
  rule = "Host(\`site4.www.snitest.com\`) && PathPrefix(\`/foo\`)"
  service = "service4"
  [http.routers.router4path.tls]
    options = "mytls"

[http.services.service4]
  [[http.services.service4.loadBalancer.servers]]
    url = "{{ .Server4 }}"

[http.routers.router5]
  rule = "Host(\`site5.www.snitest.com\`)"
  service = "service5"
  [http.routers.router5.tls]
    options = "mytls"

[http.routers.router5path]
  rule = "Host(\`site5.www.snitest.com\`) && PathPrefix(\`/bar\`)"
  service = "service5"
  [http.routers.router5path.tls]
    options = "mytls"

[http.services.service5]
  [[http.services.service5.loadBalancer.servers]]
    url = "{{ .Server5 }}"

[http.routers.router6]
  rule = "Host(\`site6.www.snitest.com.\`)"
  service = "service6"
  [http.routers.router6.tls]
    options = "mytls"

[http.services.service6]
  [[http.services.service6.loadBalancer.servers]]
    url = "{{ .Server6 }}"

[[tls.certificates]]
  certFile = "fixtures/https/wildcard.www.snitest.com.cert"
  keyFile = "fixtures/https/wildcard.www.snitest.com.key"

[tls.options]
  [tls.options.mytls]
    maxVersion = "VersionTLS12"
`,
      Object.fromEntries(backends),
    );
    const port = p.ports.websecure!;
    const get = (servername: string, host = servername, path = '/') =>
      httpsGet(port, { servername, host, path });
    const site4 = await get('site4.www.snitest.com', 'site4.www.snitest.com', '/foo');
    assert.equal(site4.protocol, 'TLSv1.3', 'site4: the conflict did not fall back to the default options');
    assert.equal(site4.body, 'server4');
    const site5 = await get('site5.www.snitest.com', 'site5.www.snitest.com', '/bar');
    assert.equal(site5.protocol, 'TLSv1.2');
    assert.equal(site5.body, 'server5');
    const site6 = await get('site6.www.snitest.com');
    assert.equal(site6.protocol, 'TLSv1.2', 'site6: the trailing dot lost the router its options');
    assert.equal(site6.body, 'server6');
    // Fronting between hosts of the same options follows the Host; between others, 421.
    assert.equal((await get('site5.www.snitest.com', 'site6.www.snitest.com')).body, 'server6');
    assert.equal((await get('site4.www.snitest.com', 'site5.www.snitest.com')).status, 421);
  });
});
