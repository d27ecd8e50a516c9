/**
 * Service middlewares (Traefik v3.7) from Kubernetes in the real proxy, against a Kubernetes API
 * server on loopback (test/helpers/fake-kube.ts): the CRD's service-reference middlewares
 * (LoadBalancerSpec.Middlewares) on an IngressRoute's two services, each child's own header on
 * its answers; a reference's ipAllowList answering 403 before the backend; a reference naming a
 * Middleware of another namespace refused with allowCrossNamespace off (the route is not
 * built); the Ingress provider's `service.middlewares` annotation on a Service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  crdObject,
  endpointSliceFor,
  ingressFor,
  ingressRouteFor,
  serviceFor,
  traefikIngressClass,
} from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { errorIssues, untilApplied } from '../helpers/wait.ts';

describe('service middlewares from Kubernetes (e2e, CRD and Ingress providers, API server on loopback)', () => {
  let a: Backend;
  let b: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    [a, b, kube] = await Promise.all([
      startBackend((_req, res) => res.end('a')),
      startBackend((_req, res) => res.end('b')),
      startFakeKube(),
    ]);
    kube.apply(traefikIngressClass());
    kube.apply(serviceFor('shop', 'a'));
    kube.apply(endpointSliceFor('shop', 'a', ['127.0.0.1'], a.port));
    kube.apply(serviceFor('shop', 'b'));
    kube.apply(endpointSliceFor('shop', 'b', ['127.0.0.1'], b.port));
    const mark = (ns: string, name: string, value: string) =>
      crdObject('Middleware', ns, name, { headers: { customResponseHeaders: { 'X-Answered-By': value } } });
    kube.apply(mark('shop', 'mark-a', 'a'));
    kube.apply(mark('shop', 'mark-b', 'b'));
    kube.apply(mark('other', 'mark-x', 'x'));
    kube.apply(crdObject('Middleware', 'shop', 'deny', { ipAllowList: { sourceRange: ['10.0.0.0/8'] } }));
    kube.apply(
      ingressRouteFor('shop', 'split', 'PathPrefix(`/split`)', 'a', {
        services: [
          { name: 'a', port: 80, middlewares: [{ name: 'mark-a' }] },
          { name: 'b', port: 80, middlewares: [{ name: 'mark-b' }] },
        ],
      }),
    );
    kube.apply(
      ingressRouteFor('shop', 'denied', 'PathPrefix(`/denied`)', 'a', {
        services: [{ name: 'a', port: 80, middlewares: [{ name: 'deny' }] }],
      }),
    );
    kube.apply(
      ingressRouteFor('shop', 'cross', 'PathPrefix(`/cross`)', 'a', {
        services: [{ name: 'a', port: 80, middlewares: [{ name: 'mark-x', namespace: 'other' }] }],
      }),
    );
    const annotated = serviceFor('shop', 'b');
    (annotated.metadata as Record<string, unknown>)['annotations'] = {
      'traefik.ingress.kubernetes.io/service.middlewares': 'shop-mark-b@kubernetescrd',
    };
    kube.apply(annotated);
    kube.apply(
      ingressFor('shop', 'ing', '', [{ path: '/ing', pathType: 'Prefix', service: 'b' }], {
        className: 'traefik',
      }),
    );
    proxy = await startProxy({
      config: `${providersHead('50ms')}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
  kubernetesIngress:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), kube?.close()]);
  });

  const get = async (path: string): Promise<{ status: number; text: string; by: string | null }> => {
    const r = await fetch(`http://127.0.0.1:${web}${path}`);
    return { status: r.status, text: await r.text(), by: r.headers.get('x-answered-by') };
  };

  it('runs each chosen service`s middlewares, refuses another namespace`s, and reads the Ingress annotation', async () => {
    await untilApplied(
      proxy,
      0,
      async () =>
        (await get('/split')).status === 200 &&
        (await get('/ing')).status === 200 &&
        (await get('/denied')).status === 403,
    );
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get('/split');
      assert.equal(r.status, 200);
      assert.equal(r.by, r.text);
      answers.add(r.text);
    }
    assert.deepEqual([...answers].sort(), ['a', 'b']);

    const before = a.seen.length;
    assert.equal((await get('/denied')).status, 403);
    assert.equal(a.seen.length, before);

    // allowCrossNamespace is off: the reference to other/mark-x is refused, its route not built.
    assert.equal((await get('/cross')).status, 404);
    assert.match(
      errorIssues(proxy, 0).join('\n'),
      /ingressroute shop\/cross: middleware other\/mark-x: another namespace \(allowCrossNamespace is off\)/,
    );

    assert.deepEqual(await get('/ing'), { status: 200, text: 'b', by: 'b' });
  });
});
