/**
 * DNS-01 through the real proxy process with lego's API providers (Cloudflare with an API token
 * and with the email/global key, OVH, Route 53, DigitalOcean, Hetzner, Gandi v5, … deSEC, Namecheap, Azure DNS), each talking to
 * its test double on loopback (src/tls/acme/test-fake-*.ts: the API's authentication, signatures
 * and request shapes), with certificates issued by Debian's pebble.
 *
 * What the doubles accept goes to two DNS servers: pebble-challtestsrv, which pebble's validator
 * asks, and a small authoritative server of ours (TestDnsServer) that holds every zone's SOA and
 * is the proxy's `resolvers`: the providers find their zone from its SOA, as lego does, and the
 * propagation check asks it for the record. Nothing else publishes records, so a certificate
 * issued means the provider wrote exactly the value pebble expected, through the API, in the
 * zone the API holds; the doubles' call lists show the record withdrawn afterwards.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDnsServer } from '../../src/tls/acme/test-dns-server.ts';
import { startFakeAzure } from '../../src/tls/acme/test-fake-azure.ts';
import { CLOUDFLARE_BASE_PATH, startFakeCloudflare } from '../../src/tls/acme/test-fake-cloudflare.ts';
import { DESEC_BASE_PATH, startFakeDesec } from '../../src/tls/acme/test-fake-desec.ts';
import { startFakeDigitalOcean } from '../../src/tls/acme/test-fake-digitalocean.ts';
import type { DnsBackend, FakeApi } from '../../src/tls/acme/test-fake-dns-api.ts';
import { startFakeDuckDns } from '../../src/tls/acme/test-fake-duckdns.ts';
import { GANDI_BASE_PATH, startFakeGandi } from '../../src/tls/acme/test-fake-gandi.ts';
import { startFakeGCloud } from '../../src/tls/acme/test-fake-gcloud.ts';
import { startFakeGoDaddy } from '../../src/tls/acme/test-fake-godaddy.ts';
import { startFakeHetzner } from '../../src/tls/acme/test-fake-hetzner.ts';
import { startFakeLinode } from '../../src/tls/acme/test-fake-linode.ts';
import { startFakeNamecheap } from '../../src/tls/acme/test-fake-namecheap.ts';
import { startFakeOvh } from '../../src/tls/acme/test-fake-ovh.ts';
import { startFakePorkbun } from '../../src/tls/acme/test-fake-porkbun.ts';
import { startFakeRoute53 } from '../../src/tls/acme/test-fake-route53.ts';
import { obtainedAndServed as obtained } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** POSTs JSON to challtestsrv's management API. */
function challtestsrv(base: string, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Publishes on challtestsrv (for pebble) and on our authoritative server (for the proxy). */
class TwoDnsBackend implements DnsBackend {
  readonly #dns: TestDnsServer;
  readonly #cts: string;
  readonly #values = new Map<string, string[]>();
  /** Every add and remove, `+name value` / `-name value`. */
  readonly log: string[] = [];

  constructor(dns: TestDnsServer, challtestsrvUrl: string) {
    this.#dns = dns;
    this.#cts = challtestsrvUrl;
  }

  async add(fqdn: string, value: string): Promise<void> {
    const name = abs(fqdn);
    this.log.push(`+${name} ${value}`);
    this.#values.set(name, [...(this.#values.get(name) ?? []), value]);
    this.#dns.setTxt(name, value);
    await challtestsrv(this.#cts, '/set-txt', { host: name, value });
  }

  async remove(fqdn: string, value: string): Promise<void> {
    const name = abs(fqdn);
    this.log.push(`-${name} ${value}`);
    const left = (this.#values.get(name) ?? []).filter((v) => v !== value);
    this.#values.set(name, left);
    this.#dns.records = this.#dns.records.filter(
      (r) => !(r.type === 'TXT' && abs(r.name) === name && r.value === value),
    );
    // challtestsrv clears a name whole: the values still wanted go back.
    await challtestsrv(this.#cts, '/clear-txt', { host: name });
    for (const v of left) await challtestsrv(this.#cts, '/set-txt', { host: name, value: v });
  }
}

function abs(name: string): string {
  return (name.endsWith('.') ? name : `${name}.`).toLowerCase();
}

/** One provider's resolver and router, and where its API double is. */
interface Case {
  readonly provider: string;
  /** Resolver name in the configuration. */
  readonly resolver: string;
  readonly host: string;
  /** `domains` of the router (a wildcard and its base name), when not the host alone. */
  readonly domains?: { readonly main: string; readonly sans: readonly string[] };
  readonly api: () => FakeApi;
}

const ZONES = [
  'cf.test',
  'cfkey.test',
  'ovh.test',
  'r53.test',
  'do.test',
  'hetzner.test',
  'gandi.test',
  'godaddy.test',
  'duckdns.org',
  'porkbun.test',
  'gcloud.test',
  'linode.test',
  'desec.test',
  'namecheap.test',
  'azure.test',
];
const R53_WILD = '*.r53.test';

describe('ACME dns-01 through the proxy with lego API providers and their test doubles', () => {
  let dir: string;
  let ca: Pebble;
  let root: string;
  let dns: TestDnsServer;
  let backend: TwoDnsBackend;
  let web: Backend;
  const apis = new Map<string, FakeApi>();
  let proxy: ProxyProcess;
  let proxyKey: ProxyProcess;

  const cases: Case[] = [
    { provider: 'cloudflare', resolver: 'cf', host: 'www.cf.test', api: () => apis.get('cloudflare')! },
    { provider: 'ovh', resolver: 'ovh', host: 'www.ovh.test', api: () => apis.get('ovh')! },
    {
      provider: 'route53',
      resolver: 'r53',
      host: 'api.r53.test',
      domains: { main: R53_WILD, sans: ['r53.test'] },
      api: () => apis.get('route53')!,
    },
    { provider: 'digitalocean', resolver: 'do', host: 'www.do.test', api: () => apis.get('digitalocean')! },
    { provider: 'hetzner', resolver: 'hz', host: 'www.hetzner.test', api: () => apis.get('hetzner')! },
    { provider: 'gandiv5', resolver: 'gandi', host: 'www.gandi.test', api: () => apis.get('gandiv5')! },
    { provider: 'godaddy', resolver: 'gd', host: 'www.godaddy.test', api: () => apis.get('godaddy')! },
    { provider: 'porkbun', resolver: 'pb', host: 'www.porkbun.test', api: () => apis.get('porkbun')! },
    { provider: 'gcloud', resolver: 'gce', host: 'www.gcloud.test', api: () => apis.get('gcloud')! },
    { provider: 'linode', resolver: 'lin', host: 'www.linode.test', api: () => apis.get('linode')! },
    { provider: 'desec', resolver: 'desec', host: 'www.desec.test', api: () => apis.get('desec')! },
    { provider: 'namecheap', resolver: 'nc', host: 'www.namecheap.test', api: () => apis.get('namecheap')! },
    { provider: 'azuredns', resolver: 'az', host: 'www.azure.test', api: () => apis.get('azuredns')! },
    { provider: 'duckdns', resolver: 'duck', host: 'mysite.duckdns.org', api: () => apis.get('duckdns')! },
  ];

  function config(list: readonly Case[]): string {
    const resolvers = list
      .map(
        (c) => `  ${c.resolver}:
    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${join(dir, `${c.resolver}-${list.length}.json`)}"
      caCertificates: ["${join(dir, 'pebble-ca.pem')}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      dnsChallenge:
        provider: ${c.provider}
        resolvers: ["${dns.address}"]
        propagation: { requireAllRNS: true, disableANSChecks: true }
`,
      )
      .join('');
    const routers = list
      .map(
        (c) => `    ${c.resolver}:
      rule: "Host(\`${c.host}\`)"
      entryPoints: [websecure]
      service: be
      tls:
        certResolver: ${c.resolver}
${c.domains === undefined ? '' : `        domains: [{ main: "${c.domains.main}", sans: [${c.domains.sans.map((s) => `"${s}"`).join(', ')}] }]\n`}`,
      )
      .join('');
    return `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
log: { level: INFO }
certificatesResolvers:
${resolvers}http:
  routers:
${routers}  services:
    be:
      loadBalancer:
        servers: [{ url: "${web.url}" }]
`;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-dns-providers-'));
    web = await startBackend((_req, res) => res.end('backend ok'));
    ca = await startPebble();
    root = await ca.rootCertificate();
    writeFileSync(join(dir, 'pebble-ca.pem'), ca.serverCaPem);
    dns = await TestDnsServer.start(ZONES.map((z) => ({ name: z, type: 'SOA' as const, value: `ns1.${z}` })));
    backend = new TwoDnsBackend(dns, ca.dnsManagementUrl);
    apis.set(
      'cloudflare',
      await startFakeCloudflare({
        zones: { 'cf.test': 'zone-cf', 'cfkey.test': 'zone-cfkey' },
        tokens: {
          'cf-dns': { zoneRead: false, dnsEdit: true },
          'cf-zone': { zoneRead: true, dnsEdit: false },
        },
        key: { email: 'admin@cfkey.test', key: 'cf-global-key' },
        backend,
      }),
    );
    apis.set(
      'ovh',
      await startFakeOvh({
        applicationKey: 'ovh-ak',
        applicationSecret: 'ovh-as',
        consumerKey: 'ovh-ck',
        zones: ['ovh.test'],
        clockOffsetS: 120,
        backend,
      }),
    );
    apis.set(
      'route53',
      await startFakeRoute53({
        accessKeyId: 'AKIAE2E',
        secretAccessKey: 'r53-secret',
        zones: [{ id: 'ZE2E', name: 'r53.test' }],
        backend,
      }),
    );
    apis.set(
      'digitalocean',
      await startFakeDigitalOcean({ token: 'do-token', domains: ['do.test'], backend }),
    );
    apis.set('hetzner', await startFakeHetzner({ token: 'hz-token', zones: ['hetzner.test'], backend }));
    apis.set(
      'gandiv5',
      await startFakeGandi({ authorizations: ['Bearer gandi-pat'], domains: ['gandi.test'], backend }),
    );
    apis.set(
      'godaddy',
      await startFakeGoDaddy({ key: 'gd-key', secret: 'gd-secret', domains: ['godaddy.test'], backend }),
    );
    apis.set(
      'duckdns',
      await startFakeDuckDns({ token: 'duck-token', domains: ['mysite.duckdns.org'], backend }),
    );
    apis.set(
      'porkbun',
      await startFakePorkbun({ apiKey: 'pk1', secretApiKey: 'sk1', domains: ['porkbun.test'], backend }),
    );
    apis.set('linode', await startFakeLinode({ token: 'lin-token', domains: ['linode.test'], backend }));
    apis.set('desec', await startFakeDesec({ token: 'desec-token', domains: ['desec.test'], backend }));
    const namecheap = await startFakeNamecheap({
      apiUser: 'nc-user',
      apiKey: 'nc-key',
      clientIp: '198.51.100.20',
      domains: ['namecheap.test'],
      backend,
    });
    apis.set('namecheap', namecheap);
    apis.set(
      'azuredns',
      await startFakeAzure({
        tenantId: 'e2e-tenant',
        clientId: 'e2e-client',
        clientSecret: 'e2e-secret',
        subscriptionId: 'e2e-sub',
        resourceGroup: 'e2e-rg',
        zones: ['azure.test'],
        backend,
      }),
    );
    const gceKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    apis.set(
      'gcloud',
      await startFakeGCloud({
        project: 'e2e-project',
        clientEmail: 'acme@e2e-project.iam.gserviceaccount.com',
        publicKey: gceKey.publicKey,
        zones: { 'gcloud-zone': 'gcloud.test' },
        backend,
      }),
    );
    const gceKeyFile = join(dir, 'gce.json');
    writeFileSync(
      gceKeyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'e2e-project',
        private_key_id: 'e2e',
        private_key: gceKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: 'acme@e2e-project.iam.gserviceaccount.com',
        token_uri: `${apis.get('gcloud')!.url}/token`,
      }),
    );
    const tokenFile = join(dir, 'cf_dns_token');
    writeFileSync(tokenFile, 'cf-dns\n');
    const polling = {
      CLOUDFLARE_POLLING_INTERVAL: '1',
      OVH_POLLING_INTERVAL: '1',
      AWS_POLLING_INTERVAL: '1',
      DO_POLLING_INTERVAL: '1',
      HETZNER_POLLING_INTERVAL: '1',
      GANDIV5_POLLING_INTERVAL: '1',
      GODADDY_POLLING_INTERVAL: '1',
      DUCKDNS_POLLING_INTERVAL: '1',
      PORKBUN_POLLING_INTERVAL: '1',
      GCE_POLLING_INTERVAL: '1',
      LINODE_POLLING_INTERVAL: '1',
      DESEC_POLLING_INTERVAL: '1',
      NAMECHEAP_POLLING_INTERVAL: '1',
      AZURE_POLLING_INTERVAL: '1',
    };
    proxy = await startProxy({
      config: config(cases),
      env: {
        ...polling,
        // The split-token form, the DNS token read from a file as Docker secrets are.
        CF_DNS_API_TOKEN_FILE: tokenFile,
        CF_ZONE_API_TOKEN: 'cf-zone',
        CLOUDFLARE_API_URL: `${apis.get('cloudflare')!.url}${CLOUDFLARE_BASE_PATH}`,
        OVH_ENDPOINT: `${apis.get('ovh')!.url}/1.0`,
        OVH_APPLICATION_KEY: 'ovh-ak',
        OVH_APPLICATION_SECRET: 'ovh-as',
        OVH_CONSUMER_KEY: 'ovh-ck',
        AWS_ACCESS_KEY_ID: 'AKIAE2E',
        AWS_SECRET_ACCESS_KEY: 'r53-secret',
        AWS_ENDPOINT_URL_ROUTE_53: apis.get('route53')!.url,
        DO_AUTH_TOKEN: 'do-token',
        DO_API_URL: apis.get('digitalocean')!.url,
        HETZNER_API_TOKEN: 'hz-token',
        HETZNER_API_URL: `${apis.get('hetzner')!.url}/v1`,
        GANDIV5_PERSONAL_ACCESS_TOKEN: 'gandi-pat',
        GANDIV5_API_URL: `${apis.get('gandiv5')!.url}${GANDI_BASE_PATH}`,
        GODADDY_API_KEY: 'gd-key',
        GODADDY_API_SECRET: 'gd-secret',
        GODADDY_API_URL: apis.get('godaddy')!.url,
        PORKBUN_API_KEY: 'pk1',
        PORKBUN_SECRET_API_KEY: 'sk1',
        PORKBUN_API_URL: apis.get('porkbun')!.url,
        // The key read from its file, as lego's GCE_SERVICE_ACCOUNT_FILE.
        GCE_SERVICE_ACCOUNT_FILE: gceKeyFile,
        GCE_API_URL: `${apis.get('gcloud')!.url}/dns/v1`,
        LINODE_TOKEN: 'lin-token',
        LINODE_URL: apis.get('linode')!.url,
        DESEC_TOKEN: 'desec-token',
        AZURE_CLIENT_ID: 'e2e-client',
        AZURE_CLIENT_SECRET: 'e2e-secret',
        AZURE_TENANT_ID: 'e2e-tenant',
        AZURE_SUBSCRIPTION_ID: 'e2e-sub',
        AZURE_RESOURCE_GROUP: 'e2e-rg',
        AZURE_AUTHORITY_HOST: apis.get('azuredns')!.url,
        AZURE_API_URL: apis.get('azuredns')!.url,
        NAMECHEAP_API_USER: 'nc-user',
        NAMECHEAP_API_KEY: 'nc-key',
        NAMECHEAP_API_URL: `${namecheap.url}/xml.response`,
        NAMECHEAP_GETIP_URL: namecheap.getIpUrl,
        DESEC_API_URL: `${apis.get('desec')!.url}${DESEC_BASE_PATH}/`,
        DUCKDNS_TOKEN: 'duck-token',
        DUCKDNS_API_URL: `${apis.get('duckdns')!.url}/update`,
      },
    });
    // The email/global-key form in a process of its own: lego prefers it over a token whenever
    // both are set, so the two forms cannot share one environment.
    proxyKey = await startProxy({
      config: config([
        {
          provider: 'cloudflare',
          resolver: 'cfkey',
          host: 'www.cfkey.test',
          api: () => apis.get('cloudflare')!,
        },
      ]),
      env: {
        ...polling,
        CF_API_EMAIL: 'admin@cfkey.test',
        CF_API_KEY: 'cf-global-key',
        CLOUDFLARE_API_URL: `${apis.get('cloudflare')!.url}${CLOUDFLARE_BASE_PATH}`,
      },
    });
  });

  after(async () => {
    await proxy?.stop();
    await proxyKey?.stop();
    for (const a of apis.values()) await a.close();
    await dns?.close();
    await ca?.close();
    await web?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const obtainedAndServed = (
    p: ProxyProcess,
    c: { resolver: string; host: string; domains?: Case['domains'] },
  ) => obtained(p, ca, root, { ...c, ...(c.domains === undefined ? {} : { name: c.domains.main }) });

  /** The record names this case published, each added then removed (the log of the back end). */
  function publishedAndWithdrawn(zone: string): void {
    const mine = backend.log.filter((l) => l.split(' ')[0]!.endsWith(`.${zone}.`));
    assert.ok(mine.length >= 2, `records were published in ${zone}: ${backend.log.join('\n')}`);
    const adds = mine.filter((l) => l.startsWith('+')).map((l) => l.slice(1));
    const removes = mine.filter((l) => l.startsWith('-')).map((l) => l.slice(1));
    assert.deepEqual([...removes].sort(), [...adds].sort(), 'every value published was withdrawn');
    for (const a of adds)
      assert.match(a.split(' ')[1] ?? '', /^[A-Za-z0-9_-]{43}$/, 'base64url of a SHA-256');
  }

  for (const c of cases) {
    it(`obtains a certificate through ${c.provider}'s API and serves it by SNI`, async () => {
      const got = await obtainedAndServed(proxy, c);
      const zone = c.host.split('.').slice(1).join('.');
      if (c.domains === undefined) assert.equal(got.san, `DNS:${c.host}`);
      else assert.equal(got.san, `DNS:${c.domains.main}, DNS:${c.domains.sans.join(', DNS:')}`);
      // Each authorization's record is withdrawn before the order is finalized.
      publishedAndWithdrawn(zone);
      assert.ok(c.api().calls.length > 0);
    });
  }

  it('uses the split Cloudflare tokens: the zone token for the zone, the DNS token (from its _FILE) for records', () => {
    const calls = apis.get('cloudflare')!.calls.filter((c) => c.headers.authorization !== undefined);
    assert.ok(calls.some((c) => c.method === 'GET' && c.headers.authorization === 'Bearer cf-zone'));
    assert.ok(calls.some((c) => c.method === 'POST' && c.headers.authorization === 'Bearer cf-dns'));
    assert.ok(calls.some((c) => c.method === 'DELETE' && c.headers.authorization === 'Bearer cf-dns'));
  });

  it('obtains a certificate through Cloudflare with the account email and global API key', async () => {
    const got = await obtainedAndServed(proxyKey, { resolver: 'cfkey', host: 'www.cfkey.test' });
    assert.equal(got.san, 'DNS:www.cfkey.test');
    publishedAndWithdrawn('cfkey.test');
    const keyed = apis.get('cloudflare')!.calls.filter((c) => c.headers['x-auth-key'] === 'cf-global-key');
    assert.deepEqual(
      keyed.map((c) => c.method),
      ['GET', 'POST', 'DELETE'],
    );
  });

  it('put both values of the Route 53 wildcard order (one record name) in one set, then removed them', () => {
    const sets = apis
      .get('route53')!
      .calls.filter((c) => c.method === 'POST')
      .map((c) => /<Action>(\w+)<\/Action>/.exec(c.body)?.[1]);
    assert.deepEqual(
      sets,
      ['UPSERT', 'DELETE', 'UPSERT', 'DELETE'],
      'two authorizations, one after the other',
    );
  });
});
