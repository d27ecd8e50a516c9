/**
 * ACME through the real proxy process against a real CA: Debian's pebble with pebble-challtestsrv
 * as its DNS (every name resolves to 127.0.0.1), all on loopback. Pebble's validator connects to
 * the proxy's own entry points: `web` is pebble's httpPort (http-01 answered by the generated
 * challenge router) and `websecure` its tlsPort (tls-alpn-01 answered by the TLS front).
 *
 * Clients handshake with the test name as SNI and trust only pebble's root, so "authorized" means
 * the chain the proxy presents links up to the CA that issued it; before issuance the proxy
 * presents its generated default certificate, which is not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { acmeContext, type Fetched, fetchTls, hasDomain, untilTrusted } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort, PEBBLE_SKIP, type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

const noPebble = PEBBLE_SKIP;

function proxyConfig(o: {
  readonly webPort: number;
  readonly tlsPort: number;
  readonly ca: Pebble;
  readonly caFile: string;
  readonly storage: string;
  readonly backend: Backend;
  readonly resolvers: Readonly<Record<string, 'http' | 'tls'>>;
  readonly routers: Readonly<Record<string, { readonly host: string; readonly resolver: string }>>;
  /** `tls.stores.default.defaultGeneratedCert`: the default certificate from this resolver. */
  readonly defaultFrom?: { readonly resolver: string; readonly main: string };
  /**
   * The resolvers' `keyType`, EC256 when absent: no case here is about the key type, and an
   * RSA-4096 key (Traefik's default, which test/e2e/traefik-integration/acme.test.ts keeps) takes
   * seconds to generate, per certificate, on a loaded machine.
   */
  readonly keyType?: string;
}): string {
  const resolvers = Object.entries(o.resolvers)
    .map(
      ([name, kind]) => `  ${name}:
    acme:
      email: "admin@acme.test"
      caServer: "${o.ca.directoryUrl}"
      storage: "${o.storage}"
      caCertificates: ["${o.caFile}"]
      keyType: ${o.keyType ?? 'EC256'}
${kind === 'http' ? '      httpChallenge: { entryPoint: web }' : '      tlsChallenge: {}'}
`,
    )
    .join('');
  const routers = Object.entries(o.routers)
    .map(
      ([name, r]) => `    ${name}:
      rule: "Host(\`${r.host}\`)"
      entryPoints: [websecure]
      service: be
      tls: { certResolver: ${r.resolver} }
`,
    )
    .join('');
  return `entryPoints:
  web:
    address: "127.0.0.1:${o.webPort}"
  websecure:
    address: "127.0.0.1:${o.tlsPort}"
    http:
      tls: {}
log: { level: INFO }
certificatesResolvers:
${resolvers}http:
  routers:
${routers}  services:
    be:
      loadBalancer:
        servers: [{ url: "${o.backend.url}" }]
${
  o.defaultFrom === undefined
    ? ''
    : `tls:
  stores:
    default:
      defaultGeneratedCert:
        resolver: ${o.defaultFrom.resolver}
        domain: { main: ${o.defaultFrom.main} }
`
}`;
}

/** The certificate the proxy presents for a handshake with `servername` ('' sends no SNI). */
function presented(port: number, servername: string): Promise<{ issuer: string; san: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const peer = s.getPeerCertificate();
      s.destroy();
      resolve({ issuer: String(peer.issuer?.CN ?? ''), san: peer.subjectaltname ?? '' });
    });
    s.setTimeout(5_000, () => s.destroy(new Error('handshake timed out')));
    s.on('error', reject);
  });
}

