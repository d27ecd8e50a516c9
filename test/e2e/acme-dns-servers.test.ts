/**
 * DNS-01 through the real proxy process with lego providers that write to a real name server on
 * loopback, the one pebble's validator then asks (`-dnsserver`): nothing else holds the records,
 * so an issued certificate means the provider wrote exactly the value pebble expected where the
 * server serves it, and the propagation check saw it there.
 *
 * - `rfc2136`: BIND 9 (Debian's bind9) taking DNS UPDATE signed with the TSIG key tsig-keygen
 *   made, read from RFC2136_TSIG_FILE;
 * - `pdns`: PowerDNS Authoritative (Debian's pdns-server, SQLite back end) through its HTTP API.
 *
 * Each orders a wildcard and its base name, whose two authorizations share one record name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { obtainedAndServed } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { startNamed } from '../helpers/named.ts';
import { startPowerDns } from '../helpers/pdns.ts';
import { type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** One resolver and its router, for a config. */
interface Site {
  readonly resolver: string;
  readonly provider: string;
  readonly dns: string;
  readonly host: string;
  readonly domains?: { readonly main: string; readonly sans: readonly string[] };
}

function config(dir: string, ca: Pebble, web: Backend, s: Site): string {
  return `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
log: { level: INFO }
certificatesResolvers:
  ${s.resolver}:
    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${join(dir, `${s.resolver}.json`)}"
      caCertificates: ["${join(dir, 'pebble-ca.pem')}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      dnsChallenge:
        provider: ${s.provider}
        resolvers: ["${s.dns}"]
        propagation: { requireAllRNS: true, disableANSChecks: true }
http:
  routers:
    site:
      rule: "Host(\`${s.host}\`)"
      entryPoints: [websecure]
      service: be
      tls:
        certResolver: ${s.resolver}
${s.domains === undefined ? '' : `        domains: [{ main: "${s.domains.main}", sans: [${s.domains.sans.map((n) => `"${n}"`).join(', ')}] }]\n`}  services:
    be:
      loadBalancer:
        servers: [{ url: "${web.url}" }]
`;
}

/** A name server the test starts, and what the proxy needs to write to it. */
interface Server {
  readonly address: string;
  readonly env: Record<string, string>;
  txt(name: string): Promise<string[]>;
  close(): Promise<void>;
}

function throughServer(title: string, site: Omit<Site, 'dns'>, start: () => Promise<Server>): void {
  describe(title, () => {
    let dir: string;
    let server: Server;
    let ca: Pebble;
    let root: string;
    let web: Backend;
    let proxy: ProxyProcess;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'acme-dns-servers-'));
      web = await startBackend((_req, res) => res.end('backend ok'));
      server = await start();
      ca = await startPebble({ dnsServer: server.address });
      root = await ca.rootCertificate();
      writeFileSync(join(dir, 'pebble-ca.pem'), ca.serverCaPem);
      proxy = await startProxy({
        config: config(dir, ca, web, { ...site, dns: server.address }),
        env: server.env,
      });
    });

    after(async () => {
      await proxy?.stop();
      await ca?.close();
      await server?.close();
      await web?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const name = site.domains?.main ?? site.host;
    it(`obtains ${name}${site.domains === undefined ? '' : ' and its base name'} through ${site.provider}, then withdraws the record`, async () => {
      const got = await obtainedAndServed(proxy, ca, root, { ...site, name });
      assert.equal(
        got.san,
        site.domains === undefined
          ? `DNS:${site.host}`
          : `DNS:${site.domains.main}, DNS:${site.domains.sans.join(', DNS:')}`,
      );
      // Each authorization's value was deleted before the order was finalized.
      assert.deepEqual(await server.txt(`_acme-challenge.${name.replace(/^\*\./, '')}.`), []);
    });
  });
}

throughServer(
  'ACME dns-01 through the proxy with rfc2136 and a real BIND',
  {
    resolver: 'bind',
    provider: 'rfc2136',
    host: 'www.rfc2136.test',
    domains: { main: '*.rfc2136.test', sans: ['rfc2136.test'] },
  },
  async () => {
    const named = await startNamed([{ name: 'rfc2136.test' }]);
    return {
      address: named.address,
      env: {
        RFC2136_NAMESERVER: named.address,
        RFC2136_TSIG_FILE: named.keyFile,
        RFC2136_POLLING_INTERVAL: '1',
      },
      txt: (n) => named.txt(n),
      close: () => named.close(),
    };
  },
);

throughServer(
  'ACME dns-01 through the proxy with pdns and a real PowerDNS',
  {
    resolver: 'powerdns',
    provider: 'pdns',
    host: 'www.pdns.test',
    domains: { main: '*.pdns.test', sans: ['pdns.test'] },
  },
  async () => {
    const pdns = await startPowerDns(['pdns.test']);
    return {
      address: pdns.address,
      env: { PDNS_API_URL: pdns.apiUrl, PDNS_API_KEY: pdns.apiKey, PDNS_POLLING_INTERVAL: '1' },
      txt: (n) => pdns.txt(n),
      close: () => pdns.close(),
    };
  },
);
