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
      assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme.dnsChallenge, { provider });
    }
  });

  it('accepts challtestsrv with its management URL', () => {
    const r = load('{ provider: challtestsrv, managementUrl: "http://127.0.0.1:8055" }');
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.certificatesResolvers?.['le']?.acme.dnsChallenge, {
      provider: 'challtestsrv',
      managementUrl: 'http://127.0.0.1:8055',
    });
  });

  it('names the supported providers for any other lego provider', () => {
    assert.deepEqual(load('{ provider: route53 }').lines, [
      'static.yaml:8:33: certificatesResolvers.le.acme.dnsChallenge.provider: `route53` is not supported yet (supported: challtestsrv, exec, httpreq)',
    ]);
  });

  it('requires managementUrl for challtestsrv only', () => {
    assert.deepEqual(load('{ provider: challtestsrv }').lines, [
      'static.yaml:8:7: certificatesResolvers.le.acme.dnsChallenge.managementUrl: required key `managementUrl` is missing (the challtestsrv provider needs it)',
    ]);
    assert.deepEqual(load('{ provider: httpreq, managementUrl: "http://127.0.0.1:8055" }').lines, [
      'static.yaml:8:57: certificatesResolvers.le.acme.dnsChallenge.managementUrl: `managementUrl` is for the challtestsrv provider only (`httpreq` is configured by environment variables)',
    ]);
  });

  it("still reports Traefik's other dnsChallenge keys as not supported yet", () => {
    assert.deepEqual(load('{ provider: exec, delayBeforeCheck: 10 }').lines, [
      'static.yaml:8:39: certificatesResolvers.le.acme.dnsChallenge.delayBeforeCheck: `delayBeforeCheck` is not supported yet',
    ]);
  });

  it('takes the provider from a flag or a TRAFFIC_ variable, as Traefik does', () => {
    const byFlag = load('{ provider: exec }', {}, [
      '--certificatesResolvers.le.acme.dnsChallenge.provider=httpreq',
    ]);
    assert.deepEqual(byFlag.lines, []);
    assert.equal(byFlag.config?.certificatesResolvers?.['le']?.acme.dnsChallenge?.provider, 'httpreq');
    const byEnv = load('{ provider: exec }', {
      TRAFFIC_CERTIFICATESRESOLVERS_LE_ACME_DNSCHALLENGE_PROVIDER: 'gandi',
    });
    assert.deepEqual(byEnv.lines, [
      'certificatesResolvers.le.acme.dnsChallenge.provider: `gandi` is not supported yet (supported: challtestsrv, exec, httpreq) (set by TRAFFIC_CERTIFICATESRESOLVERS_LE_ACME_DNSCHALLENGE_PROVIDER)',
    ]);
  });
});
