/**
 * The Kubernetes CRD provider in the real proxy (API server on loopback, test/helpers/fake-kube.ts):
 * a route service of kind Service without a `port` is refused, as Traefik's getServicePort
 * (pkg/provider/kubernetes/crd/kubernetes.go: "ingressRoute service port not defined"), instead of
 * being sent to the Service's first port; the same route with its port is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import { endpointSliceFor, ingressRouteFor, serviceFor } from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { errorIssues, untilApplied } from '../helpers/wait.ts';

describe('Kubernetes CRD provider: a route service without a port (e2e)', () => {
  let backend: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    [backend, kube] = await Promise.all([
      startBackend((req, res) => res.end(`pod ${req.url}`)),
      startFakeKube(),
    ]);
    kube.apply(serviceFor('shop', 'web'));
    kube.apply(endpointSliceFor('shop', 'web', ['127.0.0.1'], backend.port));
    proxy = await startProxy({
      config: `${providersHead('50ms')}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), kube?.close()]);
  });

  const status = async (path: string): Promise<number> => {
    const r = await fetch(`http://127.0.0.1:${web}${path}`);
    await r.arrayBuffer();
    return r.status;
  };

  it('refuses the route without a port (an error naming it) and serves the one with its port', async () => {
    const from = proxy.logs.length;
    const noPort = ingressRouteFor('shop', 'noport', 'PathPrefix(`/noport`)', 'web');
    (noPort.spec as { routes: { services: Record<string, unknown>[] }[] }).routes[0]!.services[0] = {
      name: 'web',
    };
    kube.apply(noPort);
    kube.apply(ingressRouteFor('shop', 'withport', 'PathPrefix(`/withport`)', 'web'));
    // Both routes are in the same update: once the one with its port serves, the other is out.
    await untilApplied(proxy, from, async () => (await status('/withport/x')) === 200);
    assert.ok(
      errorIssues(proxy, from).some(
        (i) => i.includes('ingressroute shop/noport') && i.includes('ingressRoute service port not defined'),
      ),
      errorIssues(proxy, from).join('\n'),
    );
    assert.equal(await status('/noport/x'), 404);
  });
});
