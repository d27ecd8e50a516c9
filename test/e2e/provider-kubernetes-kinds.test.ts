/**
 * The other Kubernetes objects in the real proxy against the API server on loopback: a
 * TraefikService splitting by weight between two Services; an IngressRoute whose certificate is
 * a TLS Secret and whose TLS options are a TLSOption (a real TLS client checks both); the
 * Ingress provider, configured from a kubeconfig file, routing Exact and Prefix paths of an
 * Ingress of Traefik's class, ignoring another class, and reporting an annotation typo; the
 * Gateway API provider routing an HTTPRoute attached to a Gateway's listener by header and
 * weights. The Ingress provider's `ingressEndpoint.publishedService` status written on the
 * Ingresses (the status subresource), and `service.nodeportlb` reaching a NodePort Service
 * through its Node's InternalIP.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { status as grpcStatus } from '@grpc/grpc-js';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube, writeKubeconfig } from '../helpers/fake-kube.ts';
import { echoClient, startGrpcBackend, unary } from '../helpers/grpc-backend.ts';
import {
  crdObject,
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  grpcRouteFor,
  httpRouteFor,
  ingressFor,
  ingressRouteFor,
  loopbackServices,
  nodeFor,
  nodePortServiceFor,
  secretFor,
  serviceFor,
  traefikIngressClass,
} from '../helpers/kube-objects.ts';
import { freePort } from '../helpers/pebble.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';
import { untilApplied, waitForLogFrom } from '../helpers/wait.ts';

describe('Kubernetes CRD kinds and the Ingress provider (e2e, API server on loopback)', () => {
  let a: Backend;
  let b: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let dir: string;
  let web = 0;
  let websecure = 0;
  let admin = 0;
  const cert = selfSignedCertificate(['secure.example']);

  before(async () => {
    [a, b, kube] = await Promise.all([
      startBackend((req, res) => res.end(`a ${req.url}`)),
      startBackend((req, res) => res.end(`b ${req.url}`)),
      startFakeKube(),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'kube-kinds-'));
    writeKubeconfig(dir, kube.url);
    for (const o of loopbackServices('shop', { a: a.port, b: b.port })) kube.apply(o);
    // The Service `ingressEndpoint.publishedService` names: its load balancer's addresses.
    kube.apply({
      ...serviceFor('shop', 'traefik'),
      status: {
        loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }, { hostname: 'lb.example' }] },
      },
    });
    const webPort = await freePort();
    proxy = await startProxy({
      env: { KUBECONFIG: join(dir, 'kubeconfig') },
      config: `${providersHead(
        '50ms',
        `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
  traefik:
    address: "127.0.0.1:0"
`,
      )}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
  kubernetesIngress:
    ingressEndpoint:
      publishedService: shop/traefik
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
    statusAddress:
      service: { name: traefik, namespace: shop }
`,
    });
    web = proxy.ports['web'] ?? 0;
    websecure = proxy.ports['websecure'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), kube?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  // node:http, not fetch: fetch does not let a test set Host.
  const get = (path: string, host = 'localhost'): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      request({ port: web, host: '127.0.0.1', path, headers: { host }, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
        .on('error', reject)
        .end();
    });
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check);

  it('splits by weight through a TraefikService', async () => {
    const from = proxy.logs.length;
    kube.apply(
      crdObject('TraefikService', 'shop', 'split', {
        weighted: {
          services: [
            { name: 'a', port: 80, weight: 3 },
            { name: 'b', port: 80, weight: 1 },
          ],
        },
      }),
    );
    const route = ingressRouteFor('shop', 'split', 'PathPrefix(`/split`)', 'split');
    (route.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
      { name: 'split', kind: 'TraefikService' },
    ];
    kube.apply(route);
    await until(from, async () => (await get('/split')).status === 200);
    const seen = { a: 0, b: 0 };
    for (let i = 0; i < 40; i++) {
      const t = (await get('/split')).text;
      if (t.startsWith('a ')) seen.a++;
      else if (t.startsWith('b ')) seen.b++;
    }
    // Smooth weighted round robin: exactly 3:1 over whole cycles of 4.
    assert.deepEqual(seen, { a: 30, b: 10 });
  });

  it('serves the certificate of a TLS Secret with the TLS options of a TLSOption', async () => {
    const from = proxy.logs.length;
    kube.apply(secretFor('shop', 'secure-cert', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem }));
    kube.apply(crdObject('TLSOption', 'shop', 'modern', { minVersion: 'VersionTLS13' }));
    const route = ingressRouteFor('shop', 'secure', 'Host(`secure.example`)', 'a');
    (route.spec as Record<string, unknown>)['entryPoints'] = ['websecure'];
    (route.spec as Record<string, unknown>)['tls'] = {
      secretName: 'secure-cert',
      options: { name: 'modern' },
    };
    kube.apply(route);
    const hello = (maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<{ ok: boolean; protocol: string | null; error?: string }>((resolve) => {
        const s = connect({
          port: websecure,
          host: '127.0.0.1',
          servername: 'secure.example',
          ca: cert.certPem,
          maxVersion,
        });
        s.once('secureConnect', () => {
          resolve({ ok: s.authorized, protocol: s.getProtocol() });
          s.destroy();
        });
        s.once('error', (e) => resolve({ ok: false, protocol: null, error: e.message }));
      });
    await until(from, async () => (await hello('TLSv1.3')).ok);
    assert.deepEqual(await hello('TLSv1.3'), { ok: true, protocol: 'TLSv1.3' });
    const old = await hello('TLSv1.2');
    assert.equal(old.ok, false, 'TLS 1.2 is refused by the TLSOption');
  });

  it('routes an Ingress of Traefik`s class read through a kubeconfig, and reports an annotation typo', async () => {
    const from = proxy.logs.length;
    kube.apply(traefikIngressClass());
    kube.apply(
      ingressFor(
        'shop',
        'front',
        'shop.example',
        [
          { path: '/exact', pathType: 'Exact', service: 'a' },
          { path: '/pre', pathType: 'Prefix', service: 'b' },
        ],
        { className: 'traefik', annotations: { 'traefik.ingress.kubernetes.io/router.entrypionts': 'web' } },
      ),
    );
    kube.apply(
      ingressFor('shop', 'other', 'other.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        className: 'nginx',
      }),
    );
    await until(from, async () => (await get('/pre/x', 'shop.example')).status === 200);
    assert.deepEqual(await get('/pre/x', 'shop.example'), { status: 200, text: 'b /pre/x' });
    assert.deepEqual(await get('/exact', 'shop.example'), { status: 200, text: 'a /exact' });
    assert.equal((await get('/exact/more', 'shop.example')).status, 404, 'Exact is exact');
    assert.equal((await get('/', 'other.example')).status, 404, 'another class is not ours');
    const typo = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.includes('router.entrypionts'),
    );
    assert.match(
      String(typo.issue),
      /^ingress shop\/front: warning: annotation .*router\.entrypionts is not a known/,
    );
  });

  it('routes an Ingress to its Service`s cluster IP with the service.nativelb annotation (no EndpointSlice)', async () => {
    const from = proxy.logs.length;
    kube.apply(traefikIngressClass());
    // The cluster IP is the loopback and the Service port is backend b's: Traefik's nativeLB
    // dials clusterIP:port, never the pods.
    kube.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'native',
        namespace: 'shop',
        annotations: { 'traefik.ingress.kubernetes.io/service.nativelb': 'true' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: '127.0.0.1',
        ports: [{ name: 'http', port: b.port, protocol: 'TCP' }],
      },
    });
    kube.apply(
      ingressFor(
        'shop',
        'native',
        'native.example',
        [{ path: '/', pathType: 'Prefix', service: 'native', port: b.port }],
        { className: 'traefik' },
      ),
    );
    await until(from, async () => (await get('/n', 'native.example')).status === 200);
    assert.deepEqual(await get('/n', 'native.example'), { status: 200, text: 'b /n' });
  });

  it('writes the published Service`s load-balancer addresses in an Ingress`s status, once', async () => {
    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    kube.apply(traefikIngressClass());
    kube.apply(
      ingressFor('shop', 'status', 'status.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        className: 'traefik',
      }),
    );
    const written = await kube.waitForWrite(
      /^PUT \/apis\/networking\.k8s\.io\/v1\/namespaces\/shop\/ingresses\/status\/status$/,
      seenFrom,
    );
    // The Service's ipMode has no field in an Ingress status (Traefik converts the type).
    assert.deepEqual(written['status'], {
      loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { hostname: 'lb.example' }] },
    });
    await until(from, async () => (await get('/s', 'status.example')).status === 200);
    // The write's own watch event rebuilds: the status is the same now, so it is not written again.
    // `zlater` sorts after `status`: were `status` written again, it would be before zlater's.
    const rebuilt = proxy.logs.length;
    kube.apply(
      ingressFor('shop', 'zlater', 'zlater.example', [{ path: '/', pathType: 'Prefix', service: 'b' }], {
        className: 'traefik',
      }),
    );
    await kube.waitForWrite(/^PUT .*\/ingresses\/zlater\/status$/, seenFrom);
    await until(rebuilt, async () => (await get('/l', 'zlater.example')).status === 200);
    const puts = kube.seen.slice(seenFrom).filter((l) => /^PUT .*\/ingresses\/status\/status$/.test(l));
    assert.equal(puts.length, 1, puts.join('\n'));
  });

  it('routes an Ingress to the Node`s InternalIP:nodePort of a NodePort Service with service.nodeportlb', async () => {
    const from = proxy.logs.length;
    kube.apply(traefikIngressClass());
    // No EndpointSlice: only the node address on the Service port's nodePort (backend a's port)
    // reaches a; an ExternalIP is never used.
    kube.apply(
      nodeFor('node-1', [
        { type: 'ExternalIP', address: '192.0.2.77' },
        { type: 'InternalIP', address: '127.0.0.1' },
      ]),
    );
    const np = nodePortServiceFor('shop', 'np', 8080, a.port);
    (np['metadata'] as Record<string, unknown>)['annotations'] = {
      'traefik.ingress.kubernetes.io/service.nodeportlb': 'true',
    };
    kube.apply(np);
    kube.apply(
      ingressFor('shop', 'np', 'np.example', [{ path: '/', pathType: 'Prefix', service: 'np', port: 8080 }], {
        className: 'traefik',
      }),
    );
    await until(from, async () => (await get('/np', 'np.example')).status === 200);
    for (let i = 0; i < 4; i++)
      assert.deepEqual(await get('/np', 'np.example'), { status: 200, text: 'a /np' });
  });

  it('routes an HTTPRoute attached to a listener of a Traefik Gateway, by header and weights', async () => {
    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    kube.apply(gatewayClassFor());
    kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: web, protocol: 'HTTP' }]));
    kube.apply(
      httpRouteFor('shop', 'canary', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['gw.example'],
        rules: [
          {
            matches: [
              { path: { type: 'PathPrefix', value: '/app' }, headers: [{ name: 'X-Canary', value: 'yes' }] },
            ],
            backendRefs: [{ name: 'b', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/app' } }],
            backendRefs: [
              { name: 'a', port: 80, weight: 1 },
              { name: 'b', port: 80, weight: 1 },
            ],
          },
        ],
      }),
    );
    await until(from, async () => (await get('/app/x', 'gw.example')).status === 200);
    const texts = new Set<string>();
    for (let i = 0; i < 8; i++) texts.add((await get('/app/x', 'gw.example')).text);
    assert.deepEqual([...texts].sort(), ['a /app/x', 'b /app/x']);
    const canary = await new Promise<string>((resolve, reject) => {
      request(
        {
          port: web,
          host: '127.0.0.1',
          path: '/app/y',
          headers: { host: 'gw.example', 'x-canary': 'yes' },
          agent: false,
        },
        (res) => {
          let t = '';
          res.on('data', (c: Buffer) => {
            t += c.toString();
          });
          res.on('end', () => resolve(t));
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(canary, 'b /app/y', 'the header match wins (higher priority)');
    assert.equal((await get('/app', 'other.example')).status, 404, 'hostnames apply');
    assert.equal((await get('/application', 'gw.example')).status, 404, 'PathPrefix is by segment');
    // statusAddress.service: the published Service's load-balancer addresses, in the Gateway's status.
    const gw = await kube.waitForWrite(/^PUT .*\/namespaces\/shop\/gateways\/gw\/status$/, seenFrom);
    assert.deepEqual((gw['status'] as { addresses?: unknown }).addresses, [
      { type: 'IPAddress', value: '192.0.2.10' },
      { type: 'Hostname', value: 'lb.example' },
    ]);
  });

  it('routes a GRPCRoute by gRPC service and method to an h2c backend (@grpc/grpc-js through the proxy)', async () => {
    const backend = await startGrpcBackend('g1');
    const client = echoClient(web, 'grpc.example');
    try {
      const from = proxy.logs.length;
      const seenFrom = kube.seen.length;
      kube.apply(gatewayClassFor());
      kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: web, protocol: 'HTTP' }]));
      kube.apply(serviceFor('shop', 'grpc', 9000));
      kube.apply(endpointSliceFor('shop', 'grpc', ['127.0.0.1'], backend.port));
      kube.apply(
        grpcRouteFor('shop', 'echo', {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['grpc.example'],
          rules: [
            {
              matches: [{ method: { service: 'test.Echo', method: 'Unary' } }],
              backendRefs: [{ name: 'grpc', port: 9000 }],
            },
            {
              matches: [{ method: { service: 'test.Echo', method: 'Slow' } }],
              backendRefs: [{ name: 'gone', port: 9000 }],
            },
          ],
        }),
      );
      await until(from, async () => (await unary(client, 'unary', 'ping')).error === null);
      const ok = await unary(client, 'unary', 'hello');
      assert.equal(ok.error, null);
      assert.equal(ok.reply?.toString(), 'g1:hello');
      // Another method of the same service matches no router: the proxy's own gRPC answer for
      // "no route" (src/proxy/grpc-status.ts), NOT_FOUND; the backend never sees it.
      const other = await unary(client, 'fail', 'x');
      assert.equal(other.error?.code, grpcStatus.NOT_FOUND);
      assert.equal(backend.calls['fail'], undefined);
      // A backendRef to a missing Service: Traefik's GRPCStatus Unavailable child, here our
      // trailers-only answer to its 503 (grpc-status 14, "Service Unavailable").
      const gone = await unary(client, 'slow', 'x');
      assert.equal(gone.error?.code, grpcStatus.UNAVAILABLE);
      assert.equal(gone.error?.details, 'Service Unavailable');
      assert.equal(backend.calls['slow'], undefined);
      const st = await kube.waitForWrite(/^PUT .*\/namespaces\/shop\/grpcroutes\/echo\/status$/, seenFrom);
      const parents = (st['status'] as { parents: { conditions: { type: string; status: string }[] }[] })
        .parents;
      assert.deepEqual(
        parents[0]?.conditions.map((c) => `${c.type}=${c.status}`),
        ['Accepted=True', 'ResolvedRefs=False'],
      );
    } finally {
      client.close();
      await backend.close();
    }
  });

  it('keeps every Kubernetes provider`s routes while the API server fails, shows them down, and each recovers', async () => {
    const names = ['kubernetescrd', 'kubernetes', 'kubernetesgateway'];
    let from = proxy.logs.length;
    kube.failWith = 500;
    kube.dropWatches();
    for (const n of names) {
      await waitForLogFrom(
        proxy,
        from,
        (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === n,
      );
    }
    const states = (await (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json()) as {
      name: string;
      phase: string;
    }[];
    for (const n of names) assert.equal(states.find((s) => s.name === n)?.phase, 'down', n);
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    for (const n of names)
      assert.match(metrics, new RegExp(`^traffic_provider_up\\{provider="${n}"\\} 0$`, 'm'));
    assert.equal((await get('/split')).status, 200, 'an IngressRoute');
    assert.equal((await get('/pre/x', 'shop.example')).status, 200, 'an Ingress');
    assert.equal((await get('/app/x', 'gw.example')).status, 200, 'an HTTPRoute');
    from = proxy.logs.length;
    kube.failWith = null;
    for (const n of names)
      await waitForLogFrom(proxy, from, (l) => l.msg === 'provider recovered' && l.provider === n, 60_000);
    const at = proxy.logs.length;
    kube.remove('Ingress', 'shop', 'front');
    await until(at, async () => (await get('/pre/x', 'shop.example')).status === 404);
  });
});
