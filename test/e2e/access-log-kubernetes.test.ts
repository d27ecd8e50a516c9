/**
 * The access log's Kubernetes fields in the real proxy, against a Kubernetes API server on
 * loopback (test/helpers/fake-kube.ts): Traefik v3.7's KubernetesIngressName/Namespace and
 * KubernetesServiceName/Port (PR #12913) for routers of the kubernetesIngress and
 * kubernetesIngressNGINX providers, v3.8's KubernetesIngressRouteName/Namespace for the
 * kubernetesCRD provider's and KubernetesServiceNamespace, the Service of the load balancer that
 * took the request (PR #12985: each backend of a weighted route its own, a Service of another
 * namespace its own namespace). A request no router took has none. `accessLog.fields.names`
 * drops or redacts them as any field. Run in one process and again with `workers: 2`, whose
 * workers build the configuration the control plane sends them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  ingressFor,
  ingressRouteFor,
  loopbackServices,
  serviceFor,
  traefikIngressClass,
} from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, waitForFileLines } from '../helpers/wait.ts';
import { killWorkers, startWorkers } from '../helpers/workers.ts';

type Line = Record<string, unknown>;

/** The Kubernetes fields of a line (the others left out). */
function k8s(line: Line): Line {
  return Object.fromEntries(Object.entries(line).filter(([k]) => k.startsWith('Kubernetes')));
}

/** The access log's line of each request path given (with its query), once all are written. */
async function linesFor(file: string, paths: readonly string[]): Promise<Map<string, Line>> {
  let n = 1;
  for (;;) {
    const lines = (await waitForFileLines(file, n)).map((l) => JSON.parse(l) as Line);
    const found = new Map<string, Line>();
    for (const l of lines)
      if (paths.includes(String(l['RequestPath']))) found.set(String(l['RequestPath']), l);
    if (found.size === paths.length) return found;
    n = lines.length + 1;
  }
}