describe('ACME certificates through the proxy (http-01, tls-alpn-01, storage)', { skip: noPebble }, () => {
  const HTTP_NAME = 'acme-http.test';
  const ALPN_NAME = 'acme-alpn.test';
  const DEFAULT_NAME = 'acme-default.test';
  let dir: string;
  let ca: Pebble;
  let root: string;
  let backend: Backend;
  let proxy: ProxyProcess;
  let config: string;
  let webPort: number;
  let tlsPort: number;
  let storage: string;
  const served = new Map<string, Fetched>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-e2e-'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    webPort = await freePort();
    tlsPort = await freePort();
    ca = await startPebble({ httpPort: webPort, tlsPort });
    root = await ca.rootCertificate();
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    // Both resolvers share one storage file, as Traefik's examples do: each owns its section.
    storage = join(dir, 'acme.json');
    config = proxyConfig({
      webPort,
      tlsPort,
      ca,
      caFile,
      storage,
      backend,
      resolvers: { le: 'http', alpn: 'tls' },
      routers: {
        viaHttp: { host: HTTP_NAME, resolver: 'le' },
        viaAlpn: { host: ALPN_NAME, resolver: 'alpn' },
      },
      defaultFrom: { resolver: 'le', main: DEFAULT_NAME },
    });
    proxy = await startProxy({ config });
  });

  after(async () => {
    await proxy?.stop();
    await ca?.close();
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('obtains a certificate with http-01 answered on the web entry point and serves it by SNI', async () => {
    const obtained = proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, HTTP_NAME), 20_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    await obtained;
    const got = await untilTrusted(tlsPort, HTTP_NAME, root, {
      what: `pebble's certificate for ${HTTP_NAME}`,
      ms: 5_000,
    });
    assert.equal(got.status, 200);
    assert.equal(got.body, 'backend ok');
    assert.match(got.issuer, /Pebble Intermediate/, 'issued by pebble, not the generated default');
    // Pebble fetched the token from the proxy's web entry point (nothing else listens there).
    assert.ok(
      ca.output().includes(`validate w/ HTTP: http://${HTTP_NAME}:${webPort}/.well-known/acme-challenge/`),
      acmeContext(proxy, ca),
    );
    assert.equal(
      proxy.logs.some((l) => l.msg === 'acme certificate request failed'),
      false,
      acmeContext(proxy, ca),
    );
    served.set(HTTP_NAME, got);
  });

  it('obtains a certificate with tls-alpn-01 answered by the TLS front of websecure', async () => {
    await proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, ALPN_NAME), 20_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    const got = await untilTrusted(tlsPort, ALPN_NAME, root, {
      what: `pebble's certificate for ${ALPN_NAME}`,
      ms: 5_000,
    });
    assert.equal(got.status, 200);
    assert.equal(got.body, 'backend ok');
    assert.match(got.issuer, /Pebble Intermediate/);
    const alpnLine = proxy.logs.find((l) => l.msg === 'acme certificate obtained' && hasDomain(l, ALPN_NAME));
    assert.equal(alpnLine?.resolver, 'alpn');
    // Validated on websecure by tls-alpn-01: pebble never tried http-01 for this name.
    assert.equal(ca.output().includes(`validate w/ HTTP: http://${ALPN_NAME}`), false);
    // Each name gets its own certificate: the SNI chooses.
    const other = served.get(HTTP_NAME);
    if (other !== undefined) assert.notEqual(got.fingerprint, other.fingerprint);
    served.set(ALPN_NAME, got);
  });

  it('obtains the default certificate from the resolver named by defaultGeneratedCert and serves it without or with an unknown SNI', async () => {
    await proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, DEFAULT_NAME), 20_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    // The store is rebuilt after the certificate arrives: poll briefly for the swap.
    const deadline = Date.now() + 5_000;
    let got = await presented(tlsPort, 'unknown.test');
    while (!got.issuer.includes('Pebble') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      got = await presented(tlsPort, 'unknown.test');
    }
    assert.match(
      got.issuer,
      /Pebble Intermediate/,
      `the generated certificate is still served${acmeContext(proxy, ca)}`,
    );
    assert.equal(got.san, `DNS:${DEFAULT_NAME}`);
    const noSni = await presented(tlsPort, '');
    assert.equal(noSni.san, `DNS:${DEFAULT_NAME}`);
    // Names with their own certificate keep it.
    assert.notEqual((await presented(tlsPort, HTTP_NAME)).san, `DNS:${DEFAULT_NAME}`);
  });

  it('keeps the certificates in a 0600 storage file and serves them after a restart without a new order', async () => {
    assert.ok(served.has(HTTP_NAME) && served.has(ALPN_NAME), 'the two issuance tests passed');
    assert.equal(statSync(storage).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(storage, 'utf8')) as Record<
      string,
      { Account?: { Email?: string }; Certificates?: { domain: { main: string } }[] }
    >;
    assert.deepEqual(stored.le?.Certificates?.map((c) => c.domain.main).sort(), [DEFAULT_NAME, HTTP_NAME]);
    assert.deepEqual(
      stored.alpn?.Certificates?.map((c) => c.domain.main),
      [ALPN_NAME],
    );
    assert.equal(stored.le?.Account?.Email, 'admin@acme.test');

    // With the CA down, any order would fail: the restarted proxy must not even try.
    await ca.stop();
    await proxy.stop();
    proxy = await startProxy({ config });
    for (const name of [HTTP_NAME, ALPN_NAME]) {
      // No polling: stored certificates are loaded before the first configuration is built.
      const got = await fetchTls(tlsPort, name, root);
      assert.ok(got.trusted, `${name}: ${got.why}`);
      assert.equal(got.status, 200);
      assert.equal(got.fingerprint, served.get(name)?.fingerprint, `${name}: the stored certificate`);
    }
    const asked = proxy.logs.filter(
      (l) =>
        l.msg === 'acme obtaining certificate' ||
        l.msg === 'acme renewing certificate' ||
        l.msg === 'acme certificate request failed',
    );
    assert.deepEqual(asked, [], 'no order after a restart with stored certificates');
  });
});

