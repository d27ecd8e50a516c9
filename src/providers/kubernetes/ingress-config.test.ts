import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  endpointSliceFor,
  ingressFor,
  nodeFor,
  nodePortServiceFor,
  serviceFor,
  traefikIngressClass,
} from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import type { KubeObject } from './informer.ts';
import { type IngressObjects, ingressConfig } from './ingress-config.ts';
import { attachKubernetesMeta } from './kube-build.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function build(objs: Partial<Record<keyof IngressObjects, unknown[]>>, opts = {}) {
  const b = ingressConfig(
    {
      ingresses: ko(objs.ingresses),
      ingressClasses: ko(objs.ingressClasses),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      secrets: ko(objs.secrets),
      nodes: ko(objs.nodes),
    },
    {
      allowEmptyServices: false,
      allowCrossNamespace: false,
      ingressClass: '',
      strictPrefixMatching: false,
      ...opts,
    },
  );
  const u = updateFromData(b.data, 'kubernetes', b.sourceOf, { knownProviders: ['kubernetescrd'] }, b.issues);
  return { config: u.config!, issues: u.issues.map(formatIssue), statuses: b.statuses };
}

const web = [serviceFor('default', 'web'), endpointSliceFor('default', 'web', ['10.0.0.1'], 8080)];

describe('Ingress → configuration', () => {
  it('keeps a path holding a backtick one string of the rule: no matcher injected', () => {
    const { config, issues } = build({
      ingressClasses: [traefikIngressClass()],
      ingresses: [
        ingressFor(
          'default',
          'inj',
          'inj.example',
          [{ path: '/x`) || PathPrefix(`/', pathType: 'ImplementationSpecific', service: 'web' }],
          { className: 'traefik' },
        ),
      ],
      services: [web[0]],
      endpointSlices: [web[1]],
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(
      Object.values(config.http.routers).map((r) => r.rule),
      ['Host(`inj.example`) && PathPrefix("/x`) || PathPrefix(`/")'],
    );
  });

  it('makes a router per path with Traefik`s names and rules for Exact, Prefix and ImplementationSpecific', () => {
    const { config, issues } = build({
      ingressClasses: [traefikIngressClass()],
      ingresses: [
        ingressFor(
          'default',
          'shop',
          'shop.example',
          [
            { path: '/exact', pathType: 'Exact', service: 'web' },
            { path: '/api', pathType: 'Prefix', service: 'web', port: 'http' },
            { path: '/legacy', pathType: 'ImplementationSpecific', service: 'web' },
          ],
          { className: 'traefik' },
        ),
      ],
      services: [web[0]],
      endpointSlices: [web[1]],
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(
      Object.entries(config.http.routers).map(([n, r]) => [n, r.rule, r.service]),
      [
        ['default-shop-shop-example-exact', 'Host(`shop.example`) && Path(`/exact`)', 'default-web-80'],
        // By name, the service is named after the port name (Traefik's loadConfigurationFromIngresses).
        ['default-shop-shop-example-api', 'Host(`shop.example`) && PathPrefix(`/api`)', 'default-web-http'],
        [
          'default-shop-shop-example-legacy',
          'Host(`shop.example`) && PathPrefix(`/legacy`)',
          'default-web-80',
        ],
      ],
    );
    const lb = config.http.services['default-web-80'];
    assert.ok(lb?.kind === 'loadBalancer');
    assert.equal(lb.loadBalancer.servers[0]?.url, 'http://10.0.0.1:8080');
  });

  it('handles only Traefik`s class: by IngressClass, or by the old annotation, or none at all', () => {
    const mk = (name: string, extra: Parameters<typeof ingressFor>[4]) =>
      ingressFor('default', name, '', [{ path: `/${name}`, pathType: 'Prefix', service: 'web' }], extra);
    const { config } = build({
      ingressClasses: [
        traefikIngressClass(),
        { kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      ],
      ingresses: [
        mk('byclass', { className: 'traefik' }),
        mk('othercls', { className: 'nginx' }),
        mk('byannot', { annotations: { 'kubernetes.io/ingress.class': 'traefik' } }),
        mk('otherannot', { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }),
        mk('noclass', {}),
      ],
      services: [web[0]],
      endpointSlices: [web[1]],
    });
    assert.deepEqual(Object.keys(config.http.routers).sort(), [
      'default-byannot-byannot',
      'default-byclass-byclass',
      'default-noclass-noclass',
    ]);
  });

  it('reads the router annotations, the strict prefix, and warns about an annotation it does not know', () => {
    const { config, issues } = build(
      {
        ingresses: [
          ingressFor('default', 'a', 'a.example', [{ path: '/p', pathType: 'Prefix', service: 'web' }], {
            annotations: {
              'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
              'traefik.ingress.kubernetes.io/router.middlewares': 'default-auth@kubernetescrd',
              'traefik.ingress.kubernetes.io/router.priority': '42',
              'traefik.ingress.kubernetes.io/router.tls': 'true',
              'traefik.ingress.kubernetes.io/router.entrypoint': 'typo',
            },
          }),
        ],
        services: [web[0]],
        endpointSlices: [web[1]],
      },
      { strictPrefixMatching: true },
    );
    const r = config.http.routers['default-a-a-example-p'];
    assert.ok(r !== undefined, issues.join('\n'));
    assert.equal(r?.rule, 'Host(`a.example`) && (Path(`/p`) || PathPrefix(`/p/`))');
    assert.deepEqual(r?.entryPoints, ['websecure']);
    assert.deepEqual(r?.middlewares, ['default-auth@kubernetescrd']);
    assert.equal(r?.priority, 42);
    assert.ok(r?.tls !== undefined);
    assert.ok(
      issues.some(
        (i) =>
          i.includes('ingress default/a') &&
          i.includes('traefik.ingress.kubernetes.io/router.entrypoint is not a known Ingress annotation'),
      ),
      issues.join('\n'),
    );
  });

  it("reads router.tls.domains.N.main/sans, router.rulesyntax and router.observability.* (Traefik's RouterIng)", () => {
    const { config, issues } = build({
      ingresses: [
        ingressFor('default', 'a', 'a.example', [{ path: '/p', pathType: 'Prefix', service: 'web' }], {
          annotations: {
            'traefik.ingress.kubernetes.io/router.tls.domains.1.main': 'b.example',
            'traefik.ingress.kubernetes.io/router.tls.domains.0.main': 'a.example',
            'traefik.ingress.kubernetes.io/router.tls.domains.0.sans': 'x.a.example, y.a.example',
            'traefik.ingress.kubernetes.io/router.rulesyntax': 'v3',
            'traefik.ingress.kubernetes.io/router.observability.accesslogs': 'false',
            'traefik.ingress.kubernetes.io/router.observability.tracing': 'false',
            'traefik.ingress.kubernetes.io/router.observability.metrics': 'true',
          },
        }),
        ingressFor('default', 'v2', 'v2.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          annotations: { 'traefik.ingress.kubernetes.io/router.rulesyntax': 'v2' },
        }),
      ],
      services: [web[0]],
      endpointSlices: [web[1]],
    });
    const r = config.http.routers['default-a-a-example-p'];
    assert.ok(r !== undefined, issues.join('\n'));
    // Any domains annotation makes the router HTTPS, as any router.tls.* one does.
    assert.deepEqual(r.tls?.domains, [
      { main: 'a.example', sans: ['x.a.example', 'y.a.example'] },
      { main: 'b.example', sans: [] },
    ]);
    assert.equal(r.observability?.accessLogs, false);
    assert.equal(r.observability?.tracing, false);
    assert.equal(r.observability?.metrics, true);
    assert.ok(!issues.some((i) => i.includes('not a known Ingress annotation')), issues.join('\n'));
    assert.equal(r.ruleSyntax, 'v3');
    assert.equal(config.http.routers['default-v2-v2-example']?.ruleSyntax, 'v2');
  });

  it('names the Ingress of its routers, default-router too, and the Service of its load balancers (access log)', () => {
    const other = [serviceFor('default', 'other'), endpointSliceFor('default', 'other', ['10.0.0.2'], 8080)];
    const fallback: Record<string, unknown> = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'fallback', namespace: 'default' },
      spec: { defaultBackend: { service: { name: 'other', port: { name: 'http' } } } },
    };
    const objs = {
      ingresses: ko([
        ingressFor('default', 'shop', '', [{ path: '/a', pathType: 'Prefix', service: 'web' }]),
        fallback,
      ]),
      ingressClasses: [],
      services: ko([web[0], other[0]]),
      endpointSlices: ko([web[1], other[1]]),
      secrets: [],
      nodes: [],
    };
    const b = ingressConfig(objs, {
      allowEmptyServices: false,
      allowCrossNamespace: false,
      ingressClass: '',
      strictPrefixMatching: false,
    });
    const u = attachKubernetesMeta(updateFromData(b.data, 'kubernetes', b.sourceOf, {}, b.issues), b.meta);
    const routers = u.config!.http.routers as Record<string, { kubernetes?: unknown }>;
    assert.deepEqual(routers['default-shop-a']?.kubernetes, {
      kind: 'Ingress',
      namespace: 'default',
      name: 'shop',
    });
    assert.deepEqual(routers['default-router']?.kubernetes, {
      kind: 'Ingress',
      namespace: 'default',
      name: 'fallback',
    });
    const services = u.config!.http.services as Record<string, { kubernetes?: unknown }>;
    assert.deepEqual(services['default-web-80']?.kubernetes, {
      name: 'web',
      namespace: 'default',
      port: '80',
    });
    // The port as the Ingress names it (Traefik's portString).
    assert.deepEqual(services['default-backend']?.kubernetes, {
      name: 'other',
      namespace: 'default',
      port: 'http',
    });
  });

  it('makes default-router of the defaultBackend of an Ingress without rules only, the first one only (Traefik`s loadConfigurationFromIngresses)', () => {
    const other = [serviceFor('default', 'other'), endpointSliceFor('default', 'other', ['10.0.0.2'], 8080)];
    const withRules = ingressFor('default', 'a-rules', 'a.example', [
      { path: '/a', pathType: 'Prefix', service: 'web' },
    ]);
    (withRules.spec as Record<string, unknown>)['defaultBackend'] = {
      service: { name: 'other', port: { number: 80 } },
    };
    const only = (name: string, service: string): Record<string, unknown> => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name,
        namespace: 'default',
        annotations: {
          'traefik.ingress.kubernetes.io/router.entrypoints': 'web',
          'traefik.ingress.kubernetes.io/router.priority': '7',
        },
      },
      spec: { defaultBackend: { service: { name: service, port: { number: 80 } } } },
    });
    const { config, issues } = build({
      ingresses: [withRules, only('b-default', 'web'), only('c-default', 'other')],
      services: [web[0], other[0]],
      endpointSlices: [web[1], other[1]],
    });
    const d = config.http.routers['default-router'];
    assert.equal(d?.rule, 'PathPrefix(`/`)');
    assert.equal(d?.priority, -2147483648);
    assert.deepEqual(d?.entryPoints, ['web']);
    assert.equal(d?.service, 'default-backend');
    const lb = config.http.services['default-backend'];
    assert.ok(lb?.kind === 'loadBalancer');
    assert.deepEqual(
      lb.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.1:8080'],
    );
    assert.deepEqual(Object.keys(config.http.services).sort(), ['default-backend', 'default-web-80']);
    assert.ok(
      issues.some(
        (i) => i.includes('ingress default/c-default') && i.includes('the default backend already exists'),
      ),
      issues.join('\n'),
    );
  });

  it('names routers whose keys collide in one Ingress with the hash of their rule (Traefik`s makeRouterKeyWithHash)', () => {
    const { config, issues } = build({
      ingresses: [
        ingressFor('default', 'testing', '', [
          { path: '/foo/bar', pathType: 'Prefix', service: 'web' },
          { path: '/foo-bar', pathType: 'Prefix', service: 'web' },
          { path: '/solo', pathType: 'Prefix', service: 'web' },
        ]),
      ],
      services: [web[0]],
      endpointSlices: [web[1]],
    });
    assert.deepEqual(issues, []);
    // Traefik's own test ("Ingress with conflicting routers on path") names them so.
    assert.deepEqual(
      Object.entries(config.http.routers)
        .map(([n, r]) => [n, r.rule])
        .sort(),
      [
        ['default-testing-foo-bar-d0b30949e54d6a7515ca', 'PathPrefix(`/foo/bar`)'],
        ['default-testing-foo-bar-dcd54bae39a6d7557f48', 'PathPrefix(`/foo-bar`)'],
        ['default-testing-solo', 'PathPrefix(`/solo`)'],
      ],
    );
  });

  it('uses the Service`s cluster IP with the service.nativelb annotation or nativeLBByDefault (Traefik`s loadService)', () => {
    const svc = serviceFor('default', 'web');
    (svc['spec'] as Record<string, unknown>)['clusterIP'] = '10.96.0.5';
    const objs = (annotation?: string) => {
      if (annotation !== undefined)
        (svc['metadata'] as Record<string, unknown>)['annotations'] = {
          'traefik.ingress.kubernetes.io/service.nativelb': annotation,
        };
      return {
        ingresses: [ingressFor('default', 'i', '', [{ path: '/', pathType: 'Prefix', service: 'web' }])],
        services: [svc],
        endpointSlices: [web[1]],
      };
    };
    const urls = (o: ReturnType<typeof objs>, opts = {}) => {
      const { config, issues } = build(o, opts);
      assert.deepEqual(issues, []);
      const s = config.http.services['default-web-80'];
      assert.ok(s?.kind === 'loadBalancer');
      return s.loadBalancer.servers.map((x) => x.url);
    };
    assert.deepEqual(urls(objs()), ['http://10.0.0.1:8080']);
    assert.deepEqual(urls(objs(), { nativeLBByDefault: true }), ['http://10.96.0.5:80']);
    assert.deepEqual(urls(objs('true')), ['http://10.96.0.5:80']);
    assert.deepEqual(urls(objs('false'), { nativeLBByDefault: true }), ['http://10.0.0.1:8080']);
  });

  it('reads service.sticky.cookie.domain, and the Traefik v3.7 service.middlewares annotation (crossProviderNamespaces applies)', () => {
    const svc = serviceFor('default', 'web');
    const objs = (annotations: Record<string, string>) => {
      (svc['metadata'] as Record<string, unknown>)['annotations'] = annotations;
      return {
        ingresses: [ingressFor('default', 'i', '', [{ path: '/', pathType: 'Prefix', service: 'web' }])],
        services: [svc],
        endpointSlices: [web[1]],
      };
    };
    const sticky = build(
      objs({
        'traefik.ingress.kubernetes.io/service.sticky.cookie': 'true',
        'traefik.ingress.kubernetes.io/service.sticky.cookie.domain': 'example.com',
      }),
    );
    assert.deepEqual(sticky.issues, []);
    const s = sticky.config.http.services['default-web-80'];
    assert.ok(s?.kind === 'loadBalancer');
    assert.equal(s.loadBalancer.sticky?.cookie?.domain, 'example.com');

    // Traefik v3.7's service middlewares: on the service, names as written.
    const mw = build(
      objs({
        'traefik.ingress.kubernetes.io/service.middlewares':
          'default-auth@kubernetescrd, strip@kubernetescrd',
      }),
    );
    assert.deepEqual(mw.issues, []);
    assert.deepEqual(mw.config.http.services['default-web-80']?.middlewares, [
      'default-auth@kubernetescrd',
      'strip@kubernetescrd',
    ]);
    assert.equal(Object.values(mw.config.http.routers)[0]?.service, 'default-web-80');

    // Traefik PR #13670: another provider's middleware from a namespace crossProviderNamespaces
    // does not list is refused, as the router's are: the backend is skipped.
    const refused = build(objs({ 'traefik.ingress.kubernetes.io/service.middlewares': 'auth@file' }), {
      crossProviderNamespaces: ['trusted'],
    });
    assert.deepEqual(refused.config.http.routers, {});
    assert.deepEqual(refused.config.http.services, {});
    assert.ok(
      refused.issues.some((i) =>
        i.includes(
          'service default/web: service.middlewares auth@file: reference is not allowed: namespace "default" is not in crossProviderNamespaces',
        ),
      ),
      refused.issues.join('\n'),
    );
    const allowed = build(
      objs({ 'traefik.ingress.kubernetes.io/service.middlewares': 'default-auth@kubernetescrd' }),
      {
        crossProviderNamespaces: ['default'],
      },
    );
    assert.deepEqual(allowed.config.http.services['default-web-80']?.middlewares, [
      'default-auth@kubernetescrd',
    ]);
  });

  it('uses the nodes` InternalIP:nodePort of a NodePort Service with the service.nodeportlb annotation', () => {
    const np = nodePortServiceFor('default', 'np', 80, 30080);
    (np['metadata'] as Record<string, unknown>)['annotations'] = {
      'traefik.ingress.kubernetes.io/service.nodeportlb': 'true',
    };
    const objs = {
      ingresses: [ingressFor('default', 'i', '', [{ path: '/', pathType: 'Prefix', service: 'np' }])],
      services: [np],
      endpointSlices: [endpointSliceFor('default', 'np', ['10.0.0.1'], 8080)],
      nodes: [nodeFor('n1', [{ type: 'InternalIP', address: '192.168.0.11' }])],
    };
    const { config, issues } = build(objs);
    assert.deepEqual(issues, []);
    const s = config.http.services['default-np-80'];
    assert.ok(s?.kind === 'loadBalancer');
    assert.deepEqual(
      s.loadBalancer.servers.map((x) => x.url),
      ['http://192.168.0.11:30080'],
    );
    // Traefik's loadService refuses the service without nodes (not an empty load balancer).
    const none = build({ ...objs, nodes: [] });
    assert.equal(none.config.http.services['default-np-80'], undefined);
    assert.ok(
      none.issues.some((i) => /service default\/np: nodePortLB: no nodes found/.test(i)),
      String(none.issues),
    );
  });

  it('handles no Ingress naming a class when IngressClasses are not looked up; the annotation still works', () => {
    const objs = {
      ingresses: [
        ingressFor('default', 'named', 'a.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          className: 'traefik',
        }),
        ingressFor('default', 'annotated', 'b.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          annotations: { 'kubernetes.io/ingress.class': 'traefik' },
        }),
      ],
      ingressClasses: [traefikIngressClass()],
      services: [web[0]],
      endpointSlices: [web[1]],
    };
    assert.deepEqual(Object.keys(build(objs).config.http.routers).sort(), [
      'default-annotated-b-example',
      'default-named-a-example',
    ]);
    // What the provider passes when disableIngressClassLookup (or disableClusterScopeResources) is on.
    assert.deepEqual(Object.keys(build({ ...objs, ingressClasses: [] }).config.http.routers), [
      'default-annotated-b-example',
    ]);
  });

  it('gives each handled Ingress with rules the status of ingressEndpoint (Traefik`s updateIngressStatus)', () => {
    const ing = (name: string, status?: unknown) => {
      const i = ingressFor('default', name, `${name}.example`, [
        { path: '/', pathType: 'Prefix', service: 'web' },
      ]);
      if (status !== undefined) i['status'] = status;
      return i;
    };
    const noRules = ingressFor('default', 'norules', '', []);
    (noRules['spec'] as Record<string, unknown>)['rules'] = [];
    const objs = {
      ingresses: [
        ing('new'),
        ing('same', { loadBalancer: { ingress: [{ hostname: 'lb.example', ip: '192.0.2.1' }] } }),
        ing('other', { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } }),
        noRules,
      ],
      services: [web[0]],
      endpointSlices: [web[1]],
    };
    const fixed = build(objs, {
      ingressEndpoint: { ip: '192.0.2.1', hostname: 'lb.example', publishedService: '' },
    });
    assert.deepEqual(
      fixed.statuses.map((u) => [u.path, u.apiVersion, u.status]),
      ['new', 'other'].map((n) => [
        `/apis/networking.k8s.io/v1/namespaces/default/ingresses/${n}`,
        'networking.k8s.io/v1',
        { loadBalancer: { ingress: [{ ip: '192.0.2.1', hostname: 'lb.example' }] } },
      ]),
    );
    // publishedService: the Service's own status, without what an Ingress status has no field for.
    const lbService = serviceFor('kube-system', 'traefik');
    lbService['status'] = {
      loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }, { hostname: 'lb.example' }] },
    };
    const published = build(
      { ...objs, services: [web[0], lbService] },
      { ingressEndpoint: { ip: '', hostname: '', publishedService: 'kube-system/traefik' } },
    );
    assert.deepEqual(
      published.statuses.map((u) => u.object.metadata.name),
      ['new', 'other', 'same'],
    );
    assert.deepEqual(published.statuses[0]?.status, {
      loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: 'lb.example' }] },
    });
    // A Service without load-balancer status leaves the Ingresses alone; a missing one is reported.
    const pending = build(
      { ...objs, services: [web[0], serviceFor('kube-system', 'traefik')] },
      { ingressEndpoint: { ip: '', hostname: '', publishedService: 'kube-system/traefik' } },
    );
    assert.deepEqual(pending.statuses, []);
    assert.deepEqual(pending.issues, []);
    const missing = build(objs, {
      ingressEndpoint: { ip: '', hostname: '', publishedService: 'kube-system/nope' },
    });
    assert.deepEqual(missing.statuses, []);
    assert.ok(
      missing.issues.some((i) =>
        /ingress default\/new: warning: status not written: missing service kube-system\/nope/.test(i),
      ),
    );
    const empty = build(objs, { ingressEndpoint: { ip: '', hostname: '', publishedService: '' } });
    assert.ok(empty.issues.some((i) => /needs publishedService, ip or hostname/.test(i)));
  });

  it('writes a wildcard host as Traefik`s buildHostRule does', () => {
    const { config, issues } = build({
      ingresses: [
        ingressFor('testing', 'w', '*.foobar.com', [{ path: '/bar', pathType: 'Prefix', service: 'web' }]),
      ],
      services: [serviceFor('testing', 'web')],
      endpointSlices: [endpointSliceFor('testing', 'web', ['10.0.0.1'], 8080)],
    });
    assert.deepEqual(issues, []);
    // Traefik's test "Ingress with wildcard host".
    assert.equal(
      config.http.routers['testing-w-foobar-com-bar']?.rule,
      'HostRegexp(`^[a-zA-Z0-9-]+\\.foobar\\.com$`) && PathPrefix(`/bar`)',
    );
  });
});
