/**
 * Traefik v3.8's loadHTTPAndGRPCRoutes in the real proxy, against the API server on loopback
 * (test/helpers/fake-kube.ts): HTTPRoutes and GRPCRoutes taken oldest first (compareRoutes), so
 * that of two routes with one rule the oldest serves it (servedRules) whatever their names, and a
 * GRPCRoute whose hostname meets an older HTTPRoute's on a listener is refused there,
 * `HostnameConflict` (traefik/traefik#13421), its status written back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import { httpRequest } from '../helpers/http-request.ts';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  grpcRouteFor,
  httpRouteFor,
  serviceFor,
} from '../helpers/kube-objects.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, within } from '../helpers/wait.ts';

const created = <T extends { metadata: unknown }>(o: T, at: string): T => {
  (o.metadata as Record<string, unknown>)['creationTimestamp'] = at;
  return o;
};

describe('Kubernetes Gateway API provider: route order, servedRules and HostnameConflict (e2e, Traefik v3.8)', () => {
  let older: Backend;
  let newer: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    [older, newer, kube, web] = await Promise.all([
      startBackend((_req, res) => res.end('older')),
      startBackend((_req, res) => res.end('newer')),
      startFakeKube(),
      freePort(),
    ]);
    kube.apply(serviceFor('shop', 'older'));
    kube.apply(endpointSliceFor('shop', 'older', ['127.0.0.1'], older.port));
    kube.apply(serviceFor('shop', 'newer'));
    kube.apply(endpointSliceFor('shop', 'newer', ['127.0.0.1'], newer.port));
    kube.apply(gatewayClassFor());
    kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: web, protocol: 'HTTP' }]));
    const route = (name: string, backend: string, at: string) =>
      created(
        httpRouteFor('shop', name, {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['same.example'],
          rules: [{ backendRefs: [{ name: backend, port: 80 }] }],
        }),
        at,
      );
    // The newer route's name sorts first: the creation time decides, not the name.
    kube.apply(route('a-newer', 'newer', '2026-03-01T00:00:00Z'));
    kube.apply(route('z-older', 'older', '2026-01-01T00:00:00Z'));
    kube.apply(
      created(
        grpcRouteFor('shop', 'grpc-late', {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['same.example'],
          rules: [{ backendRefs: [{ name: 'newer', port: 80 }] }],
        }),
        '2026-02-01T00:00:00Z',
      ),
    );
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${web}"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([kube?.close(), older?.close(), newer?.close()]);
  });

  it('lets the oldest of two routes with one rule serve it, whatever their names', async () => {
    await untilApplied(
      proxy,
      0,
      async () => (await httpRequest(web, { headers: { host: 'same.example' } })).status === 200,
    );
    for (let i = 0; i < 4; i++) {
      const r = await httpRequest(web, { headers: { host: 'same.example' } });
      assert.deepEqual([r.status, r.text], [200, 'older']);
    }
  });

  it('refuses the GRPCRoute whose hostname an older HTTPRoute has on the listener: HostnameConflict', async () => {
    const written = await within(
      kube.waitForWrite(/^PUT .*\/namespaces\/shop\/grpcroutes\/grpc-late\/status$/),
      'the GRPCRoute status',
    );
    const parents = (
      written['status'] as { parents: { conditions: { type: string; status: string; reason: string }[] }[] }
    ).parents;
    assert.deepEqual(
      parents[0]?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ['Accepted=False/HostnameConflict', 'ResolvedRefs=True/ResolvedRefs'],
    );
    const gw = await within(kube.waitForWrite(/^PUT .*\/gateways\/gw\/status$/), 'the Gateway status');
    // The two HTTPRoutes are attached; the refused GRPCRoute is not counted.
    assert.equal(
      (gw['status'] as { listeners: { attachedRoutes: number }[] }).listeners[0]?.attachedRoutes,
      2,
    );
  });
});
