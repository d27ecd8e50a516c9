import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  crdObject,
  endpointSliceFor,
  ingressRouteFor,
  nodeFor,
  nodePortServiceFor,
  serviceFor,
} from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type CrdObjects, crdConfig } from './crd-config.ts';
import type { KubeObject } from './informer.ts';

const o = (x: unknown): KubeObject => x as KubeObject;

function build(objs: Partial<Record<keyof CrdObjects, unknown[]>>, opts = {}) {
  const b = crdConfig(
    {
      ingressRoutes: (objs.ingressRoutes ?? []).map(o),
      middlewares: (objs.middlewares ?? []).map(o),
      services: (objs.services ?? []).map(o),
      endpointSlices: (objs.endpointSlices ?? []).map(o),
      nodes: (objs.nodes ?? []).map(o),
    },
    { allowEmptyServices: false, allowCrossNamespace: false, ...opts },
  );
  const u = updateFromData(b.data, 'kubernetescrd', b.sourceOf, {}, b.issues);
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

describe('IngressRoute → configuration', () => {
  it('names the router after the namespace, the object and the hash of its match, with Traefik`s service names', () => {
    const { config, issues } = build({
      ingressRoutes: [ingressRouteFor('default', 'test.route', 'Host(`foo.com`)', 'whoami')],
      services: [serviceFor('default', 'whoami')],
      endpointSlices: [endpointSliceFor('default', 'whoami', ['10.10.0.1', '10.10.0.2'], 8080)],
    });
    assert.deepEqual(issues, []);
    const hash = createHash('sha256').update('Host(`foo.com`)').digest('hex').slice(0, 20);
    const r = config.http.routers[`default-test-route-${hash}`];
    assert.equal(r?.rule, 'Host(`foo.com`)');
    // Traefik's loadIngressRouteConfiguration: a route's only Service is named after the router.
    assert.equal(r?.service, `default-test-route-${hash}`);
    assert.deepEqual(r?.entryPoints, ['web']);
    assert.deepEqual(Object.keys(config.http.services), [`default-test-route-${hash}`]);
    const svc = config.http.services[`default-test-route-${hash}`];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.url),
      ['http://10.10.0.1:8080', 'http://10.10.0.2:8080'],
    );
  });

  it("makes every router of a parentRefs' IngressRoute a parent of this one's (Traefik's multi-layer routing)", () => {
    const parent = crdObject('IngressRoute', 'default', 'api', {
      entryPoints: ['websecure'],
      routes: [{ kind: 'Rule', match: 'PathPrefix(`/api`)' }],
    });
    const child = crdObject('IngressRoute', 'default', 'admin', {
      parentRefs: [{ name: 'api' }],
      routes: [
        { kind: 'Rule', match: 'Header(`X-Role`, `admin`)', services: [{ name: 'whoami', port: 80 }] },
      ],
    });
    const other = crdObject('IngressRoute', 'other', 'user', {
      parentRefs: [{ name: 'api', namespace: 'default' }],
      routes: [{ kind: 'Rule', match: 'Header(`X-Role`, `user`)', services: [{ name: 'whoami', port: 80 }] }],
    });
    const { config, issues } = build({
      ingressRoutes: [parent, child, other],
      services: [serviceFor('default', 'whoami')],
      endpointSlices: [endpointSliceFor('default', 'whoami', ['10.10.0.1'], 80)],
    });
    const hash = (m: string) => createHash('sha256').update(m).digest('hex').slice(0, 20);
    const p = `default-api-${hash('PathPrefix(`/api`)')}`;
    assert.equal(config.http.routers[p]?.service, undefined);
    assert.deepEqual(config.http.routers[`default-admin-${hash('Header(`X-Role`, `admin`)')}`]?.parentRefs, [
      p,
    ]);
    // Another namespace's parent needs allowCrossNamespace: the child is skipped with an error.
    assert.equal(
      Object.keys(config.http.routers).some((n) => n.startsWith('other-user-')),
      false,
    );
    assert.ok(
      issues.some((i) => i.includes('ingressroute other/user') && i.includes('default/api')),
      issues.join('\n'),
    );
  });

  it('fences a terminating endpoint that still serves (weight 0: sticky sessions only), as Traefik`s loadServers', () => {
    const slice = endpointSliceFor('default', 'whoami', ['10.10.0.1'], 8080);
    (slice['endpoints'] as unknown[]).push(
      { addresses: ['10.10.0.2'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.10.0.3'], conditions: { ready: false, serving: false, terminating: true } },
    );
    const { config, issues } = build({
      ingressRoutes: [ingressRouteFor('default', 'r', 'Host(`foo.com`)', 'whoami')],
      services: [serviceFor('default', 'whoami')],
      endpointSlices: [slice],
    });
    assert.deepEqual(issues, []);
    const svc = Object.values(config.http.services)[0];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => [s.url, s.weight]),
      [
        ['http://10.10.0.1:8080', 1],
        ['http://10.10.0.2:8080', 0],
      ],
    );
  });

  it('weights several services under the router name, skips endpoints that do not serve, uses https for port 443', () => {
    const route = ingressRouteFor('default', 'r', 'PathPrefix(`/`)', 'a');
    (route.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
      { name: 'a', port: 80, weight: 3 },
      // By name: Traefik's fullServiceName keeps the port as written.
      { name: 'b', port: 'http', weight: 1 },
    ];
    const slice = endpointSliceFor('default', 'a', ['10.0.0.1'], 8080);
    (slice['endpoints'] as unknown[]).push({
      addresses: ['10.0.0.9'],
      conditions: { ready: false, serving: false },
    });
    const { config } = build({
      ingressRoutes: [route],
      services: [serviceFor('default', 'a'), serviceFor('default', 'b', 443)],
      endpointSlices: [slice, endpointSliceFor('default', 'b', ['10.0.1.1'], 8443)],
    });
    const name = Object.keys(config.http.routers)[0]!;
    const w = config.http.services[name];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((s) => [s.name, s.weight]),
      [
        ['default-a-80', 3],
        ['default-b-http', 1],
      ],
    );
    const b = config.http.services['default-b-http'];
    assert.ok(b?.kind === 'loadBalancer');
    assert.equal(b.loadBalancer.servers[0]?.url, 'https://10.0.1.1:8443');
    const a = config.http.services['default-a-80'];
    assert.ok(a?.kind === 'loadBalancer');
    assert.deepEqual(
      a.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.1:8080'],
    );
  });

  it('refuses another namespace unless allowed, and a service without endpoints unless allowEmptyServices', () => {
    const cross = ingressRouteFor('a', 'r', 'PathPrefix(`/`)', 'svc');
    (cross.spec as { routes: { services: { namespace?: string }[] }[] }).routes[0]!.services[0]!.namespace =
      'b';
    const refused = build({
      ingressRoutes: [cross],
      services: [serviceFor('b', 'svc')],
      endpointSlices: [endpointSliceFor('b', 'svc', ['10.0.0.1'], 80)],
    });
    assert.deepEqual(refused.config.http.routers, {});
    assert.ok(refused.issues.some((i) => i.includes('ingressroute a/r: service b/svc: another namespace')));
    const allowed = build(
      {
        ingressRoutes: [cross],
        services: [serviceFor('b', 'svc')],
        endpointSlices: [endpointSliceFor('b', 'svc', ['10.0.0.1'], 80)],
      },
      { allowCrossNamespace: true },
    );
    assert.equal(Object.keys(allowed.config.http.routers).length, 1);
    const empty = {
      ingressRoutes: [ingressRouteFor('d', 'r', 'PathPrefix(`/`)', 'svc')],
      services: [serviceFor('d', 'svc')],
    };
    assert.ok(build(empty).issues.some((i) => i.includes('service d/svc: no endpoints')));
    const kept = Object.values(build(empty, { allowEmptyServices: true }).config.http.services)[0];
    assert.ok(kept?.kind === 'loadBalancer');
    assert.deepEqual(kept.loadBalancer.servers, []);
  });

  it('takes only the IngressRoutes and IngressRouteTCPs of its class (Traefik`s shouldProcessIngress on kubernetes.io/ingress.class)', () => {
    const annotated = (kind: string, name: string, cls: string | undefined, spec: unknown): KubeObject => {
      const obj = { apiVersion: 'traefik.io/v1alpha1', kind, metadata: { name, namespace: 'default' }, spec };
      if (cls !== undefined)
        (obj.metadata as Record<string, unknown>)['annotations'] = { 'kubernetes.io/ingress.class': cls };
      return o(obj);
    };
    const http = (name: string, cls: string | undefined) =>
      annotated('IngressRoute', name, cls, {
        routes: [{ match: `PathPrefix(\`/${name}\`)`, services: [{ name: 'web', port: 80 }] }],
      });
    const tcp = (name: string, cls: string | undefined) =>
      annotated('IngressRouteTCP', name, cls, {
        routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'web', port: 80 }] }],
      });
    const objs = (ingressClass: string) =>
      crdConfig(
        {
          ingressRoutes: [http('none', undefined), http('traefik', 'traefik'), http('other', 'other')],
          ingressRouteTCPs: [tcp('none', undefined), tcp('other', 'other')],
          middlewares: [],
          services: [o(serviceFor('default', 'web'))],
          endpointSlices: [o(endpointSliceFor('default', 'web', ['10.0.0.1'], 8080))],
        },
        { allowEmptyServices: false, allowCrossNamespace: false, ingressClass },
      ).data as {
        http: { routers: Record<string, { rule: string }> };
        tcp?: { routers: Record<string, unknown> };
      };
    const rules = (d: ReturnType<typeof objs>) =>
      Object.values(d.http.routers)
        .map((r) => r.rule)
        .sort();
    const tcpNames = (d: ReturnType<typeof objs>) =>
      Object.keys(d.tcp?.routers ?? {}).map((n) => n.replace(/-[0-9a-f]{20}$/, ''));
    assert.deepEqual(rules(objs('')), ['PathPrefix(`/none`)', 'PathPrefix(`/traefik`)']);
    assert.deepEqual(tcpNames(objs('')), ['default-none']);
    assert.deepEqual(rules(objs('other')), ['PathPrefix(`/other`)']);
    assert.deepEqual(tcpNames(objs('other')), ['default-other']);
  });

  it('uses the Service`s cluster IP with nativeLB or nativeLBByDefault (Traefik`s loadServers), the endpoints with nativeLB: false', () => {
    const svc = serviceFor('default', 'web');
    (svc['spec'] as Record<string, unknown>)['clusterIP'] = '10.96.0.5';
    const headless = serviceFor('default', 'headless');
    (headless['spec'] as Record<string, unknown>)['clusterIP'] = 'None';
    const route = (name: string, service: Record<string, unknown>) => {
      const r = ingressRouteFor('default', name, `PathPrefix(\`/${name}\`)`, 'web');
      (r.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
        { name: 'web', port: 80, ...service },
      ];
      return r;
    };
    const objs = {
      ingressRoutes: [
        route('native', { nativeLB: true }),
        route('plain', {}),
        route('pods', { nativeLB: false }),
        route('headless', { name: 'headless', nativeLB: true }),
      ],
      services: [svc, headless],
      endpointSlices: [
        endpointSliceFor('default', 'web', ['10.0.0.1'], 8080),
        endpointSliceFor('default', 'headless', ['10.0.0.2'], 8080),
      ],
    };
    const servers = (opts: Record<string, unknown>) => {
      const { config, issues } = build(objs, opts);
      const byRoute = Object.fromEntries(
        Object.values(config.http.routers).map((r) => {
          const s = config.http.services[r.service!];
          return [r.rule, s?.kind === 'loadBalancer' ? s.loadBalancer.servers.map((x) => x.url) : []];
        }),
      );
      return { byRoute, issues };
    };
    const off = servers({});
    assert.deepEqual(off.byRoute, {
      'PathPrefix(`/native`)': ['http://10.96.0.5:80'],
      'PathPrefix(`/plain`)': ['http://10.0.0.1:8080'],
      'PathPrefix(`/pods`)': ['http://10.0.0.1:8080'],
    });
    assert.ok(
      off.issues.some((i) => i.includes('ingressroute default/headless') && i.includes('headless service')),
    );
    const on = servers({ nativeLBByDefault: true });
    assert.deepEqual(on.byRoute['PathPrefix(`/plain`)'], ['http://10.96.0.5:80']);
    assert.deepEqual(on.byRoute['PathPrefix(`/pods`)'], ['http://10.0.0.1:8080']);
  });

  it('balances over the nodes` InternalIP:nodePort with nodePortLB on a NodePort Service (Traefik`s loadServers)', () => {
    const route = (name: string, service: Record<string, unknown>) => {
      const r = ingressRouteFor('default', name, `PathPrefix(\`/${name}\`)`, 'np');
      (r.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
        { name: 'np', port: 80, ...service },
      ];
      return r;
    };
    const objs = {
      ingressRoutes: [
        route('nodes', { nodePortLB: true }),
        route('pods', {}),
        route('native', { nodePortLB: true, nativeLB: true }),
        route('plain', { name: 'web', nodePortLB: true }),
      ],
      services: [nodePortServiceFor('default', 'np', 80, 30080), serviceFor('default', 'web')],
      endpointSlices: [
        endpointSliceFor('default', 'np', ['10.0.0.1'], 8080),
        endpointSliceFor('default', 'web', ['10.0.0.2'], 8080),
      ],
      nodes: [
        nodeFor('n2', [
          { type: 'InternalIP', address: '192.168.0.12' },
          { type: 'ExternalIP', address: '203.0.113.2' },
        ]),
        nodeFor('n1', [
          { type: 'Hostname', address: 'n1' },
          { type: 'InternalIP', address: '192.168.0.11' },
          { type: 'InternalIP', address: 'fd00::11' },
        ]),
      ],
    };
    const servers = (o: typeof objs, opts: Record<string, unknown> = {}) => {
      const { config, issues } = build(o, opts);
      const byRoute = Object.fromEntries(
        Object.values(config.http.routers).map((r) => {
          const s = config.http.services[r.service!];
          return [r.rule, s?.kind === 'loadBalancer' ? s.loadBalancer.servers.map((x) => x.url) : []];
        }),
      );
      return { byRoute, issues };
    };
    const got = servers(objs);
    assert.deepEqual(got.issues, []);
    assert.deepEqual(got.byRoute, {
      // Every InternalIP of every node, on the port's nodePort; ExternalIP and Hostname are not used.
      'PathPrefix(`/nodes`)': [
        'http://192.168.0.11:30080',
        'http://192.168.0.12:30080',
        'http://[fd00::11]:30080',
      ],
      'PathPrefix(`/pods`)': ['http://10.0.0.1:8080'],
      // nativeLB comes first; nodePortLB is for NodePort Services only.
      'PathPrefix(`/native`)': ['http://10.96.0.9:80'],
      'PathPrefix(`/plain`)': ['http://10.0.0.2:8080'],
    });
    const noNodes = servers({ ...objs, nodes: [] });
    assert.equal(noNodes.byRoute['PathPrefix(`/nodes`)'], undefined);
    assert.ok(
      noNodes.issues.some((i) => /ingressroute default\/nodes: .*nodePortLB: no nodes found/.test(i)),
    );
    const disabled = servers(objs, { disableClusterScopeResources: true });
    assert.equal(disabled.byRoute['PathPrefix(`/nodes`)'], undefined);
    assert.ok(
      disabled.issues.some((i) =>
        /nodePortLB: nodes lookup is disabled \(disableClusterScopeResources\)/.test(i),
      ),
    );
  });
});

