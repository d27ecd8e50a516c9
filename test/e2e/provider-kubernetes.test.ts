/**
 * The Kubernetes CRD provider in the real proxy against a Kubernetes API server on loopback
 * (test/helpers/fake-kube.ts) that kubectl also talks to, proving it speaks the protocol: an
 * IngressRoute created with kubectl is routed to the endpoints of its Service; a Middleware
 * applies, a basicAuth Middleware reads its users from a Secret; a watch dropped after compaction (410 Gone) makes the provider list again and it still
 * sees changes; the API server answering 500 and dropping the watches: the last good
 * configuration keeps serving, the provider shows down, and it recovers by itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  type FakeKube,
  kubectl as kubectlWith,
  startFakeKube,
  writeKubeconfig,
} from '../helpers/fake-kube.ts';
import {
  crdObject,
  endpointSliceFor,
  ingressRouteFor,
  secretFor,
  serviceFor,
} from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

describe('Kubernetes CRD provider (e2e, API server on loopback, kubectl)', () => {
  let backend: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let dir: string;
  let web = 0;
  let admin = 0;

  const kubectl = (...args: string[]): Promise<string> => kubectlWith(join(dir, 'kubeconfig'), ...args);

  before(async () => {
    [backend, kube] = await Promise.all([
      startBackend((req, res) => res.end(`pod ${req.url} ${req.headers['x-env'] ?? '-'}`)),
      startFakeKube(),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'kube-e2e-'));
    writeKubeconfig(dir, kube.url, 'default');
    kube.apply(serviceFor('shop', 'web'));
    kube.apply(endpointSliceFor('shop', 'web', ['127.0.0.1'], backend.port));
    proxy = await startProxy({
      config: `${providersHead('50ms')}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
    web = proxy.ports['web'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), kube?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, text: await r.text() };
  };
  const applied = (l: LogLine): boolean => l.msg === 'configuration applied';
  const servedAfter = async (
    from: number,
    path: string,
    status = 200,
  ): Promise<{ status: number; text: string }> => {
    let at = from;
    for (let i = 0; i < 6; i++) {
      const l = await waitForLogFrom(proxy, at, applied);
      at = proxy.logs.indexOf(l) + 1;
      const r = await get(web, path);
      if (r.status === status) return r;
    }
    return get(web, path);
  };

  it('routes an IngressRoute and a Middleware created with kubectl', async () => {
    const from = proxy.logs.length;
    const mw = {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'Middleware',
      metadata: { name: 'env', namespace: 'shop' },
      spec: { headers: { customRequestHeaders: { 'X-Env': 'prod' } } },
    };
    const route = ingressRouteFor('shop', 'storefront', 'PathPrefix(`/shop`)', 'web', {
      middlewares: [{ name: 'env' }],
    });
    writeFileSync(join(dir, 'mw.json'), JSON.stringify(mw));
    writeFileSync(join(dir, 'route.json'), JSON.stringify(route));
    await kubectl(
      'create',
      '--raw',
      '/apis/traefik.io/v1alpha1/namespaces/shop/middlewares',
      '-f',
      join(dir, 'mw.json'),
    );
    await kubectl(
      'create',
      '--raw',
      '/apis/traefik.io/v1alpha1/namespaces/shop/ingressroutes',
      '-f',
      join(dir, 'route.json'),
    );
    const listed = JSON.parse(
      await kubectl('get', '--raw', '/apis/traefik.io/v1alpha1/namespaces/shop/ingressroutes'),
    ) as {
      kind: string;
      items: { metadata: { name: string } }[];
    };
    assert.equal(listed.kind, 'IngressRouteList');
    assert.deepEqual(
      listed.items.map((i) => i.metadata.name),
      ['storefront'],
    );
    assert.deepEqual(await servedAfter(from, '/shop/cart'), { status: 200, text: 'pod /shop/cart prod' });
    const routers = (await (await fetch(`http://127.0.0.1:${admin}/api/http/routers`)).json()) as {
      name: string;
    }[];
    assert.ok(
      routers.some((r) => /^shop-storefront-[0-9a-f]{20}@kubernetescrd$/.test(r.name)),
      JSON.stringify(routers.map((r) => r.name)),
    );
  });

  it('reads a basicAuth Middleware`s users from its Secret (kubernetes.io/basic-auth), as Traefik', async () => {
    const from = proxy.logs.length;
    kube.apply({
      ...secretFor('shop', 'admins', { username: 'ann', password: 'pw' }),
      type: 'kubernetes.io/basic-auth',
    });
    kube.apply(crdObject('Middleware', 'shop', 'auth', { basicAuth: { secret: 'admins' } }));
    kube.apply(
      ingressRouteFor('shop', 'admin', 'PathPrefix(`/admin`)', 'web', { middlewares: [{ name: 'auth' }] }),
    );
    assert.equal((await servedAfter(from, '/admin', 401)).status, 401);
    const r = await fetch(`http://127.0.0.1:${web}/admin/x`, {
      headers: { authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` },
    });
    assert.deepEqual({ status: r.status, text: await r.text() }, { status: 200, text: 'pod /admin/x -' });
  });

  // Traefik v3.6.14: a Chain honours allowCrossNamespace (off by default), so a tenant's chain
  // cannot borrow another namespace's middleware; the chain is rejected and its route not served.
  it('rejects a Chain that names a middleware of another namespace (allowCrossNamespace off)', async () => {
    const from = proxy.logs.length;
    kube.apply(
      crdObject('Middleware', 'ops', 'root', { headers: { customRequestHeaders: { 'X-Env': 'root' } } }),
    );
    kube.apply(
      crdObject('Middleware', 'shop', 'borrow', {
        chain: { middlewares: [{ name: 'root', namespace: 'ops' }] },
      }),
    );
    kube.apply(
      ingressRouteFor('shop', 'borrowed', 'PathPrefix(`/borrowed`)', 'web', {
        middlewares: [{ name: 'borrow' }],
      }),
    );
    kube.apply(ingressRouteFor('shop', 'canary', 'PathPrefix(`/canary`)', 'web'));
    assert.equal((await servedAfter(from, '/canary')).status, 200);
    const r = await get(web, '/borrowed/x');
    assert.notEqual(r.text, 'pod /borrowed/x root');
    assert.equal(r.status, 404);
    assert.ok(
      proxy.logs.some((l) =>
        JSON.stringify(l).includes('ops/root: another namespace (allowCrossNamespace is off)'),
      ),
      'the chain is reported',
    );
  });

  it('lists again after a 410 Gone and still follows changes', async () => {
    const listsBefore = kube.seen.filter(
      (s) => s.startsWith('GET /apis/traefik.io/v1alpha1/ingressroutes') && !s.includes('watch='),
    ).length;
    const from = proxy.logs.length;
    // In one go: the watches end, a change happens, and the history of it is compacted away, so
    // the provider's next watch (from its last version) gets 410 Gone.
    kube.dropWatches();
    kube.apply(ingressRouteFor('shop', 'second', 'PathPrefix(`/second`)', 'web'));
    kube.compact();
    assert.equal((await servedAfter(from, '/second')).status, 200);
    const listsAfter = kube.seen.filter(
      (s) => s.startsWith('GET /apis/traefik.io/v1alpha1/ingressroutes') && !s.includes('watch='),
    ).length;
    assert.ok(listsAfter > listsBefore, `listed again: ${listsBefore} → ${listsAfter}`);
  });

  it('keeps serving while the API server fails, shows it down, and recovers by itself', async () => {
    let from = proxy.logs.length;
    kube.failWith = 500;
    kube.dropWatches();
    await waitForLogFrom(
      proxy,
      from,
      (l) =>
        l.msg === 'provider failed: its last configuration keeps serving' && l.provider === 'kubernetescrd',
    );
    const states = (await (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json()) as {
      name: string;
      phase: string;
    }[];
    assert.equal(states.find((s) => s.name === 'kubernetescrd')?.phase, 'down');
    assert.equal((await get(web, '/shop/x')).status, 200, 'the last good configuration');
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="kubernetescrd"\} 0$/m);
    from = proxy.logs.length;
    kube.failWith = null;
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider recovered' && l.provider === 'kubernetescrd',
      60_000,
    );
    const later = proxy.logs.length;
    kube.remove('IngressRoute', 'shop', 'second');
    assert.equal((await servedAfter(later, '/second', 404)).status, 404);
  });
});