describe('ACME renewal of short-lived certificates through the proxy', { skip: noPebble }, () => {
  const NAME = 'acme-renew.test';
  // Pebble issues for this many seconds minus one; the proxy renews when a third is left (~7 s in).
  const VALIDITY_S = 12;
  let dir: string;
  let ca: Pebble;
  let root: string;
  let backend: Backend;
  let proxy: ProxyProcess;
  let tlsPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-e2e-'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    const webPort = await freePort();
    tlsPort = await freePort();
    ca = await startPebble({ httpPort: webPort, tlsPort, certificateValidityPeriod: VALIDITY_S });
    root = await ca.rootCertificate();
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    proxy = await startProxy({
      config: proxyConfig({
        webPort,
        tlsPort,
        ca,
        caFile,
        storage: join(dir, 'acme.json'),
        backend,
        resolvers: { le: 'http' },
        routers: { renewing: { host: NAME, resolver: 'le' } },
        // A 12 s certificate leaves ~4 s to renew: an RSA-4096 key takes 1–5 s to generate on a
        // loaded machine. The key type is not what this test is about.
        keyType: 'EC256',
      }),
    });
  });

  after(async () => {
    await proxy?.stop();
    await ca?.close();
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('renews before expiry and serves the new certificate to new handshakes without failing requests', async () => {
    await proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, NAME), 20_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    const first = await untilTrusted(tlsPort, NAME, root, {
      what: `the first certificate for ${NAME}`,
      ms: 5_000,
    });
    const lifetimeS = (Date.parse(first.validTo) - Date.parse(first.validFrom)) / 1000;
    assert.ok(lifetimeS <= VALIDITY_S, `pebble issued for ${lifetimeS} s, not ${VALIDITY_S} s`);

    // Requests on new connections back to back until a handshake shows the renewed certificate.
    const failures: string[] = [];
    let requests = 0;
    let renewed: Fetched | undefined;
    const deadline = Date.now() + 3 * VALIDITY_S * 1000;
    while (renewed === undefined && Date.now() < deadline) {
      requests++;
      try {
        const r = await fetchTls(tlsPort, NAME, root);
        if (!r.trusted || r.status !== 200) failures.push(`${r.status} ${r.serial} ${r.why}`);
        else if (r.serial !== first.serial) renewed = r;
      } catch (e) {
        failures.push((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      renewed,
      `no renewed certificate was served within ${3 * VALIDITY_S} s${acmeContext(proxy, ca)}`,
    );
    assert.deepEqual(
      failures,
      [],
      `requests failed during renewal (of ${requests})${acmeContext(proxy, ca)}`,
    );
    assert.notEqual(renewed.fingerprint, first.fingerprint);
    assert.equal(renewed.body, 'backend ok');
    assert.ok(Date.parse(renewed.validTo) > Date.parse(first.validTo), 'the new one lives longer');
    assert.ok(proxy.logs.some((l) => l.msg === 'acme certificate renewed' && hasDomain(l, NAME)));
  });

  it('keeps serving the current certificate while the CA is down and logs the failed renewal', async () => {
    await ca.stop();
    const mark = proxy.logs.length;
    const current = await fetchTls(tlsPort, NAME, root);
    assert.ok(current.trusted, current.why);
    const failed = await waitForLogFrom(
      proxy,
      mark,
      (l) => l.msg === 'acme certificate request failed' && hasDomain(l, NAME),
      2 * VALIDITY_S * 1000,
    ).catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    assert.equal(failed.level, 'error');
    assert.equal(failed.servingCurrent, true);
    assert.equal(failed.resolver, 'le');
    assert.ok(typeof failed.error === 'string' && failed.error !== '', 'the ACME error is in the log line');
    assert.ok(typeof failed.retryInMs === 'number' && failed.retryInMs > 0, 'a retry is scheduled');

    const after = await fetchTls(tlsPort, NAME, root);
    assert.ok(after.trusted, `still served and valid: ${after.why}`);
    assert.equal(after.status, 200);
    assert.equal(after.body, 'backend ok');
    assert.equal(after.fingerprint, current.fingerprint, 'the certificate served before the failure');
  });
});
