/**
 * The names of the services the Gateway API provider makes of routes' backendRefs, as the real
 * proxy's API shows them and its routers use them, against the API server on loopback
 * (test/helpers/fake-kube.ts): Traefik since traefik/traefik#13367 (v3.7.6, v3.6.25;
 * GHSA-6p8f-p8j2-rqmv) names each router's own `<router>-svc-<namespace>-<name>-<backendRef
 * index>` (httproute.go, grpcroute.go, tcproute.go, tlsroute.go), so that two routes to one
 * Service port no longer share a service (before: `<ns>-<name>-<port>`, which ours gave).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  serviceFor,
  tcpRouteFor,
} from '../helpers/kube-objects.ts';
import { startEchoServer, startTlsBackend, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { untilApplied } from '../helpers/wait.ts';

/** A service as the API lists it (admin-api.md): a weighted one's children, a balancer's servers. */
interface Listed {
  name: string;
  type: string;
  services?: string[];
  servers?: { url?: string; address?: string }[];
}

describe('Kubernetes Gateway API provider: backendRef service names (e2e)', () => {
  let kube: FakeKube;
  let app: Backend;
  let echo: TcpBackend;
  let secure: TcpBackend;
  let proxy: ProxyProcess;
  let webPort = 0;
  let tcpPort = 0;

  before(async () => {
    const pki = new TestPki('Secure CA');
    [kube, app, echo, secure, webPort, tcpPort] = await Promise.all([
      startFakeKube(),
      startBackend((req, res) => res.end(`app ${req.headers.host}`)),
      startEchoServer(),
      startTlsBackend(pki.issue('secure.internal', ['secure.internal']), 'http', 'secure'),
      freePort(),
      freePort(),
    ]);
    const echoSvc = serviceFor('shop', 'echo', 7);
    for (const o of [
      serviceFor('shop', 'app'),
      endpointSliceFor('shop', 'app', ['127.0.0.1'], app.port),
      echoSvc,
      endpointSliceFor('shop', 'echo', ['127.0.0.1'], echo.port),
      gatewayClassFor(),
      gatewayFor('shop', 'gw', [
        { name: 'web', port: webPort, protocol: 'HTTP' },
        { name: 'tcp', port: tcpPort, protocol: 'TCP' },
      ]),
      // Two routes to one Service port, the second with a backendRef to a missing Service.
      httpRouteFor('shop', 'a', {
        parentRefs: [{ name: 'gw', sectionName: 'web' }],
        hostnames: ['a.example'],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
      httpRouteFor('shop', 'b', {
        parentRefs: [{ name: 'gw', sectionName: 'web' }],
        hostnames: ['b.example'],
        rules: [
          {
            backendRefs: [
              { name: 'gone', port: 80, weight: 0 },
              { name: 'app', port: 80 },
            ],
          },
        ],
      }),
      tcpRouteFor('shop', 'echo', {
        parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
        rules: [{ backendRefs: [{ name: 'echo', port: 7 }] }],
      }),
      // Two routes to an HTTPS Service port that a BackendTLSPolicy covers.
      serviceFor('shop', 'secure', 443),
      endpointSliceFor('shop', 'secure', ['127.0.0.1'], secure.port),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'secure-ca', namespace: 'shop' },
        data: { 'ca.crt': pki.ca.certPem },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'BackendTLSPolicy',
        metadata: { name: 'secure-tls', namespace: 'shop', generation: 1 },
        spec: {
          targetRefs: [{ group: '', kind: 'Service', name: 'secure' }],
          validation: {
            hostname: 'secure.internal',
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'secure-ca' }],
          },
        },
      },
      ...['s1', 's2'].map((route) =>
        httpRouteFor('shop', route, {
          parentRefs: [{ name: 'gw', sectionName: 'web' }],
          hostnames: [`${route}.example`],
          rules: [{ backendRefs: [{ name: 'secure', port: 443 }] }],
        }),
      ),
    ])
      kube.apply(o);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  tcp:
    address: "127.0.0.1:${tcpPort}"
  traefik:
    address: "127.0.0.1:0"
api: {}
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
    await Promise.all([kube?.close(), app?.close(), echo?.close(), secure?.close()]);
  });

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as T;
  };
  const get = (host: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      request({ port: webPort, host: '127.0.0.1', path: '/', headers: { host }, agent: false }, (res) => {
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

  it('gives each HTTPRoute router its own service per backendRef, `<router>-svc-<ns>-<name>-<index>`', async () => {
    await untilApplied(proxy, 0, async () => (await get('b.example')).status === 200);
    assert.deepEqual(await get('a.example'), { status: 200, text: 'app a.example' });
    assert.deepEqual(await get('b.example'), { status: 200, text: 'app b.example' });
    const routers = await api<{ name: string; service: string }[]>('/api/http/routers');
    const routerOf = (route: string) => {
      const r = routers.filter((x) => x.name.startsWith(`httproute-shop-${route}-gw-shop-gw-ep-web-0-`));
      assert.equal(r.length, 1, routers.map((x) => x.name).join());
      return r[0]!.name.replace(/@kubernetesgateway$/, '');
    };
    const a = routerOf('a');
    const b = routerOf('b');
    const services = await api<Listed[]>('/api/http/services');
    const byName = new Map(services.map((s) => [s.name, s]));
    assert.deepEqual(byName.get(`${a}-wrr@kubernetesgateway`)?.services, [
      `${a}-svc-shop-app-0@kubernetesgateway`,
    ]);
    // The index is the backendRef's in the rule; weight 0 takes no traffic.
    assert.deepEqual(byName.get(`${b}-wrr@kubernetesgateway`)?.services, [
      `${b}-svc-shop-app-1@kubernetesgateway`,
    ]);
    for (const name of [`${a}-svc-shop-app-0`, `${b}-svc-shop-app-1`]) {
      const lb = byName.get(`${name}@kubernetesgateway`);
      assert.deepEqual(
        lb?.servers?.map((s) => s.url),
        [`http://127.0.0.1:${app.port}`],
        name,
      );
    }
    // No service shared by the two routes, nor named after the Service port alone.
    assert.equal(
      services.filter((s) => /^shop-app-/.test(s.name)).length,
      0,
      services.map((s) => s.name).join(),
    );
  });

  it('names a BackendTLSPolicy`s serversTransport as each service using it (Traefik`s grpcroute.go, traefik/traefik#13367)', async () => {
    await untilApplied(proxy, 0, async () => (await get('s2.example')).status === 200);
    assert.deepEqual(await get('s1.example'), { status: 200, text: 'hello from secure' });
    assert.deepEqual(await get('s2.example'), { status: 200, text: 'hello from secure' });
    const routers = await api<{ name: string }[]>('/api/http/routers');
    const transports: string[] = [];
    for (const route of ['s1', 's2']) {
      const router = routers
        .find((r) => r.name.startsWith(`httproute-shop-${route}-gw-shop-gw-ep-web-0-`))
        ?.name.replace(/@kubernetesgateway$/, '');
      assert.ok(router, routers.map((r) => r.name).join());
      const svc = `${router}-svc-shop-secure-0`;
      const shown = await api<{ loadBalancer?: { serversTransport?: string; servers?: { url: string }[] } }>(
        `/api/http/services/${encodeURIComponent(`${svc}@kubernetesgateway`)}`,
      );
      assert.deepEqual(shown.loadBalancer?.servers, [{ url: `https://127.0.0.1:${secure.port}` }]);
      // Not one `shop-secure-443` shared by both: each service its own, of its name.
      assert.equal(shown.loadBalancer?.serversTransport, svc);
      transports.push(shown.loadBalancer?.serversTransport ?? '');
    }
    assert.notEqual(transports[0], transports[1]);
  });

  it('names a TCPRoute router`s service alike', async () => {
    await untilApplied(
      proxy,
      0,
      async () => (await tcpExchange(tcpPort, 'ping', { untilData: 'ping', ms: 3_000 })).how === 'data',
    );
    const routers = await api<{ name: string }[]>('/api/tcp/routers');
    const router = routers
      .find((r) => r.name.startsWith('tcproute-shop-echo-gw-shop-gw-ep-tcp-0-'))
      ?.name.replace(/@kubernetesgateway$/, '');
    assert.ok(router, routers.map((r) => r.name).join());
    const services = await api<Listed[]>('/api/tcp/services');
    const byName = new Map(services.map((s) => [s.name, s]));
    assert.deepEqual(byName.get(`${router}-wrr@kubernetesgateway`)?.services, [
      `${router}-svc-shop-echo-0@kubernetesgateway`,
    ]);
    assert.deepEqual(
      byName.get(`${router}-svc-shop-echo-0@kubernetesgateway`)?.servers?.map((s) => s.address),
      [`127.0.0.1:${echo.port}`],
    );
  });
});
