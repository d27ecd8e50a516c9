/**
 * Traefik's integration/acme_test.go (v3) run against our proxy and Debian's pebble with
 * pebble-challtestsrv on loopback (test/helpers/pebble.ts: every name resolves to 127.0.0.1). Each
 * test names the Go test it follows. Fixtures: integration/fixtures/acme/*.toml in their v3 form,
 * their Go template filled in here (one `[certificatesResolvers.<name>.acme]` per resolver, the
 * domains of the router or of the default store's `defaultGeneratedCert`); the Go test's
 * PortHTTP/PortHTTPS (:5002/:5001) are the ports pebble's validator connects to, its backend on
 * :9010 a loopback server, its wildcard.crt a self-signed RSA `*.acme.wtf` made with openssl, and
 * pebble's CA is trusted through LEGO_CA_CERTIFICATES, as the Go suite does.
 *
 * As the Go test's retrieveAcmeCertificate, each case asks https://127.0.0.1:<PortHTTPS>/ with the
 * host as SNI and Host until the certificate's common name is the expected one (Go: for 60 s), then
 * checks the status and the key's algorithm.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { acmeContext } from '../../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../../helpers/backends.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import { freePort, type Pebble, startPebble } from '../../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../../helpers/proxy-process.ts';
import { toolPath } from '../../helpers/tools.ts';
import { CONFIG_NAME } from './fixture.ts';

const ACME_DOMAIN = 'traefik.acme.wtf';
const WILDCARD_DOMAIN = '*.acme.wtf';

interface Resolver {
  readonly httpChallenge?: string;
  readonly tlsChallenge?: boolean;
  readonly keyType?: string;
  readonly caServer?: string;
}

interface Domain {
  readonly main: string;
  readonly sans?: readonly string[];
}

interface SubCase {
  readonly host: string;
  readonly cn: string;
  readonly algorithm: 'rsa' | 'ec';
}

/** One pebble and the two ports its validator connects to: the proxy's web and web-secure. */
interface Env {
  readonly ca: Pebble;
  readonly webPort: number;
  readonly tlsPort: number;
  readonly caFile: string;
}

let dir: string;
let backend: Backend;
let wildcard: { cert: string; key: string };
const envs: Env[] = [];

async function startEnv(): Promise<Env> {
  const webPort = await freePort();
  const tlsPort = await freePort();
  const ca = await startPebble({ httpPort: webPort, tlsPort });
  const caFile = join(mkdtempSync(join(dir, 'ca-')), 'pebble.minica.pem');
  writeFileSync(caFile, ca.serverCaPem);
  const e = { ca, webPort, tlsPort, caFile };
  envs.push(e);
  return e;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'traefik-acme-'));
  backend = await startBackend((_req, res) => res.end());
  wildcard = { cert: join(dir, 'wildcard.crt'), key: join(dir, 'wildcard.key') };
  execFileSync(
    toolPath('openssl'),
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', wildcard.key, '-out', wildcard.cert].concat([
      '-days',
      '2',
      '-subj',
      `/CN=${WILDCARD_DOMAIN}`,
      '-addext',
      `subjectAltName=DNS:${WILDCARD_DOMAIN}`,
    ]),
    { stdio: 'ignore' },
  );
});

