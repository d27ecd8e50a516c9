/**
 * Traefik's integration/k8s_test.go (v3 branch) against our proxy, with the fake Kubernetes API
 * server in place of k3s (./fixture-k8s.ts). Each test loads the objects of Traefik's fixtures
 * (./fixtures-k8s/, from integration/fixtures/k8s/) and compares our `/api/rawdata` with
 * Traefik's expected `integration/testdata/rawdata-*.json` (./fixtures-k8s/rawdata-*.json) field
 * by field: names with their `@provider`, rules, priorities, entry points, TLS options, services
 * and their servers, middlewares, statuses and usedBy. The pods' addresses are those the expected
 * files name (Traefik's matcher blanks them; ours compares them). As in Traefik's suite, every
 * test's cluster holds all the fixtures' objects; its provider's options pick among them. The
 * expected files are Traefik's v3 ones (traefik/traefik 03490d64 for the CRD ones, 41957683 for
 * the Ingress ones), the internal routers' `observability` written in the newest shape throughout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { secretFor } from '../../helpers/kube-objects.ts';
import { TestPki } from '../../helpers/tls-certs.ts';
import {
  allK8sObjects,
  expectedRawdata,
  k8sObjects,
  type Obj,
  ourSide,
  startK8sFixture,
  traefikSide,
} from './fixture-k8s.ts';

/** Our view and Traefik's of each section, one assertion per object for readable failures. */
function assertSameRawdata(raw: Obj, expectedFile: string, internal = true): void {
  const ours = ourSide(raw);
  const theirs = traefikSide(expectedRawdata(expectedFile), internal);
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

/**
 * Runs a Traefik fixture (TOML) over all the objects and compares our rawdata, read on the port
 * of `apiEntryPoint`, with `expectedFile` once `ready` holds (or the bounded wait ends).
 */
/** The rawdata the last test read (the test of its @internal objects below reads it again). */
let lastRaw: Obj = {};

async function checkConfiguration(
  toml: string,
  expectedFile: string,
  apiEntryPoint: string,
  ready: (raw: Obj) => boolean,
): Promise<void> {
  const f = await startK8sFixture(toml, allK8sObjects());
  try {
    const raw = await f.rawdata(f.proxy.ports[apiEntryPoint]!, ready);
    lastRaw = raw;
    assertSameRawdata(raw, expectedFile);
  } finally {
    await f.close();
  }
}

const routers = (n: number) => (raw: Obj) => Object.keys(raw['routers'] ?? {}).length >= n;
/** Some configuration applied (the Ingress tests expecting nothing wait for one update). */
const applied = (raw: Obj) => raw['routers'] !== undefined;

// integration/fixtures/k8s_crd.toml and k8s_crd_label_selector.toml
const crdToml = (provider: string): string => `[global]
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
${provider}`;

// integration/fixtures/k8s_default.toml, k8s_ingress_label_selector.toml and
// k8s_ingressclass_disabled.toml
const ingressToml = (provider: string): string => `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[api]
  insecure = true

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.kubernetesIngress]
${provider}`;

describe('traefik integration/k8s_test.go', () => {
  // The Go tests read the API on `web` through the IngressRoute api.route (CRD), or on the
  // `traefik` entry point of `api.insecure` (Ingress).
  it('TestCRDConfiguration: IngressRoutes, Middlewares, TraefikServices, TLSOption, ServersTransport, IngressRouteTCP and IngressRouteUDP as rawdata-crd.json', () =>
    checkConfiguration(
      crdToml('  allowCrossNamespace = false\n  allowExternalNameServices = true\n'),
      'rawdata-crd.json',
      'web',
      routers(6),
    ));

  it('TestCRDLabelSelector: only the objects labelled app=traefik, as rawdata-crd-label-selector.json', () =>
    checkConfiguration(
      crdToml('  labelSelector = "app=traefik"\n'),
      'rawdata-crd-label-selector.json',
      'web',
      routers(2),
    ));

  it("TestIngressConfiguration: the Ingresses of Traefik's IngressClasses and those without a class, as rawdata-ingress.json", () =>
    checkConfiguration(
      ingressToml('  allowEmptyServices = true\n'),
      'rawdata-ingress.json',
      'traefik',
      routers(4),
    ));

  it('TestIngressLabelSelector: only the Ingress labelled app=traefik, as rawdata-ingress-label-selector.json', () =>
    checkConfiguration(
      ingressToml('  labelSelector = "app=traefik"\n'),
      'rawdata-ingress-label-selector.json',
      'traefik',
      routers(1),
    ));

  it('TestIngressclass: ingressClass traefik-keep takes the Ingress of that IngressClass only, as rawdata-ingressclass.json', () =>
    checkConfiguration(
      // integration/fixtures/k8s_ingressclass.toml, without its `[http.routers.api]`: Traefik
      // reads no dynamic configuration from its static file (our test harness would, with the
      // file provider), and the expected file has no such router.
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[api]
  insecure = true

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[providers.kubernetesIngress]
  ingressClass = "traefik-keep"
`,
      'rawdata-ingressclass.json',
      'traefik',
      routers(1),
    ));

  it('TestDisableIngressclassLookup: ingressClass traefik-keep without the IngressClass lookup matches no ingressClassName, as rawdata-ingressclass-disabled.json', () =>
    checkConfiguration(
      ingressToml('  ingressClass = "traefik-keep"\n  disableIngressClassLookup = true\n'),
      'rawdata-ingressclass-disabled.json',
      'traefik',
      applied,
    ));

  it('TestGatewayConfiguration: GatewayClass, Gateways, HTTPRoute, TCPRoute and TLSRoute as rawdata-gateway.json', {
    todo: "rawdata-gateway.json (traefik/traefik 1b318274, the newest of the 7 stored versions, all before v3.6.25/v3.7.6) predates the Traefik versions our Gateway provider follows: router names hashed over their parts since v3.7.11 (makeRouterName, GHSA-fgjj-px3w-67xx), one service per router and backendRef (traefik/traefik#13367, `<router>-svc-default-whoami-0` for the shared `default-whoami-http-80`), v3.8's listener isolation (`listener-<ep>-<http|https>-…` parent routers, the routes' routers their children), TLS listeners that take TLSRoutes only (the fixture's Terminate listener has a TCPRoute) and the `deny-unknown-host` TCP router; field by field in docs/migrating-from-traefik.md",
  }, async () => {
    // The Gateway listeners name entry points by port: they get free loopback ports, written in
    // both the static configuration and the Gateways.
    const names = ['footlspassthrough', 'footlsterminate', 'footcp', 'web', 'websecure'];
    const ports: Record<string, number> = {};
    for (const n of names) ports[n] = await freePort();
    const gateway = k8sObjects('gateway.yml').map((o) =>
      JSON.parse(
        JSON.stringify(o).replace(/"([A-Z]+)_PORT"/g, (_, n: string) => String(ports[n.toLowerCase()])),
      ),
    );
    const cert = new TestPki('k8s integration').issue('tls.foo.example.com', ['tls.foo.example.com']);
    const f = await startK8sFixture(
      // integration/fixtures/k8s_gateway.toml (v3: `experimental.kubernetesGateway`, deprecated
      // since v3.1, is accepted)
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[api]
  insecure = true

[experimental]
  kubernetesGateway = true

[entryPoints]
  [entryPoints.footlspassthrough]
    address = ":9001"
  [entryPoints.footlsterminate]
    address = ":9002"
  [entryPoints.footcp]
    address = ":8193"
  [entryPoints.fooudp]
    address = ":8190/udp"
  [entryPoints.web]
    address = ":8180"
  [entryPoints.websecure]
    address = ":8443"

[providers.kubernetesGateway]
`,
      [
        ...allK8sObjects({ whoami: ['10.42.0.4', '10.42.0.6'], whoamitcp: ['10.42.0.2', '10.42.0.3'] }),
        ...gateway,
        secretFor('default', 'supersecret', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem }),
      ],
      ports,
    );
    try {
      const raw = await f.rawdata(
        f.proxy.ports['traefik']!,
        (r) => Object.keys(r['tcpRouters'] ?? {}).length >= 3,
      );
      assertSameRawdata(raw, 'rawdata-gateway.json');
    } finally {
      await f.close();
    }
  });

  it('TestDisableIngressclassLookup (the @internal objects): api@internal and dashboard@internal with its middlewares, and noop@internal, as rawdata-ingressclass-disabled.json lists them', () =>
    assertSameRawdata(lastRaw, 'rawdata-ingressclass-disabled.json', true));
});
