/**
 * The Gateway API provider in the real proxy against the API server on loopback
 * (test/helpers/fake-kube.ts), with kubectl as a second client: HTTPRoute filters seen by a real
 * backend and a real client (request and response header modifiers, an ExtensionRef to a Traefik
 * Middleware, a RequestRedirect's Location and status, a URLRewrite's prefix and Host); a
 * backendRef to another namespace refused until a ReferenceGrant there allows it; and the
 * statuses the provider writes back through the status subresource (GatewayClass, Gateway with
 * its listeners' attached routes, HTTPRoute parents), read back with kubectl, written only when
 * they change.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, kubectl, startFakeKube, writeKubeconfig } from '../helpers/fake-kube.ts';
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
import { untilApplied, waitForLogFrom, within } from '../helpers/wait.ts';

const GW = '/apis/gateway.networking.k8s.io/v1';

interface Cond {
  type: string;
  status: string;
  reason: string;
}
const conds = (c: readonly Cond[] | undefined): string[] =>
  (c ?? []).map((x) => `${x.type}=${x.status}/${x.reason}`);

describe('Kubernetes Gateway API provider: filters, ReferenceGrants, statuses (e2e)', () => {
  let app: Backend;
  let other: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let dir: string;
  let kubeconfig = '';
  let web = 0;
  let securePort = 0;

  const getRaw = async <T>(path: string): Promise<T> =>
    JSON.parse(await kubectl(kubeconfig, 'get', '--raw', path)) as T;

  before(async () => {
    [app, other, kube] = await Promise.all([
      startBackend((req, res) => {
        res.setHeader('X-Internal', 'secret');
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ url: req.url, headers: req.headers }));
      }),
      startBackend((req, res) => res.end(`other ${req.url}`)),
      startFakeKube(),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'kube-gw-'));
    kubeconfig = writeKubeconfig(dir, kube.url);
    const webPort = await freePort();
    securePort = await freePort();
    kube.apply(serviceFor('shop', 'app'));
    kube.apply(endpointSliceFor('shop', 'app', ['127.0.0.1'], app.port));
    kube.apply(serviceFor('other', 'b'));
    kube.apply(endpointSliceFor('other', 'b', ['127.0.0.1'], other.port));
    kube.apply(
      crdObject('Middleware', 'shop', 'mark', { headers: { customRequestHeaders: { 'X-Mw': 'crd' } } }),
    );
    kube.apply(gatewayClassFor());
    kube.apply(gatewayFor('shop', 'gw', [{ name: 'http', port: webPort, protocol: 'HTTP' }]));
    kube.apply(
      httpRouteFor('shop', 'filters', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['gw.example'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/hdr' } }],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: {
                  set: [{ name: 'X-Env', value: 'prod' }],
                  add: [{ name: 'X-Add', value: 'gw' }],
                  remove: ['X-Drop'],
                },
              },
              {
                type: 'ResponseHeaderModifier',
                responseHeaderModifier: {
                  set: [{ name: 'X-Served-By', value: 'gw' }],
                  remove: ['X-Internal'],
                },
              },
              {
                type: 'ExtensionRef',
                extensionRef: { group: 'traefik.io', kind: 'Middleware', name: 'mark' },
              },
            ],
            backendRefs: [{ name: 'app', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/hosthdr' } }],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: {
                  set: [{ name: 'Host', value: 'evil.example' }],
                  add: [{ name: 'X-Mod', value: 'on' }],
                },
              },
            ],
            backendRefs: [{ name: 'app', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/nohost' } }],
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['host'] } }],
            backendRefs: [{ name: 'app', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
            filters: [
              {
                type: 'RequestRedirect',
                requestRedirect: {
                  scheme: 'https',
                  hostname: 'secure.example',
                  statusCode: 301,
                  path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' },
                },
              },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/perm' } }],
            filters: [
              {
                type: 'RequestRedirect',
                requestRedirect: {
                  statusCode: 308,
                  scheme: 'https',
                  port: 443,
                  path: { type: 'ReplaceFullPath', replaceFullPath: '/moved' },
                },
              },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/bf' } }],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'X-Order', value: 'rule' }] },
              },
            ],
            backendRefs: [
              {
                name: 'app',
                port: 80,
                filters: [
                  {
                    type: 'RequestHeaderModifier',
                    requestHeaderModifier: {
                      set: [
                        { name: 'X-Order', value: 'backend' },
                        { name: 'X-Backend', value: 'app' },
                      ],
                    },
                  },
                  {
                    type: 'ResponseHeaderModifier',
                    responseHeaderModifier: { set: [{ name: 'X-Backend-Answer', value: 'app' }] },
                  },
                ],
              },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/cors' } }],
            filters: [
              {
                type: 'CORS',
                cors: {
                  allowOrigins: ['https://app.example', 'https://*.example.org'],
                  allowCredentials: true,
                  allowMethods: ['GET', 'PUT'],
                  allowHeaders: ['X-Token'],
                  exposeHeaders: ['X-Trace'],
                  maxAge: 600,
                },
              },
            ],
            backendRefs: [{ name: 'app', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/rel' } }],
            filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'other.example' } }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            filters: [
              {
                type: 'URLRewrite',
                urlRewrite: {
                  hostname: 'internal.svc',
                  path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/backend/v2' },
                },
              },
            ],
            backendRefs: [{ name: 'app', port: 80 }],
          },
        ],
      }),
    );
    kube.apply(
      httpRouteFor('shop', 'cross', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['gw.example'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/cross' } }],
            backendRefs: [{ name: 'b', namespace: 'other', port: 80 }],
          },
        ],
      }),
    );
    kube.apply(
      httpRouteFor('shop', 'split', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['gw.example'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/split' } }],
            backendRefs: [
              { name: 'app', port: 80 },
              { name: 'gone', port: 80 },
            ],
          },
        ],
      }),
    );
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  secure:
    address: "127.0.0.1:${securePort}"
    http: { tls: {} }
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
    namespaces: [shop]
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), other?.close(), kube?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  // node:http, not fetch: fetch does not let a test set Host, and follows redirects.
  const get = (
    path: string,
    headers: Record<string, string> = {},
    method = 'GET',
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> =>
    new Promise((resolve, reject) => {
      request(
        {
          port: web,
          host: '127.0.0.1',
          method,
          path,
          headers: { host: 'gw.example', ...headers },
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      )
        .on('error', reject)
        .end();
    });
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check);
  const statusPut = (ns: string, plural: string, name: string) =>
    new RegExp(`^PUT ${GW}/namespaces/${ns}/${plural}/${name}/status$`);

  it('modifies request headers seen by the backend and response headers seen by the client', async () => {
    await until(0, async () => (await get('/hdr')).status === 200);
    const r = await get('/hdr/x', { 'X-Env': 'dev', 'X-Add': 'client', 'X-Drop': 'yes' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/hdr/x');
    assert.equal(seen.headers['x-env'], 'prod', 'set replaces');
    assert.equal(seen.headers['x-add'], 'client, gw', 'add appends');
    assert.equal(seen.headers['x-drop'], undefined, 'remove drops');
    assert.equal(seen.headers['x-mw'], 'crd', 'the ExtensionRef Middleware of the CRD provider');
    assert.equal(r.headers['x-served-by'], 'gw');
    assert.equal(r.headers['x-internal'], undefined);
  });

  it('leaves the Host sent upstream alone when a RequestHeaderModifier sets or removes Host, as Go`s transport does', async () => {
    // Traefik's requestHeaderModifier edits req.Header, whose Host key Go never sends (req.Host is).
    const set = await get('/hosthdr/x');
    assert.equal(set.status, 200);
    const seen = JSON.parse(set.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['host'], 'gw.example');
    assert.equal(seen.headers['x-mod'], 'on', 'the other edits apply');
    const removed = await get('/nohost/x');
    assert.equal(removed.status, 200);
    assert.equal(
      (JSON.parse(removed.text) as { headers: Record<string, string> }).headers['host'],
      'gw.example',
    );
  });

  it('answers a RequestRedirect with its status and Location, without reaching a backend', async () => {
    const before = app.seen.length;
    const r = await get('/old/a/b?x=1');
    assert.equal(r.status, 301);
    assert.equal(r.headers['location'], 'https://secure.example/new/a/b?x=1');
    assert.equal(app.seen.length, before);
  });

  it('answers a RequestRedirect with statusCode 308 (Gateway API v1.5, Traefik since #13360) and its explicit port', async () => {
    const r = await get('/perm/x?y=1');
    assert.equal(r.status, 308);
    // An explicit port stays, the scheme's default too (Traefik's net.JoinHostPort).
    assert.equal(r.headers['location'], 'https://gw.example:443/moved?y=1');
    assert.equal(r.text, 'Permanent Redirect', 'Go`s status text, as Traefik writes it');
  });

  it('answers a CORS preflight per the HTTPRoute`s CORS filter without reaching the backend (Traefik v3.8)', async () => {
    const before = app.seen.length;
    const pre = await get(
      '/cors/x',
      {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'X-Token',
      },
      'OPTIONS',
    );
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    assert.equal(pre.headers['access-control-allow-methods'], 'GET,PUT');
    assert.equal(pre.headers['access-control-allow-headers'], 'X-Token');
    assert.equal(pre.headers['access-control-max-age'], '600');
    assert.equal(app.seen.length, before, 'the preflight is answered by the proxy');
    // A wildcard host in allowOrigins admits its subdomains, and only them.
    const sub = await get(
      '/cors/x',
      { Origin: 'https://a.b.example.org', 'Access-Control-Request-Method': 'GET' },
      'OPTIONS',
    );
    assert.equal(sub.headers['access-control-allow-origin'], 'https://a.b.example.org');
    const apex = await get(
      '/cors/x',
      { Origin: 'https://example.org', 'Access-Control-Request-Method': 'GET' },
      'OPTIONS',
    );
    assert.equal(apex.status, 200);
    assert.equal(apex.headers['access-control-allow-origin'], undefined);
    // The actual request reaches the backend; its answer carries the CORS fields.
    const r = await get('/cors/x', { Origin: 'https://app.example' });
    assert.equal(r.status, 200);
    assert.equal(app.seen.length, before + 1);
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(r.headers['access-control-expose-headers'], 'X-Trace');
  });

  it('answers a RequestRedirect without scheme with a scheme-relative Location, as Traefik`s Go URL', async () => {
    const r = await get('/rel/x?y=1');
    assert.equal(r.status, 302);
    assert.equal(r.headers['location'], '//other.example/rel/x?y=1');
    assert.equal(r.text, 'Found');
  });

  it('runs a backendRef`s own filters after the rule`s, as Traefik`s service middlewares', async () => {
    const r = await get('/bf/x');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-order'], 'backend', 'the backend`s filter runs last');
    assert.equal(seen.headers['x-backend'], 'app');
    assert.equal(r.headers['x-backend-answer'], 'app');
  });

  it('rewrites the matched prefix and the Host that the backend sees', async () => {
    const r = await get('/api/users?q=1');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/backend/v2/users?q=1');
    assert.equal(seen.headers['host'], 'internal.svc');
  });

  it('answers 500 for the share of a backendRef to a missing Service, as Traefik`s Status child', async () => {
    await until(0, async () => (await get('/split')).status !== 404);
    // Smooth weighted round robin over two equal children: one answer of each per two requests.
    const statuses: number[] = [];
    const before = app.seen.length;
    for (let i = 0; i < 4; i++) {
      const r = await get('/split/x');
      statuses.push(r.status);
      if (r.status === 500) assert.equal(r.text, '', 'no body, as the WriteHeader of Traefik`s handler');
    }
    assert.deepEqual(
      statuses.toSorted((a, b) => a - b),
      [200, 200, 500, 500],
    );
    assert.equal(app.seen.length - before, 2, 'only the good share reaches the backend');
  });

  it('refuses a backendRef to another namespace until a ReferenceGrant there allows it', async () => {
    // Traefik keeps the rule; the refused backend's share answers 500.
    assert.equal((await get('/cross')).status, 500);
    const refused = await waitForLogFrom(
      proxy,
      0,
      (l) => typeof l.issue === 'string' && l.issue.includes('another namespace without a ReferenceGrant'),
    );
    assert.match(
      String(refused.issue),
      /^httproute shop\/cross rule 0: backend \/Service\/other\/b: another namespace/,
    );
    const first = await within(
      kube.waitForWrite(statusPut('shop', 'httproutes', 'cross')),
      'the first status',
    );
    const parent = (first['status'] as { parents: { conditions: Cond[] }[] }).parents[0];
    assert.deepEqual(conds(parent?.conditions), [
      'Accepted=True/Accepted',
      'ResolvedRefs=False/RefNotPermitted',
    ]);

    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    writeFileSync(
      join(dir, 'grant.json'),
      JSON.stringify({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'ReferenceGrant',
        metadata: { name: 'shop-routes', namespace: 'other' },
        spec: {
          from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }],
          to: [{ group: '', kind: 'Service', name: 'b' }],
        },
      }),
    );
    await kubectl(
      kubeconfig,
      'create',
      '--raw',
      '/apis/gateway.networking.k8s.io/v1/namespaces/other/referencegrants',
      '-f',
      join(dir, 'grant.json'),
    );
    await until(from, async () => (await get('/cross')).status === 200);
    assert.equal((await get('/cross/x')).text, 'other /cross/x');
    await within(kube.waitForWrite(statusPut('shop', 'httproutes', 'cross'), seenFrom), 'the new status');
    const route = await getRaw<{
      status: { parents: { parentRef: { name: string }; conditions: Cond[] }[] };
    }>(`${GW}/namespaces/shop/httproutes/cross`);
    assert.deepEqual(
      route.status.parents.map((p) => [p.parentRef.name, conds(p.conditions)]),
      [['gw', ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']]],
    );
  });

  it('writes GatewayClass, Gateway and HTTPRoute statuses, read back with kubectl, only when they change', async () => {
    await within(kube.waitForWrite(/^PUT .*\/gateways\/gw\/status$/), 'the Gateway status');
    const cls = await getRaw<{ status: { conditions: Cond[] } }>(`${GW}/gatewayclasses/traefik`);
    assert.deepEqual(conds(cls.status.conditions), ['Accepted=True/Handled']);
    const gw = await getRaw<{
      status: {
        conditions: Cond[];
        listeners: { name: string; attachedRoutes: number; conditions: Cond[] }[];
      };
    }>(`${GW}/namespaces/shop/gateways/gw`);
    assert.deepEqual(conds(gw.status.conditions), ['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    assert.deepEqual(
      gw.status.listeners.map((l) => [l.name, l.attachedRoutes, conds(l.conditions)]),
      [
        [
          'http',
          3,
          ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ],
      ],
    );
    const filters = await getRaw<{ status: { parents: { controllerName: string; conditions: Cond[] }[] } }>(
      `${GW}/namespaces/shop/httproutes/filters`,
    );
    assert.deepEqual(
      filters.status.parents.map((p) => [p.controllerName, conds(p.conditions)]),
      [['traefik.io/gateway-controller', ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']]],
    );

    // A third route: the Gateway's attachedRoutes change (written), the other statuses do not.
    const puts = (re: RegExp) => kube.seen.filter((s) => re.test(s)).length;
    const filtersPuts = puts(statusPut('shop', 'httproutes', 'filters'));
    const classPuts = puts(/^PUT .*\/gatewayclasses\/traefik\/status$/);
    assert.equal(filtersPuts, 1);
    assert.equal(classPuts, 1);
    const seenFrom = kube.seen.length;
    kube.apply(
      httpRouteFor('shop', 'late', {
        parentRefs: [{ name: 'gw', sectionName: 'http' }],
        hostnames: ['late.example'],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
    );
    const updated = await within(
      kube.waitForWrite(/^PUT .*\/gateways\/gw\/status$/, seenFrom),
      'the Gateway status after a new route',
    );
    const listeners = (updated['status'] as { listeners: { attachedRoutes: number }[] }).listeners;
    assert.equal(listeners[0]?.attachedRoutes, 4);
    assert.equal(puts(statusPut('shop', 'httproutes', 'filters')), filtersPuts, 'unchanged: not written');
    assert.equal(puts(/^PUT .*\/gatewayclasses\/traefik\/status$/), classPuts, 'unchanged: not written');
  });

  it('admits a route of another namespace once that Namespace has the labels of the listener`s Selector', async () => {
    // Traefik's allowedNamespaces: `from: Selector` lists the Namespaces its selector matches
    // (their informer's events rebuild the configuration).
    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other', labels: { team: 'b' } } });
    kube.apply(
      gatewayFor('shop', 'shared', [
        {
          name: 'sel',
          port: web,
          protocol: 'HTTP',
          hostname: 'sel.example',
          allowedRoutes: {
            namespaces: {
              from: 'Selector',
              selector: {
                matchLabels: { team: 'b' },
                matchExpressions: [{ key: 'gateway-access', operator: 'In', values: ['shared', 'all'] }],
              },
            },
          },
        },
      ]),
    );
    kube.apply(
      httpRouteFor('other', 'sel', {
        parentRefs: [{ name: 'shared', namespace: 'shop' }],
        hostnames: ['sel.example'],
        rules: [{ backendRefs: [{ name: 'b', port: 80 }] }],
      }),
    );
    const selGet = (path: string) => get(path, { host: 'sel.example' });
    const refused = await within(
      kube.waitForWrite(statusPut('other', 'httproutes', 'sel'), seenFrom),
      'the refused route`s status',
    );
    const parent = (refused['status'] as { parents: { conditions: Cond[] }[] }).parents[0];
    assert.deepEqual(conds(parent?.conditions), [
      'Accepted=False/NotAllowedByListeners',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    assert.equal((await selGet('/x')).status, 404);

    const labelled = kube.seen.length;
    kube.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'other', labels: { team: 'b', 'gateway-access': 'shared' } },
    });
    await until(from, async () => (await selGet('/x')).status === 200);
    assert.equal((await selGet('/sel/y')).text, 'other /sel/y');
    const accepted = await within(
      kube.waitForWrite(statusPut('other', 'httproutes', 'sel'), labelled),
      'the accepted route`s status',
    );
    const now = (accepted['status'] as { parents: { conditions: Cond[] }[] }).parents[0];
    assert.deepEqual(conds(now?.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
    const gw = await getRaw<{ status: { listeners: { name: string; attachedRoutes: number }[] } }>(
      `${GW}/namespaces/shop/gateways/shared`,
    );
    assert.deepEqual(
      gw.status.listeners.map((l) => [l.name, l.attachedRoutes]),
      [['sel', 1]],
    );
  });

  it('writes Accepted=True/ListenersNotValid and Programmed=True for a Gateway with one listener invalid, and routes the valid one', async () => {
    // Traefik's makeGatewayStatus: some listeners invalid leave the Gateway accepted and programmed.
    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    kube.apply(
      gatewayFor('shop', 'mixed', [
        { name: 'ok', port: web, protocol: 'HTTP', hostname: 'mixed.example' },
        { name: 'nowhere', port: 1, protocol: 'HTTP', hostname: 'mixed.example' },
      ]),
    );
    kube.apply(
      httpRouteFor('shop', 'mixed', {
        parentRefs: [{ name: 'mixed' }],
        hostnames: ['mixed.example'],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
    );
    const written = await within(
      kube.waitForWrite(/^PUT .*\/gateways\/mixed\/status$/, seenFrom),
      'the mixed Gateway`s status',
    );
    const status = written['status'] as {
      conditions: (Cond & { message: string })[];
      listeners: { name: string; conditions: Cond[] }[];
    };
    assert.deepEqual(conds(status.conditions), [
      'Accepted=True/ListenersNotValid',
      'Programmed=True/Programmed',
    ]);
    assert.equal(
      status.conditions[0]?.message,
      'Gateway successfully scheduled, but some Listeners are not valid',
    );
    assert.deepEqual(
      status.listeners.map((l) => [l.name, conds(l.conditions)[0]]),
      [
        ['ok', 'Accepted=True/Accepted'],
        ['nowhere', 'Accepted=False/PortUnavailable'],
      ],
    );
    await until(from, async () => (await get('/m', { host: 'mixed.example' })).status === 200);
  });

  it('speaks h2c to a backend whose Service port has appProtocol kubernetes.io/h2c (Traefik`s getHTTPServiceProtocol)', async () => {
    const h2 = createHttp2Server((req, res) => res.end(`h2c ${req.httpVersion} ${req.url}`));
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    try {
      const h2Port = (h2.address() as AddressInfo).port;
      const from = proxy.logs.length;
      const svc = serviceFor('shop', 'grpcish');
      (svc as unknown as { spec: { ports: Record<string, unknown>[] } }).spec.ports[0]!['appProtocol'] =
        'kubernetes.io/h2c';
      kube.apply(svc);
      kube.apply(endpointSliceFor('shop', 'grpcish', ['127.0.0.1'], h2Port));
      kube.apply(
        httpRouteFor('shop', 'h2c', {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['h2c.example'],
          rules: [{ backendRefs: [{ name: 'grpcish', port: 80 }] }],
        }),
      );
      await until(from, async () => (await get('/x', { host: 'h2c.example' })).status === 200);
      assert.equal((await get('/y', { host: 'h2c.example' })).text, 'h2c 2.0 /y');
    } finally {
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    }
  });

  it('refuses an HTTP listener on the port of an entry point with http.tls (PortUnavailable), as Traefik`s entryPointName', async () => {
    const seenFrom = kube.seen.length;
    kube.apply(gatewayFor('shop', 'tlsep', [{ name: 'plain', port: securePort, protocol: 'HTTP' }]));
    const written = await within(
      kube.waitForWrite(/^PUT .*\/gateways\/tlsep\/status$/, seenFrom),
      'the tlsep Gateway`s status',
    );
    const status = written['status'] as { conditions: Cond[]; listeners: { conditions: Cond[] }[] };
    assert.equal(conds(status.listeners[0]?.conditions)[0], 'Accepted=False/PortUnavailable');
    assert.deepEqual(conds(status.conditions), [
      'Accepted=False/ListenersNotValid',
      'Programmed=False/Invalid',
    ]);
  });

  it('refuses a TraefikService and a Middleware of a namespace the CRD provider does not watch (InvalidKind)', async () => {
    // Traefik's FillExtensionBuilderRegistry: kubernetesCRD.namespaces bounds the Gateway
    // provider's references to its objects ("namespace … is not allowed").
    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    kube.apply(
      gatewayFor('shop', 'open', [
        {
          name: 'open',
          port: web,
          protocol: 'HTTP',
          hostname: 'open.example',
          allowedRoutes: { namespaces: { from: 'All' } },
        },
      ]),
    );
    kube.apply(
      httpRouteFor('other', 'ext', {
        parentRefs: [{ name: 'open', namespace: 'shop' }],
        hostnames: ['open.example'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/ts' } }],
            backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'ts' }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/mw' } }],
            filters: [
              { type: 'ExtensionRef', extensionRef: { group: 'traefik.io', kind: 'Middleware', name: 'm' } },
            ],
            backendRefs: [{ name: 'b', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/plain' } }],
            backendRefs: [{ name: 'b', port: 80 }],
          },
        ],
      }),
    );
    const written = await within(
      kube.waitForWrite(statusPut('other', 'httproutes', 'ext'), seenFrom),
      'the route`s status',
    );
    const parent = (written['status'] as { parents: { conditions: (Cond & { message: string })[] }[] })
      .parents[0];
    assert.deepEqual(conds(parent?.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind']);
    assert.match(parent?.conditions[1]?.message ?? '', /namespace "other" is not allowed/);
    await until(from, async () => (await get('/plain', { host: 'open.example' })).status === 200);
    // A filter Traefik cannot load routes to its invalid-httproute-filter child: 500.
    assert.equal((await get('/mw', { host: 'open.example' })).status, 500);
    // The refused TraefikService's share answers 500 (Traefik's loadService, Status: 500).
    assert.equal((await get('/ts', { host: 'open.example' })).status, 500);
  });

  it('answers 503 for a backend whose endpoints are none ready, as Traefik`s empty load balancer', async () => {
    const from = proxy.logs.length;
    kube.apply(serviceFor('shop', 'idle'));
    kube.apply(endpointSliceFor('shop', 'idle', ['127.0.0.1'], app.port, false));
    kube.apply(
      httpRouteFor('shop', 'idle', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['gw.example'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/idle' } }],
            backendRefs: [{ name: 'idle', port: 80 }],
          },
        ],
      }),
    );
    await until(from, async () => (await get('/idle')).status === 503);
    assert.equal(app.seen.filter((r) => r.url.startsWith('/idle')).length, 0);
  });

  it('keeps a match value with a backtick a value: no rule injection (GO-2026-4679)', async () => {
    // Written raw between backticks, this header value closed the string and added
    // `|| PathPrefix(`/`)`: the tenant's route took every host's requests.
    const value = 'x`) || PathPrefix(`/';
    const from = proxy.logs.length;
    kube.apply(
      httpRouteFor('shop', 'inject', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['tenant.example'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'X-A', value }] }],
            backendRefs: [{ name: 'app', port: 80 }],
          },
        ],
      }),
    );
    await until(from, async () => (await get('/t', { host: 'tenant.example', 'X-A': value })).status === 200);
    assert.equal((await get('/t', { host: 'tenant.example' })).status, 404, 'the header is still required');
    assert.equal((await get('/t', { host: 'tenant.example', 'X-A': 'x' })).status, 404);
    assert.equal((await get('/t', { host: 'nobody.example' })).status, 404, 'no other host is taken');
  });
});
