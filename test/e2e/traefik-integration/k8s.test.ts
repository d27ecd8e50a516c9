/**
 * Traefik's integration/k8s_test.go (v3 branch) against our proxy, with the fake Kubernetes API
 * server in place of k3s (./fixture-k8s.ts). Each test loads the objects of Traefik's fixtures
 * (./fixtures-k8s/, from integration/fixtures/k8s/) and compares our `/api/rawdata` with
 * Traefik's expected `integration/testdata/rawdata-*.json` (./fixtures-k8s/rawdata-*.json) field
 * by field: names with their `@provider`, rules, priorities, entry points, TLS options, services
 * and their servers, middlewares, statuses and usedBy. The pods' addresses are those the expected
 * files name (Traefik's matcher blanks them; ours compares them).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expectedRawdata,
  k8sObjects,
  type Obj,
  ourSide,
  pods,
  startK8sFixture,
  traefikSide,
} from './fixture-k8s.ts';

/** Our view and Traefik's of each section, one assertion per object for readable failures. */
function assertSameRawdata(raw: Obj, expectedFile: string): void {
  const ours = ourSide(raw);
  const theirs = traefikSide(expectedRawdata(expectedFile));
  for (const section of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    assert.deepEqual(
      Object.keys(ours[section] ?? {}).sort(),
      Object.keys(theirs[section] ?? {}).sort(),
      section,
    );
    for (const name of Object.keys(theirs[section] ?? {}))
      assert.deepEqual(ours[section][name], theirs[section][name], `${section} ${name}`);
  }
}

describe('traefik integration/k8s_test.go', () => {
  it('TestCRDConfiguration: IngressRoutes, Middlewares, TraefikServices, TLSOption, ServersTransport, IngressRouteTCP and IngressRouteUDP as rawdata-crd.json', async () => {
    const f = await startK8sFixture(
      // integration/fixtures/k8s_crd.toml
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[api]

[entryPoints]
  [entryPoints.footcp]
    address = ":8093"
  [entryPoints.fooudp]
    address = ":8090/udp"
  [entryPoints.web]
    address = ":8000"

[providers.kubernetesCRD]
  allowCrossNamespace = false
  allowExternalNameServices = true
`,
      [
        ...k8sObjects('services.yml'),
        ...k8sObjects('crd.yml'),
        pods('default', 'whoami', 'http', 80, ['10.42.0.3', '10.42.0.5']),
        pods('default', 'whoamitcp', 'footcp', 8080, ['10.42.0.2', '10.42.0.6']),
        pods('default', 'whoamiudp', 'fooudp', 8090, ['10.42.0.4', '10.42.0.7']),
      ],
    );
    try {
      // As the Go test, through the IngressRoute that routes /api to api@internal on `web`.
      const raw = await f.rawdata(f.proxy.ports.web!, (r) => Object.keys(r['routers'] ?? {}).length >= 6);
      assertSameRawdata(raw, 'rawdata-crd.json');
    } finally {
      await f.close();
    }
  });
});
