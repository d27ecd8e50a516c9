/**
 * Gateway API backendRef filters on a rule with several backendRefs (Traefik v3.7,
 * traefik/traefik#12544: each backendRef's filters are its own service's middlewares) in the real
 * proxy against the API server on loopback: each answer carries the response header of the
 * backendRef that took it; a backendRef whose filters cannot load answers its share 500 with the
 * route's `ResolvedRefs=False`, `InvalidKind`; a TraefikService backendRef's filters are applied
 * nowhere (Traefik's httproute.go loadService).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  crdObject,
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  serviceFor,
} from '../helpers/kube-objects.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, within } from '../helpers/wait.ts';

describe('Gateway API: filters of each of several backendRefs (e2e)', () => {
  let a: Backend;
  let b: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    [a, b, kube] = await Promise.all([
      startBackend((req, res) => res.end(`a ${req.headers['x-to'] ?? '-'}`)),
      startBackend((req, res) => res.end(`b ${req.headers['x-to'] ?? '-'}`)),
      startFakeKube(),
    ]);
    const webPort = await freePort();
    kube.apply(serviceFor('shop', 'a'));
    kube.apply(endpointSliceFor('shop', 'a', ['127.0.0.1'], a.port));
    kube.apply(serviceFor('shop', 'b'));
    kube.apply(endpointSliceFor('shop', 'b', ['127.0.0.1'], b.port));
    kube.apply(gatewayClassFor());
    kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: webPort, protocol: 'HTTP' }]));
    const mark = (name: string) => [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-To', value: name }] } },
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: { set: [{ name: 'X-Answered-By', value: name }] },
      },
    ];
    kube.apply(
      httpRouteFor('shop', 'split', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/split' } }],
            backendRefs: [
              { name: 'a', port: 80, filters: mark('a') },
              { name: 'b', port: 80, filters: mark('b') },
            ],
          },
        ],
      }),
    );
    kube.apply(
      httpRouteFor('shop', 'bad', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/bad' } }],
            backendRefs: [
              {
                name: 'a',
                port: 80,
                filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'b', port: 80 } } }],
              },
              { name: 'b', port: 80 },
            ],
          },
        ],
      }),
    );
    kube.apply(
      crdObject('TraefikService', 'shop', 'ts', { weighted: { services: [{ name: 'a', port: 80 }] } }),
    );
    kube.apply(
      httpRouteFor('shop', 'ts', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/ts' } }],
            backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'ts', filters: mark('ts') }],
          },
        ],
      }),
    );
    kube.apply(
      httpRouteFor('shop', 'missingmw', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/missingmw' } }],
            backendRefs: [
              {
                name: 'a',
                port: 80,
                filters: [
                  {
                    type: 'ExtensionRef',
                    extensionRef: { group: 'traefik.io', kind: 'Middleware', name: 'ghost' },
                  },
                ],
              },
              { name: 'b', port: 80 },
            ],
          },
        ],
      }),
    );
    kube.apply(
      httpRouteFor('shop', 'zero', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/zero' } }],
            backendRefs: [{ name: 'a', port: 80, weight: 0 }],
          },
          { matches: [{ path: { type: 'PathPrefix', value: '/nobackend' } }] },
        ],
      }),
    );
    kube.apply(
      httpRouteFor('shop', 'elsewhere', {
        parentRefs: [{ name: 'gw', sectionName: 'nope' }],
        rules: [{ backendRefs: [{ name: 'missing', port: 80 }] }],
      }),
    );
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  traefik:
    address: "127.0.0.1:0"
api: {}
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
  kubernetesGateway:
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

  it('runs the filters of the backendRef that was picked, on the request and on the answer', async () => {
    const get = async () => {
      const r = await fetch(`http://127.0.0.1:${web}/split`);
      return { status: r.status, text: await r.text(), by: r.headers.get('x-answered-by') };
    };
    await untilApplied(proxy, 0, async () => (await get()).status === 200);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get();
      assert.equal(r.status, 200);
      const [who, to] = r.text.split(' ');
      assert.equal(to, who);
      assert.equal(r.by, who);
      seen.add(who!);
    }
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });

  it('answers 500 for the share of a backendRef whose filter cannot load, the route`s ResolvedRefs=False InvalidKind (Traefik`s loadService)', async () => {
    const get = async () => {
      const r = await fetch(`http://127.0.0.1:${web}/bad`);
      return { status: r.status, text: await r.text() };
    };
    await untilApplied(proxy, 0, async () => (await get()).status === 200);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await get();
      seen.push(r.status === 500 ? `500 ${r.text}` : r.text.split(' ')[0]!);
    }
    // Smooth weighted round robin over two equal children: one of each per two requests.
    assert.deepEqual(seen.sort(), ['500 ', '500 ', 'b', 'b']);
    const written = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/shop\/httproutes\/bad\/status$/,
      ),
      'the route`s status',
    );
    const parent = (
      written['status'] as {
        parents: { conditions: { type: string; status: string; reason: string; message: string }[] }[];
      }
    ).parents[0];
    const resolved = parent?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(`${resolved?.status}/${resolved?.reason}`, 'False/InvalidKind');
    assert.equal(
      resolved?.message,
      'Cannot load filters on HTTPBackendRef core/Service/shop/a: filter 0: unsupported filter RequestMirror',
    );
  });

  it('writes ResolvedRefs from the backends of a parent that matches no listener (Traefik v3.8)', async () => {
    const written = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/shop\/httproutes\/elsewhere\/status$/,
      ),
      'the route`s status',
    );
    const parent = (
      written['status'] as { parents: { conditions: { type: string; status: string; reason: string }[] }[] }
    ).parents[0];
    assert.deepEqual(
      parent?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ['Accepted=False/NoMatchingParent', 'ResolvedRefs=False/BackendNotFound'],
    );
  });

  it('answers 503 "no available server" for a rule whose backendRefs all weigh 0 or that has none, and shows its `-wrr` as a weighted service, as Traefik`s loadService', async () => {
    const get = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${web}${path}`);
      return { status: r.status, text: await r.text() };
    };
    await untilApplied(proxy, 0, async () => (await get('/zero')).status !== 404);
    assert.deepEqual(await get('/zero'), { status: 503, text: 'no available server\n' });
    assert.deepEqual(await get('/nobackend'), { status: 503, text: 'no available server\n' });
    // The API shows each rule's `<router>-wrr` as Traefik builds it: a weighted service, its
    // children of weight 0 (their load balancers built too) or none; it was a load balancer
    // without servers here.
    const api = async <T>(path: string): Promise<T> => {
      const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
      assert.equal(r.status, 200, path);
      return (await r.json()) as T;
    };
    type Shown = {
      name: string;
      loadBalancer?: unknown;
      weighted?: { services?: { name: string; weight: number }[] };
    };
    const services = await api<Shown[]>('/api/http/services?search=httproute-shop-zero');
    const wrr = services.filter((s) => /^httproute-shop-zero-.*-wrr@kubernetesgateway$/.test(s.name));
    assert.equal(wrr.length, 2, JSON.stringify(services.map((s) => s.name)));
    const children = wrr.map((s) => {
      assert.equal(s.loadBalancer, undefined, s.name);
      assert.ok(s.weighted !== undefined, s.name);
      return (s.weighted.services ?? []).map((c) => c.weight);
    });
    assert.deepEqual(
      children.sort((x, y) => x.length - y.length),
      [[], [0]],
    );
    const zeroChild = services.find((s) =>
      /^httproute-shop-zero-.*-svc-shop-a-0@kubernetesgateway$/.test(s.name),
    );
    assert.ok(zeroChild?.loadBalancer !== undefined, JSON.stringify(services.map((s) => s.name)));
  });

  it('keeps ResolvedRefs=True for an ExtensionRef to a Middleware that does not exist, and the route`s router fails to build (404), as Traefik', async () => {
    // Traefik's CRD filter builder only names `<ns>-<name>@kubernetescrd`; its service manager then
    // fails the service's middleware chain ("middleware … does not exist"), and the router with it.
    await untilApplied(proxy, 0, async () => (await fetch(`http://127.0.0.1:${web}/zero`)).status !== 404);
    const r = await fetch(`http://127.0.0.1:${web}/missingmw`);
    assert.equal(r.status, 404);
    await r.text();
    const written = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/shop\/httproutes\/missingmw\/status$/,
      ),
      'the route`s status',
    );
    const parent = (
      written['status'] as { parents: { conditions: { type: string; status: string; reason: string }[] }[] }
    ).parents[0];
    assert.deepEqual(
      parent?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
    );
  });

  it('applies a TraefikService backendRef`s filters nowhere, as Traefik (its CRD builder gives no service to carry them)', async () => {
    const get = async () => {
      const r = await fetch(`http://127.0.0.1:${web}/ts`);
      return { status: r.status, text: await r.text(), by: r.headers.get('x-answered-by') };
    };
    await untilApplied(proxy, 0, async () => (await get()).status === 200);
    const r = await get();
    assert.equal(r.text, 'a -');
    assert.equal(r.by, null);
  });

  it('names them after the backendRef`s own service, as its middlewares (Traefik`s httproute.go, traefik/traefik#13367)', async () => {
    const api = async <T>(path: string): Promise<T> => {
      const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
      assert.equal(r.status, 200, path);
      return (await r.json()) as T;
    };
    await untilApplied(proxy, 0, async () => (await fetch(`http://127.0.0.1:${web}/split`)).status === 200);
    const routers = await api<{ name: string; middlewares?: string[] }[]>('/api/http/routers');
    const router = routers.find((r) => r.name.startsWith('httproute-shop-split-gw-shop-gw-ep-web-0-'));
    assert.ok(router, routers.map((r) => r.name).join());
    assert.deepEqual(router.middlewares ?? [], []);
    const name = router.name.replace(/@kubernetesgateway$/, '');
    for (const [i, backend] of ['a', 'b'].entries()) {
      const svc = `${name}-svc-shop-${backend}-${i}`;
      const shown = await api<{ middlewares?: string[] }>(
        `/api/http/services/${encodeURIComponent(`${svc}@kubernetesgateway`)}`,
      );
      assert.deepEqual(shown.middlewares, [
        `${svc}-requestheadermodifier-0`,
        `${svc}-responseheadermodifier-1`,
      ]);
      const mw = await api<{ name: string; status: string }>(
        `/api/http/middlewares/${encodeURIComponent(`${svc}-requestheadermodifier-0@kubernetesgateway`)}`,
      );
      assert.equal(mw.status, 'enabled');
    }
  });
});
