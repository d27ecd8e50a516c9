/**
 * A route's `status.parents` shared with another Gateway controller, as Traefik's client writes
 * them (pkg/provider/kubernetes/gateway/client.go UpdateHTTPRouteStatus): the real proxy against
 * the API server on loopback serves the route and writes our parent first, then the one the other
 * controller wrote, kept as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  serviceFor,
} from '../helpers/kube-objects.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, within } from '../helpers/wait.ts';

const ROUTE = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/both';

describe('Gateway API: route parents shared with another controller (e2e)', () => {
  let app: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;
  // Requests seen once the other controller's status is in (ours come after).
  let seeded = 0;
  const theirs = {
    parentRef: { name: 'theirs' },
    controllerName: 'example.com/other-controller',
    conditions: [
      {
        type: 'Accepted',
        status: 'True',
        reason: 'Accepted',
        message: '',
        lastTransitionTime: '2025-06-01T00:00:00Z',
      },
    ],
  };

  before(async () => {
    [app, kube] = await Promise.all([startBackend((_req, res) => res.end('app')), startFakeKube()]);
    const webPort = await freePort();
    kube.apply(serviceFor('shop', 'app'));
    kube.apply(endpointSliceFor('shop', 'app', ['127.0.0.1'], app.port));
    kube.apply(gatewayClassFor());
    kube.apply(gatewayClassFor('other', 'example.com/other-controller'));
    kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: webPort, protocol: 'HTTP' }]));
    kube.apply(gatewayFor('shop', 'theirs', [{ name: 'http', port: 80, protocol: 'HTTP' }], 'other'));
    kube.apply(
      httpRouteFor('shop', 'both', {
        parentRefs: [{ name: 'gw' }, { name: 'theirs' }],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
    );
    // The other controller wrote its parent before we start.
    const stored = (await (await fetch(`${kube.url}${ROUTE}`)).json()) as Record<string, unknown>;
    const put = await fetch(`${kube.url}${ROUTE}/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...stored, status: { parents: [theirs] } }),
    });
    assert.equal(put.status, 200, await put.text());
    seeded = kube.seen.length;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), kube?.close()]);
  });

  it('serves the route and writes our parent first, then the other controller`s as it wrote it', async () => {
    await untilApplied(proxy, 0, async () => (await fetch(`http://127.0.0.1:${web}/`)).status === 200);
    const r = await fetch(`http://127.0.0.1:${web}/`);
    assert.equal(await r.text(), 'app');
    const written = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/shop\/httproutes\/both\/status$/,
        seeded,
      ),
      'the route`s status',
    );
    const parents = (
      written['status'] as { parents: { parentRef: { name: string }; controllerName: string }[] }
    ).parents;
    assert.deepEqual(
      parents.map((p) => `${p.controllerName} ${p.parentRef.name}`),
      ['traefik.io/gateway-controller gw', 'example.com/other-controller theirs'],
    );
    assert.deepEqual(parents[1], theirs);
  });
});

describe('Gateway API: statusAddress from a Service (e2e)', () => {
  let kube: FakeKube;
  let proxy: ProxyProcess;
  const lb = (ingress: unknown[]) => {
    const svc = serviceFor('kube-system', 'traefik');
    svc['status'] = { loadBalancer: { ingress } };
    return svc;
  };

  before(async () => {
    kube = await startFakeKube();
    const webPort = await freePort();
    kube.apply(lb([{ ip: '192.0.2.10' }]));
    kube.apply(gatewayClassFor());
    kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: webPort, protocol: 'HTTP' }]));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
    statusAddress:
      service: { name: traefik, namespace: kube-system }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await kube?.close();
  });

  it('writes the Service`s load-balancer addresses into the Gateway`s status, and again when they change (Traefik`s gatewayAddresses)', async () => {
    const gwStatus = /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/shop\/gateways\/gw\/status$/;
    const addresses = (o: Record<string, unknown>) => (o['status'] as { addresses?: unknown }).addresses;
    const first = await within(kube.waitForWrite(gwStatus), 'the Gateway`s status');
    assert.deepEqual(addresses(first), [{ type: 'IPAddress', value: '192.0.2.10' }]);
    const from = kube.seen.length;
    // An entry with an IP is its IP, else its hostname.
    kube.apply(lb([{ hostname: 'lb.example' }, { ip: '192.0.2.11', hostname: 'ignored.example' }]));
    const second = await within(kube.waitForWrite(gwStatus, from), 'the Gateway`s status after the change');
    assert.deepEqual(addresses(second), [
      { type: 'Hostname', value: 'lb.example' },
      { type: 'IPAddress', value: '192.0.2.11' },
    ]);
  });
});
