import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { loadStaticConfig } from './load.ts';

/** A static file with one resolver whose dnsChallenge is `dns` (YAML flow syntax). */
function load(dns: string, env: NodeJS.ProcessEnv = {}, argv: string[] = []) {
  const text = `entryPoints:
  web:
    address: "127.0.0.1:8080"
certificatesResolvers:
  le:
    acme:
      email: admin@example.com
      dnsChallenge: ${dns}
`;
  const r = loadStaticConfig({ file: 'static.yaml', readFile: () => text, argv, env });
  return { config: r.config, lines: r.issues.map(formatIssue) };
}

describe('certificatesResolvers.<name>.acme.dnsChallenge', () => {
  it('accepts exec and httpreq without managementUrl (lego reads their environment)', () => {
    for (const provider of ['exec', 'httpreq']) {
      const r = load(`{ provider: ${provider} }`);
      assert.deepEqual(r.lines, []);
      assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge, { provider });
    }
  });

  it('accepts challtestsrv with its management URL', () => {
    const r = load('{ provider: challtestsrv, managementUrl: "http://127.0.0.1:8055" }');
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge, {
      provider: 'challtestsrv',
      managementUrl: 'http://127.0.0.1:8055',
    });
  });

  it('names the supported providers for any other lego provider', () => {
    assert.deepEqual(load('{ provider: bluecat }').lines, [
      'static.yaml:8:33: certificatesResolvers.le.acme.dnsChallenge.provider: `bluecat` is not supported yet (supported: acme-dns, azuredns, bunny, challtestsrv, cloudflare, cloudns, desec, digitalocean, dnsimple, duckdns, dynu, exec, gandi, gandiv5, gcloud, godaddy, hetzner, httpreq, hurricane, infomaniak, inwx, ionos, linode, namecheap, namesilo, netcup, njalla, ovh, pdns, porkbun, rfc2136, route53, scaleway, transip, vultr)',
    ]);
  });

  it('points a typo of a supported provider at it', () => {
    assert.match(
      load('{ provider: cloudfare }').lines[0]!,
      /^static\.yaml:8:33: certificatesResolvers\.le\.acme\.dnsChallenge\.provider: `cloudfare` is not supported yet \(did you mean `cloudflare`\?\) \(supported: acme-dns, /,
    );
  });

  it('requires managementUrl for challtestsrv only', () => {
    assert.deepEqual(load('{ provider: challtestsrv }').lines, [
      'static.yaml:8:7: certificatesResolvers.le.acme.dnsChallenge.managementUrl: required key `managementUrl` is missing (the challtestsrv provider needs it)',
    ]);
    assert.deepEqual(load('{ provider: httpreq, managementUrl: "http://127.0.0.1:8055" }').lines, [
      'static.yaml:8:57: certificatesResolvers.le.acme.dnsChallenge.managementUrl: `managementUrl` is for the challtestsrv provider only (`httpreq` is configured by environment variables)',
    ]);
  });

  it('accepts resolvers and the propagation keys, with port 53 added as lego adds it', () => {
    const r = load(
      '{ provider: exec, resolvers: ["1.1.1.1:53", "9.9.9.9", "[2606:4700::1111]:5353", "::1"], propagation: { delayBeforeChecks: 2s, disableChecks: false, requireAllRNS: true, disableANSChecks: true } }',
    );
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge, {
      provider: 'exec',
      resolvers: ['1.1.1.1:53', '9.9.9.9:53', '[2606:4700::1111]:5353', '[::1]:53'],
      propagation: {
        delayBeforeChecks: 2_000,
        disableChecks: false,
        requireAllRNS: true,
        disableANSChecks: true,
      },
    });
  });

  it('accepts a bare number of seconds for delayBeforeChecks, as Traefik does', () => {
    const r = load('{ provider: exec, propagation: { delayBeforeChecks: 30 } }');
    assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge?.propagation, {
      delayBeforeChecks: 30_000,
    });
  });

  it('still accepts the deprecated delayBeforeCheck and disablePropagationCheck', () => {
    const r = load('{ provider: exec, delayBeforeCheck: 10, disablePropagationCheck: true }');
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge, {
      provider: 'exec',
      delayBeforeCheck: 10_000,
      disablePropagationCheck: true,
    });
  });

  it('refuses a resolver that is not an address, naming it', () => {
    assert.deepEqual(load('{ provider: exec, resolvers: ["dns.google:53", "1.1.1.1:70000"] }').lines, [
      'static.yaml:8:51: certificatesResolvers.le.acme.dnsChallenge.resolvers[0]: "dns.google:53" is not an IP address with an optional port (host names are not supported: give the server\'s address) (expected ip:port, [ipv6]:port or ip)',
      'static.yaml:8:68: certificatesResolvers.le.acme.dnsChallenge.resolvers[1]: "1.1.1.1:70000": port 70000 is out of range (1-65535) (expected ip:port, [ipv6]:port or ip)',
    ]);
  });

  it('refuses an unknown propagation key with a suggestion, and a wrong type', () => {
    const r = load('{ provider: exec, propagation: { disableCheck: true, requireAllRNS: "yes" } }');
    assert.equal(r.lines.length, 2, r.lines.join('\n'));
    assert.match(r.lines[0] ?? '', /propagation\.disableCheck: unknown key `disableCheck`.*disableChecks/);
    assert.match(r.lines[1] ?? '', /propagation\.requireAllRNS: wrong type/);
  });

  it('takes the provider from a flag or a TRAFFIC_ variable, as Traefik does', () => {
    const byFlag = load('{ provider: exec }', {}, [
      '--certificatesResolvers.le.acme.dnsChallenge.provider=httpreq',
    ]);
    assert.deepEqual(byFlag.lines, []);
    assert.equal(byFlag.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge?.provider, 'httpreq');
    const byEnv = load('{ provider: exec }', {
      TRAFFIC_CERTIFICATESRESOLVERS_LE_ACME_DNSCHALLENGE_PROVIDER: 'safedns',
    });
    assert.deepEqual(byEnv.lines, [
      'certificatesResolvers.le.acme.dnsChallenge.provider: `safedns` is not supported yet (supported: acme-dns, azuredns, bunny, challtestsrv, cloudflare, cloudns, desec, digitalocean, dnsimple, duckdns, dynu, exec, gandi, gandiv5, gcloud, godaddy, hetzner, httpreq, hurricane, infomaniak, inwx, ionos, linode, namecheap, namesilo, netcup, njalla, ovh, pdns, porkbun, rfc2136, route53, scaleway, transip, vultr) (set by TRAFFIC_CERTIFICATESRESOLVERS_LE_ACME_DNSCHALLENGE_PROVIDER)',
    ]);
  });

  it('takes resolvers (comma-separated) and propagation keys from flags', () => {
    const r = load('{ provider: exec }', {}, [
      '--certificatesResolvers.le.acme.dnsChallenge.resolvers=1.1.1.1:53,8.8.8.8',
      '--certificatesresolvers.le.acme.dnschallenge.propagation.disableanschecks=true',
    ]);
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme?.dnsChallenge, {
      provider: 'exec',
      resolvers: ['1.1.1.1:53', '8.8.8.8:53'],
      propagation: { disableANSChecks: true },
    });
  });
});