describe("IngressRoute checks of Traefik's loadIngressRouteConfiguration and buildServersLB", () => {
  const svc = serviceFor('default', 'web');
  const slice = endpointSliceFor('default', 'web', ['10.0.0.1'], 8080);
  /** An IngressRoute `name` whose one route has `route` and whose service has `service` added. */
  const ir = (
    name: string,
    route: Record<string, unknown>,
    service: Record<string, unknown> = {},
    spec = {},
  ) => {
    const r = ingressRouteFor('default', name, `PathPrefix(\`/${name}\`)`, 'web');
    const s = r.spec as { routes: Record<string, unknown>[] } & Record<string, unknown>;
    s.routes[0] = { ...s.routes[0], ...route };
    const services = s.routes[0]!['services'] as Record<string, unknown>[];
    services[0] = { ...services[0], ...service };
    Object.assign(s, spec);
    return r;
  };
  const rules = (config: { http: { routers: Record<string, { rule: string }> } }) =>
    Object.values(config.http.routers)
      .map((r) => r.rule)
      .sort();

  it('skips a route whose kind is not Rule or whose match is empty, with an error', () => {
    const { config, issues } = build({
      ingressRoutes: [
        ir('ok', { kind: 'Rule' }),
        ir('nokind', { kind: undefined }),
        ir('bad', { kind: 'Regexp' }),
        ir('empty', { match: '' }),
      ],
      services: [svc],
      endpointSlices: [slice],
    });
    assert.deepEqual(rules(config), ['PathPrefix(`/nokind`)', 'PathPrefix(`/ok`)']);
    assert.ok(
      issues.some((i) => i.includes('ingressroute default/bad') && i.includes('"Regexp"')),
      issues.join('\n'),
    );
    assert.ok(issues.some((i) => i.includes('ingressroute default/empty') && i.includes('empty match')));
  });

  it('refuses a TLSOption of another namespace unless allowCrossNamespace', () => {
    const objs = {
      ingressRoutes: [
        ir('own', {}, {}, { tls: { options: { name: 'opts' } } }),
        ir('other', {}, {}, { tls: { options: { name: 'opts', namespace: 'infra' } } }),
        ir('file', {}, {}, { tls: { options: { name: 'opts@file', namespace: 'infra' } } }),
      ],
      services: [svc],
      endpointSlices: [slice],
    };
    const off = build(objs);
    assert.deepEqual(rules(off.config), ['PathPrefix(`/file`)', 'PathPrefix(`/own`)']);
    assert.ok(
      off.issues.some((i) => i.includes('ingressroute default/other') && i.includes('tlsoption infra/opts')),
    );
    assert.ok(off.issues.some((i) => i.includes('ingressroute default/file') && i.includes('ignored')));
    const byRule = (c: typeof off.config) =>
      Object.fromEntries(Object.values(c.http.routers).map((r) => [r.rule, r.tls?.options]));
    assert.deepEqual(byRule(off.config), {
      'PathPrefix(`/own`)': 'default-opts',
      'PathPrefix(`/file`)': 'opts@file',
    });
    const on = build(objs, { allowCrossNamespace: true });
    assert.equal(byRule(on.config)['PathPrefix(`/other`)'], 'infra-opts');
  });

  it('takes schemes http, https and h2c and strategies wrr and p2c (RoundRobin as wrr), refuses others', () => {
    const { config, issues } = build({
      ingressRoutes: [
        ir('h2c', {}, { scheme: 'h2c' }),
        ir('ftp', {}, { scheme: 'ftp' }),
        ir('p2c', {}, { strategy: 'p2c' }),
        ir('rr', {}, { strategy: 'RoundRobin' }),
        ir('lc', {}, { strategy: 'leastConn' }),
      ],
      services: [svc],
      endpointSlices: [slice],
    });
    assert.deepEqual(rules(config), ['PathPrefix(`/h2c`)', 'PathPrefix(`/p2c`)', 'PathPrefix(`/rr`)']);
    assert.ok(
      issues.some((i) => i.includes('ingressroute default/ftp') && i.includes('invalid scheme "ftp"')),
    );
    assert.ok(issues.some((i) => i.includes('ingressroute default/lc') && i.includes('strategy leastConn')));
    assert.ok(
      issues.some((i) => i.includes('ingressroute default/rr') && i.includes('RoundRobin is deprecated')),
    );
    const lb = (rule: string) => {
      const r = Object.values(config.http.routers).find((x) => x.rule === rule)!;
      const s = config.http.services[r.service!];
      assert.ok(s?.kind === 'loadBalancer');
      return s.loadBalancer;
    };
    assert.equal(lb('PathPrefix(`/h2c`)').servers[0]?.url, 'h2c://10.0.0.1:8080');
    assert.equal(lb('PathPrefix(`/p2c`)').strategy, 'p2c');
    assert.equal(lb('PathPrefix(`/rr`)').strategy, 'wrr');
  });

  it('applies healthCheck to ExternalName services only, passiveHealthCheck to any', () => {
    const ext = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ext', namespace: 'default' },
      spec: { type: 'ExternalName', externalName: 'backend.example', ports: [{ name: 'http', port: 80 }] },
    };
    const { config, issues } = build(
      {
        ingressRoutes: [
          ir('ext', {}, { name: 'ext', healthCheck: { path: '/health', interval: '5s' } }),
          ir('pods', {}, { healthCheck: { path: '/health' } }),
          ir('passive', {}, { passiveHealthCheck: { maxFailedAttempts: 3, failureWindow: '30s' } }),
        ],
        services: [svc, ext],
        endpointSlices: [slice],
      },
      { allowExternalNameServices: true },
    );
    assert.deepEqual(rules(config), ['PathPrefix(`/ext`)', 'PathPrefix(`/passive`)']);
    assert.ok(
      issues.some((i) => i.includes('ingressroute default/pods') && i.includes('only for ExternalName')),
      issues.join('\n'),
    );
    const lb = (rule: string) => {
      const r = Object.values(config.http.routers).find((x) => x.rule === rule)!;
      const s = config.http.services[r.service!];
      assert.ok(s?.kind === 'loadBalancer');
      return s.loadBalancer;
    };
    assert.equal(lb('PathPrefix(`/ext`)').healthCheck?.path, '/health');
    assert.equal(lb('PathPrefix(`/ext`)').healthCheck?.interval, 5000);
    assert.equal(lb('PathPrefix(`/passive`)').passiveHealthCheck?.maxFailedAttempts, 3);
    assert.equal(lb('PathPrefix(`/passive`)').passiveHealthCheck?.failureWindow, 30_000);
  });

  it("refuses a Service reference without a port, as Traefik's getServicePort; an ExternalName Service takes any port number", () => {
    const ext = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ext', namespace: 'default' },
      spec: { type: 'ExternalName', externalName: 'backend.example', ports: [{ name: 'http', port: 80 }] },
    };
    const noPort = ir('noport', {});
    (noPort.spec as { routes: { services: Record<string, unknown>[] }[] }).routes[0]!.services[0] = {
      name: 'web',
    };
    const { config, issues } = build(
      {
        ingressRoutes: [
          noPort,
          ir('zero', {}, { port: 0 }),
          ir('ext', {}, { name: 'ext', port: 8443 }),
          ir('extname', {}, { name: 'ext', port: 'admin' }),
          ir('web', {}, { port: 8081 }),
        ],
        services: [svc, ext],
        endpointSlices: [slice],
      },
      { allowExternalNameServices: true },
    );
    // Not the Service's first port: no router (Traefik: "ingressRoute service port not defined").
    assert.deepEqual(rules(config), ['PathPrefix(`/ext`)']);
    for (const name of ['noport', 'zero'])
      assert.ok(
        issues.some((i) => i.includes(`ingressroute default/${name}`) && i.includes('port not defined')),
        issues.join('\n'),
      );
    // A port name, or another Service's port number, must be one of the Service's ports.
    assert.ok(
      issues.some((i) => i.includes('ingressroute default/extname') && i.includes('has no port "admin"')),
    );
    assert.ok(issues.some((i) => i.includes('ingressroute default/web') && i.includes('has no port 8081')));
    const r = Object.values(config.http.routers)[0]!;
    const s = config.http.services[r.service!];
    assert.ok(s?.kind === 'loadBalancer');
    assert.deepEqual(
      s.loadBalancer.servers.map((x) => x.url),
      ['http://backend.example:8443'],
    );
  });

  it("carries a route's syntax and observability to its router", () => {
    const { config, issues } = build({
      ingressRoutes: [
        ir('quiet', { syntax: 'v3', observability: { accessLogs: false, tracing: false } }),
        ir('v2', { syntax: 'v2' }),
      ],
      services: [svc],
      endpointSlices: [slice],
    });
    // A route's syntax is its router's ruleSyntax, which Traefik's mergeConfiguration warns about.
    assert.deepEqual(
      issues.map(
        (i) => /^(ingressroute default\/\w+): warning: .*ruleSyntax` option is deprecated/.exec(i)?.[1],
      ),
      ['ingressroute default/quiet', 'ingressroute default/v2'],
    );
    const byRule = (rule: string) => Object.values(config.http.routers).find((x) => x.rule === rule)!;
    const r = byRule('PathPrefix(`/quiet`)');
    assert.equal(r.observability?.accessLogs, false);
    assert.equal(r.observability?.tracing, false);
    // Traefik's RuleSyntax: route.Syntax, `v3` kept (core.defaultRuleSyntax must not override it).
    assert.equal(r.ruleSyntax, 'v3');
    assert.equal(byRule('PathPrefix(`/v2`)').ruleSyntax, 'v2');
  });

  it('refuses a middleware named <ns>-<name>@kubernetescrd unless allowCrossNamespace (Traefik`s makeMiddlewareKeys)', () => {
    const objs = {
      ingressRoutes: [
        ir('crd', { middlewares: [{ name: 'infra-auth@kubernetescrd' }] }),
        ir('file', { middlewares: [{ name: 'auth@file', namespace: 'infra' }] }),
      ],
      middlewares: [
        { ...crdObject('Middleware', 'infra', 'auth', { headers: { customRequestHeaders: { a: 'b' } } }) },
      ],
      services: [svc],
      endpointSlices: [slice],
    };
    const off = build(objs);
    // (`/file` names a middleware of the file provider, absent here: that router is dropped either way.)
    assert.deepEqual(rules(off.config), []);
    assert.ok(
      off.issues.some((i) => i.includes('ingressroute default/crd') && i.includes('allowCrossNamespace off')),
    );
    assert.ok(off.issues.some((i) => i.includes('ingressroute default/file') && i.includes('ignored')));
    const on = build(objs, { allowCrossNamespace: true });
    assert.deepEqual(rules(on.config), ['PathPrefix(`/crd`)']);
    assert.deepEqual(Object.values(on.config.http.routers)[0]?.middlewares, ['infra-auth@kubernetescrd']);
  });
});
