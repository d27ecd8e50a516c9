/**
 * DNS-01 through the real proxy process with lego providers that write to a real name server on
 * loopback, the one pebble's validator then asks (`-dnsserver`): nothing else holds the records,
 * so an issued certificate means the provider wrote exactly the value pebble expected where the
 * server serves it, and the propagation check saw it there.
 *
 * - `rfc2136`: BIND 9 (Debian's bind9) taking DNS UPDATE signed with the TSIG key tsig-keygen
 *   made, read from RFC2136_TSIG_FILE; a wildcard and its base name share one record name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { obtainedAndServed } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Named, startNamed } from '../helpers/named.ts';
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

describe('ACME dns-01 through the proxy with rfc2136 and a real BIND', () => {
  let dir: string;
  let named: Named;
  let ca: Pebble;
  let root: string;
  let web: Backend;
  let proxy: ProxyProcess;
  const site: Omit<Site, 'dns'> = {
    resolver: 'bind',
    provider: 'rfc2136',
    host: 'www.rfc2136.test',
    domains: { main: '*.rfc2136.test', sans: ['rfc2136.test'] },
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-dns-servers-'));
    web = await startBackend((_req, res) => res.end('backend ok'));
    named = await startNamed([{ name: 'rfc2136.test' }]);
    ca = await startPebble({ dnsServer: named.address });
    root = await ca.rootCertificate();
    writeFileSync(join(dir, 'pebble-ca.pem'), ca.serverCaPem);
    proxy = await startProxy({
      config: config(dir, ca, web, { ...site, dns: named.address }),
      env: {
        RFC2136_NAMESERVER: named.address,
        RFC2136_TSIG_FILE: named.keyFile,
        RFC2136_POLLING_INTERVAL: '1',
      },
    });
  });

  after(async () => {
    await proxy?.stop();
    await ca?.close();
    await named?.close();
    await web?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('obtains a wildcard and its base name through TSIG-signed DNS UPDATE, then withdraws the record', async () => {
    const got = await obtainedAndServed(proxy, ca, root, { ...site, name: '*.rfc2136.test' });
    assert.equal(got.san, 'DNS:*.rfc2136.test, DNS:rfc2136.test');
    // Each authorization's value was deleted before the order was finalized.
    assert.deepEqual(await named.txt('_acme-challenge.rfc2136.test.'), []);
  });
});