for (const workers of [false, true]) {
  describe(`access log Kubernetes fields (e2e, API server on loopback${workers ? ', workers: 2' : ''})`, () => {
    let a: Backend;
    let b: Backend;
    let c: Backend;
    let kube: FakeKube;
    let proxy: ProxyProcess;
    let dir = '';
    let file = '';
    let web = 0;

    before(async () => {
      [a, b, c, kube] = await Promise.all([
        startBackend((_req, res) => res.end('a')),
        startBackend((_req, res) => res.end('b')),
        startBackend((_req, res) => res.end('c')),
        startFakeKube(),
      ]);
      dir = mkdtempSync(join(tmpdir(), 'access-k8s-'));
      file = join(dir, 'access.log');
      kube.apply(traefikIngressClass());
      kube.apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'nginx' },
        spec: { controller: 'k8s.io/ingress-nginx' },
      });
      for (const o of loopbackServices('shop', { a: a.port, b: b.port })) kube.apply(o);
      kube.apply(serviceFor('other', 'c'));
      kube.apply(endpointSliceFor('other', 'c', ['127.0.0.1'], c.port));
      // kubernetesIngress: one path by port number, one by port name.
      kube.apply(
        ingressFor(
          'shop',
          'web',
          '',
          [
            { path: '/ing', pathType: 'Prefix', service: 'a' },
            { path: '/named', pathType: 'Prefix', service: 'b', port: 'http' },
          ],
          { className: 'traefik' },
        ),
      );
      // kubernetesIngressNGINX.
      kube.apply(
        ingressFor('shop', 'nx', '', [{ path: '/nx', pathType: 'Prefix', service: 'b' }], {
          className: 'nginx',
        }),
      );
      // kubernetesCRD: two Services of the route's namespace, and one of another namespace.
      kube.apply(
        ingressRouteFor('shop', 'split', 'PathPrefix(`/split`)', 'a', {
          services: [
            { name: 'a', port: 80 },
            { name: 'b', port: 80 },
          ],
        }),
      );
      kube.apply(
        ingressRouteFor('shop', 'away', 'PathPrefix(`/away`)', 'c', {
          services: [{ name: 'c', namespace: 'other', port: 80 }],
        }),
      );
      const fields = workers
        ? '{ names: { KubernetesServicePort: drop } }'
        : '{ names: { KubernetesIngressRouteNamespace: redact } }';
      const config = `${workers ? 'workers: 2\n' : ''}${providersHead('50ms')}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
    allowCrossNamespace: true
  kubernetesIngress:
    endpoint: "${kube.url}"
    token: test-token
  kubernetesIngressNGINX:
    endpoint: "${kube.url}"
    token: test-token
accessLog: { format: json, filePath: "${file}", fields: ${fields} }
`;
      proxy = workers ? await startWorkers({ config }) : await startProxy({ config });
      web = proxy.ports['web'] ?? 0;
    });

    after(async () => {
      if (workers) await killWorkers(proxy);
      else await proxy?.stop();
      await Promise.all([a?.close(), b?.close(), c?.close(), kube?.close()]);
      rmSync(dir, { recursive: true, force: true });
    });

    const get = async (path: string): Promise<{ status: number; text: string }> => {
      const r = await fetch(`http://127.0.0.1:${web}${path}`);
      return { status: r.status, text: await r.text() };
    };

    it('names the Ingress, IngressRoute and Service each request went through', async () => {
      await untilApplied(proxy, 0, async () => {
        for (const p of ['/ing', '/named', '/nx', '/split', '/away'])
          if ((await get(p)).status !== 200) return false;
        return true;
      });
      const split: string[] = [];
      for (let i = 0; i < 4; i++) split.push((await get(`/split?n=${i}`)).text);
      assert.deepEqual(
        [...new Set(split)].sort(),
        ['a', 'b'],
        'both services of the weighted route answered',
      );
      assert.equal((await get('/ing?n=1')).text, 'a');
      assert.equal((await get('/named?n=1')).text, 'b');
      assert.equal((await get('/nx?n=1')).text, 'b');
      assert.equal((await get('/away?n=1')).text, 'c');
      assert.equal((await get('/nowhere?n=1')).status, 404);
      const paths = ['/ing?n=1', '/named?n=1', '/nx?n=1', '/away?n=1', '/nowhere?n=1'];
      for (let i = 0; i < 4; i++) paths.push(`/split?n=${i}`);
      const lines = await linesFor(file, paths);

      // As written in the Ingress: a number, or the port's name; dropped by the workers' run.
      const port = (p: string): Line => (workers ? {} : { KubernetesServicePort: p });
      assert.deepEqual(k8s(lines.get('/ing?n=1')!), {
        KubernetesIngressName: 'web',
        KubernetesIngressNamespace: 'shop',
        KubernetesServiceName: 'a',
        KubernetesServiceNamespace: 'shop',
        ...port('80'),
      });
      assert.deepEqual(k8s(lines.get('/named?n=1')!), {
        KubernetesIngressName: 'web',
        KubernetesIngressNamespace: 'shop',
        KubernetesServiceName: 'b',
        KubernetesServiceNamespace: 'shop',
        ...port('http'),
      });
      assert.deepEqual(k8s(lines.get('/nx?n=1')!), {
        KubernetesIngressName: 'nx',
        KubernetesIngressNamespace: 'shop',
        KubernetesServiceName: 'b',
        KubernetesServiceNamespace: 'shop',
        ...port('80'),
      });
      const routeNs = workers ? 'shop' : 'REDACTED';
      assert.deepEqual(k8s(lines.get('/away?n=1')!), {
        KubernetesIngressRouteName: 'away',
        KubernetesIngressRouteNamespace: routeNs,
        KubernetesServiceName: 'c',
        KubernetesServiceNamespace: 'other',
        ...port('80'),
      });
      for (let i = 0; i < 4; i++) {
        // The Service of the load balancer that answered (its backend's name is its answer).
        assert.deepEqual(k8s(lines.get(`/split?n=${i}`)!), {
          KubernetesIngressRouteName: 'split',
          KubernetesIngressRouteNamespace: routeNs,
          KubernetesServiceName: split[i],
          KubernetesServiceNamespace: 'shop',
          ...port('80'),
        });
      }
      assert.deepEqual(k8s(lines.get('/nowhere?n=1')!), {});
    });
  });
}
