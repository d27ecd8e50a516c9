/**
 * Traefik's crossProviderNamespaces in the real proxy, against a Kubernetes API server on
 * loopback (test/helpers/fake-kube.ts): the middleware `tag@file` (the static file's own
 * `http:` section) is named by an IngressRoute and by an Ingress in the listed namespace
 * `trusted` and in the unlisted `tenant`. The trusted ones are served through it; the tenant's
 * are refused (an error naming crossProviderNamespaces) while the tenant's route that names
 * nothing of another provider is still served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  ingressFor,
  ingressRouteFor,
  serviceFor,
  traefikIngressClass,
} from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { errorIssues, untilApplied } from '../helpers/wait.ts';

describe('crossProviderNamespaces (e2e, CRD and Ingress providers, API server on loopback)', () => {
  let backend: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    [backend, kube] = await Promise.all([
      startBackend((req, res) => res.end(`${req.url} tag=${req.headers['x-tag'] ?? '-'}`)),
      startFakeKube(),
    ]);
    kube.apply(traefikIngressClass());
    for (const ns of ['trusted', 'tenant']) {
      kube.apply(serviceFor(ns, 'web'));
      kube.apply(endpointSliceFor(ns, 'web', ['127.0.0.1'], backend.port));
      kube.apply(
        ingressRouteFor(ns, 'tagged', `PathPrefix(\`/crd/${ns}\`)`, 'web', {
          middlewares: [{ name: 'tag@file' }],
        }),
      );
      kube.apply(
        ingressFor(ns, 'tagged', '', [{ path: `/ing/${ns}`, pathType: 'Prefix', service: 'web' }], {
          className: 'traefik',
          annotations: { 'traefik.ingress.kubernetes.io/router.middlewares': 'tag@file' },
        }),
      );
    }
    kube.apply(ingressRouteFor('tenant', 'plain', 'PathPrefix(`/crd/plain`)', 'web'));
    proxy = await startProxy({
      config: `${providersHead('50ms')}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
    crossProviderNamespaces: [trusted]
  kubernetesIngress:
    endpoint: "${kube.url}"
    token: test-token
    crossProviderNamespaces: [trusted]
http:
  middlewares:
    tag:
      headers:
        customRequestHeaders:
          X-Tag: from-file
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), kube?.close()]);
  });

  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${web}${path}`);
    return { status: r.status, text: await r.text() };
  };

  it('serves the listed namespace through x@file and refuses the other namespace`s reference', async () => {
    await untilApplied(
      proxy,
      0,
      async () =>
        (await get('/crd/trusted')).status === 200 &&
        (await get('/ing/trusted')).status === 200 &&
        (await get('/crd/plain')).status === 200,
    );
    assert.deepEqual(await get('/crd/trusted'), { status: 200, text: '/crd/trusted tag=from-file' });
    assert.deepEqual(await get('/ing/trusted'), { status: 200, text: '/ing/trusted tag=from-file' });
    // The tenant's routes naming tag@file are not built; its plain one is.
    assert.equal((await get('/crd/tenant')).status, 404);
    assert.equal((await get('/ing/tenant')).status, 404);
    assert.deepEqual(await get('/crd/plain'), { status: 200, text: '/crd/plain tag=-' });
    const errors = errorIssues(proxy, 0).join('\n');
    assert.match(
      errors,
      /ingressroute tenant\/tagged: middleware tag@file: .*"tenant" is not in crossProviderNamespaces/,
    );
    assert.match(
      errors,
      /ingress tenant\/tagged: router\.middlewares tag@file: .*"tenant" is not in crossProviderNamespaces/,
    );
  });
});