after(async () => {
  for (const e of envs) await e.ca.close();
  await backend?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The fixtures' static part: the two entry points and the resolvers (range .Acme). */
function staticPart(
  e: Env,
  acme: Readonly<Record<string, Resolver>>,
  storage: string,
  secure = 'web-secure',
): string {
  const resolvers = Object.entries(acme)
    .map(
      ([name, r]) => `
[certificatesResolvers.${name}.acme]
  email = "test@traefik.io"
  storage = "${storage}"
${r.keyType === undefined ? '' : `  keyType = "${r.keyType}"\n`}  caServer = "${r.caServer ?? e.ca.directoryUrl}"
${r.httpChallenge === undefined ? '' : `  [certificatesResolvers.${name}.acme.httpChallenge]\n    entryPoint = "${r.httpChallenge}"\n`}${r.tlsChallenge === true ? `  [certificatesResolvers.${name}.acme.tlsChallenge]\n` : ''}`,
    )
    .join('');
  return `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = "127.0.0.1:${e.webPort}"
  [entryPoints.${secure}]
    address = "127.0.0.1:${e.tlsPort}"
${resolvers}
[providers.file]
  filename = "${CONFIG_NAME}"

## dynamic configuration ##

[http.services]
  [http.services.test.loadBalancer]
    [[http.services.test.loadBalancer.servers]]
      url = "${backend.url}"
`;
}

function domainsToml(table: string, domains: readonly Domain[]): string {
  return domains
    .map(
      (d) => `
  [[${table}]]
    main = "${d.main}"
    sans = [${(d.sans ?? []).map((s) => `"${s}"`).join(', ')}]`,
    )
    .join('');
}

/** acme_base.toml: a router on Host(`traefik.acme.wtf`) with the `default` resolver. */
const base = (e: Env, acme: Record<string, Resolver>, storage: string) => `${staticPart(e, acme, storage)}
[http.routers]
  [http.routers.test]
    entryPoints = ["web-secure"]
    rule = "Host(\`${ACME_DOMAIN}\`)"
    service = "test"
    [http.routers.test.tls]
      certResolver = "default"
`;

/** acme_domains.toml: PathPrefix(`/`), the domains given on the router's tls. */
const domainsFixture =
  (domains: readonly Domain[]) => (e: Env, acme: Record<string, Resolver>, storage: string) =>
    `${staticPart(e, acme, storage)}
[http.routers]
  [http.routers.test]
    entryPoints = ["web-secure"]
    rule = "PathPrefix(\`/\`)"
    service = "test"
    [http.routers.test.tls]
      certResolver = "default"
${domainsToml('http.routers.test.tls.domains', domains)}
`;

/** acme_store_domains.toml: the default store's generated certificate from the resolver. */
const storeDomains = (domain: Domain) => (e: Env, acme: Record<string, Resolver>, storage: string) =>
  `${staticPart(e, acme, storage, 'websecure')}
[http.routers]
  [http.routers.test]
    entryPoints = ["websecure"]
    rule = "PathPrefix(\`/\`)"
    service = "test"
    [http.routers.test.tls]

[tls.stores]
  [tls.stores.default.defaultGeneratedCert]
    resolver = "default"
    [tls.stores.default.defaultGeneratedCert.domain]
      main = "${domain.main}"
      sans = [${(domain.sans ?? []).map((s) => `"${s}"`).join(', ')}]
`;

/** acme_multiple_resolvers.toml: two routers, one per resolver. */
const multipleResolvers = (
  e: Env,
  acme: Record<string, Resolver>,
  storage: string,
) => `${staticPart(e, acme, storage)}
[http.routers]
  [http.routers.test]
    entryPoints = ["web-secure"]
    rule = "Host(\`${ACME_DOMAIN}\`)"
    service = "test"
    [http.routers.test.tls]
      certResolver = "default"

  [http.routers.tchouk]
    entryPoints = ["web-secure"]
    rule = "Host(\`tchouk.acme.wtf\`)"
    service = "test"
    [http.routers.tchouk.tls]
      certResolver = "tchouk"
`;

/** acme_tls.toml: the router's resolver, and the wildcard as the default store's certificate. */
const tlsDefault = (e: Env, acme: Record<string, Resolver>, storage: string) => `${base(e, acme, storage)}
[tls.stores]
  [tls.stores.default.defaultCertificate]
    certFile = "${wildcard.cert}"
    keyFile = "${wildcard.key}"
`;

/** acme_tls_dynamic.toml (+ certificates.toml): the wildcard among the dynamic certificates. */
const tlsDynamic = (e: Env, acme: Record<string, Resolver>, storage: string) => `${base(e, acme, storage)}
[[tls.certificates]]
  certFile = "${wildcard.cert}"
  keyFile = "${wildcard.key}"
`;

/** acme_tcp.toml: a TCP router on HostSNI with the resolver. */
const tcp = (e: Env, acme: Record<string, Resolver>, storage: string) => `${staticPart(
  e,
  acme,
  storage,
).replace(/\[http\.services\][\s\S]*$/, '')}
[tcp.services]
  [tcp.services.test.loadBalancer]
    [[tcp.services.test.loadBalancer.servers]]
      address = "127.0.0.1:${backend.port}"

[tcp.routers]
  [tcp.routers.test]
    entryPoints = ["web-secure"]
    rule = "HostSNI(\`${ACME_DOMAIN}\`)"
    service = "test"
    [tcp.routers.test.tls]
      certResolver  = "default"
`;

type Fixture = (e: Env, acme: Record<string, Resolver>, storage: string) => string;

interface Presented {
  readonly status: number;
  readonly cn: string;
  readonly algorithm: string;
}

/** One GET / on a new TLS connection with `host` as SNI and Host, any certificate accepted. */
function presented(port: number, host: string): Promise<Presented> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: host,
        headers: { host, accept: '*/*' },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        const x509 = new X509Certificate(peer.raw);
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cn: String(peer.subject?.CN ?? ''),
            algorithm: x509.publicKey.asymmetricKeyType ?? '',
          }),
        );
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The Go test's retrieveAcmeCertificate. */
async function retrieve(
  e: Env,
  fixture: Fixture,
  acme: Record<string, Resolver>,
  subCases: readonly SubCase[],
): Promise<ProxyProcess> {
  const storage = join(mkdtempSync(join(dir, 'case-')), 'acme.json');
  const p = await startProxy({
    config: fixture(e, acme, storage),
    configName: CONFIG_NAME,
    env: { LEGO_CA_CERTIFICATES: e.caFile },
  });
  try {
    for (const sub of subCases) {
      const deadline = Date.now() + 60_000;
      let last: Presented | Error | undefined;
      for (;;) {
        try {
          last = await presented(e.tlsPort, sub.host);
          if (last.cn === sub.cn) break;
        } catch (e) {
          last = e as Error;
        }
        if (Date.now() > deadline) {
          const seen = last instanceof Error ? last.message : last?.cn;
          throw new Error(`${sub.host}: no certificate for ${sub.cn}, last ${seen}${acmeContext(p, e.ca)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(last.status, 200);
      assert.equal(last.cn, sub.cn);
      assert.equal(last.algorithm, sub.algorithm);
    }
    return p;
  } finally {
    await p.stop();
  }
}

const http01 = { default: { httpChallenge: 'web' } };
const tlsAlpn01 = { default: { tlsChallenge: true } };
const onDomain: SubCase[] = [{ host: ACME_DOMAIN, cn: ACME_DOMAIN, algorithm: 'rsa' }];
const inSan: SubCase[] = [{ host: ACME_DOMAIN, cn: 'acme.wtf', algorithm: 'rsa' }];

// Two groups, each with its own pebble (the validator's ports are fixed per pebble), run side by
// side: the certificates' RSA keys and pebble's validations keep a single group near a minute.
describe('traefik integration/acme_test.go', { concurrency: 2 }, () => {
  describe('http-01', { concurrency: 1 }, () => {
    let e: Env;
    before(async () => {
      e = await startEnv();
    });

    it('TestHTTP01Domains: the router tls.domains main is obtained with http-01', async () => {
      await retrieve(e, domainsFixture([{ main: ACME_DOMAIN }]), http01, onDomain);
    });

    it("TestHTTP01StoreDomains: the default store's generated certificate is obtained", async () => {
      await retrieve(e, storeDomains({ main: ACME_DOMAIN }), http01, onDomain);
    });

    it('TestHTTP01DomainsInSAN: a SAN of the router tls.domains is served by the certificate of its main', async () => {
      await retrieve(e, domainsFixture([{ main: 'acme.wtf', sans: [ACME_DOMAIN] }]), http01, inSan);
    });

    it("TestHTTP01OnHostRule: the router's Host rule is obtained", async () => {
      await retrieve(e, base, http01, onDomain);
    });

    it('TestHTTP01OnHostRuleECDSA: keyType EC384 gives an ECDSA certificate', async () => {
      await retrieve(e, base, { default: { httpChallenge: 'web', keyType: 'EC384' } }, [
        { host: ACME_DOMAIN, cn: ACME_DOMAIN, algorithm: 'ec' },
      ]);
    });

    it('TestHTTP01OnHostRuleInvalidAlgo: an unknown keyType gives an RSA certificate', async () => {
      await retrieve(e, base, { default: { httpChallenge: 'web', keyType: 'INVALID' } }, onDomain);
    });

    it('TestHTTP01OnHostRuleDefaultDynamicCertificatesWithWildcard: the default certificate covering the host is served', async () => {
      await retrieve(e, tlsDefault, http01, [{ host: ACME_DOMAIN, cn: WILDCARD_DOMAIN, algorithm: 'rsa' }]);
    });

    it('TestHTTP01OnHostRuleDynamicCertificatesWithWildcard: a dynamic certificate covering the host is served', async () => {
      await retrieve(e, tlsDynamic, http01, [{ host: ACME_DOMAIN, cn: WILDCARD_DOMAIN, algorithm: 'rsa' }]);
    });
  });

  describe('tls-alpn-01, several resolvers, no CA', { concurrency: 1 }, () => {
    let e: Env;
    before(async () => {
      e = await startEnv();
    });

    it('TestMultipleResolver: each router gets its certificate from its resolver (RSA http-01, EC256 tls-alpn-01)', async () => {
      await retrieve(
        e,
        multipleResolvers,
        { default: { httpChallenge: 'web' }, tchouk: { tlsChallenge: true, keyType: 'EC256' } },
        [
          { host: ACME_DOMAIN, cn: ACME_DOMAIN, algorithm: 'rsa' },
          { host: 'tchouk.acme.wtf', cn: 'tchouk.acme.wtf', algorithm: 'ec' },
        ],
      );
    });

    it("TestTLSALPN01OnHostRuleTCP: a TCP router's HostSNI is obtained with tls-alpn-01", async () => {
      await retrieve(e, tcp, tlsAlpn01, onDomain);
    });

    it("TestTLSALPN01OnHostRule: the router's Host rule is obtained with tls-alpn-01", async () => {
      await retrieve(e, base, tlsAlpn01, onDomain);
    });

    it('TestTLSALPN01Domains: the router tls.domains main is obtained with tls-alpn-01', async () => {
      await retrieve(e, domainsFixture([{ main: ACME_DOMAIN }]), tlsAlpn01, onDomain);
    });

    it('TestTLSALPN01DomainsInSAN: a SAN of the router tls.domains, with tls-alpn-01', async () => {
      await retrieve(e, domainsFixture([{ main: 'acme.wtf', sans: [ACME_DOMAIN] }]), tlsAlpn01, inSan);
    });

    it('TestNoValidLetsEncryptServer: with a CA that cannot be reached, the proxy still starts and serves', async () => {
      const storage = join(mkdtempSync(join(dir, 'case-')), 'acme.json');
      // The Go test's http://wrongurl:4001/directory, as a closed loopback port (no DNS query leaves).
      const caServer = `http://127.0.0.1:${await freePort()}/directory`;
      const p = await startProxy({
        config: base(e, { default: { httpChallenge: 'web', caServer } }, storage)
          // The API the Go test asks (`[api] insecure`), on a declared traefik entry point.
          .replace(
            '[providers.file]',
            '[entryPoints.traefik]\n  address = "127.0.0.1:0"\n\n[api]\n  insecure = true\n\n[providers.file]',
          ),
        configName: CONFIG_NAME,
        entryPoints: 3,
        env: { LEGO_CA_CERTIFICATES: e.caFile },
      });
      try {
        assert.equal((await httpRequest(p.ports.traefik!, { path: '/api/rawdata' })).status, 200);
      } finally {
        await p.stop();
      }
    });
  });
});
