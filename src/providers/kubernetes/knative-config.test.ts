import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knativeIngressFor, secretFor } from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import type { KubeObject } from './informer.ts';
import { type KnativeOptions, knativeConfig, knativeRule } from './knative-config.ts';

// The objects of Traefik's pkg/provider/kubernetes/knative/fixtures (services.yaml and the
// Ingress of cluster_local.yaml, external_ip.yaml, tls.yaml, wrong_ingress_class.yaml).
const revision = (name: string, ip: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: {
    clusterIP: ip,
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8012 },
      { name: 'https', port: 443, protocol: 'TCP', targetPort: 8112 },
    ],
  },
});
const services = [
  revision('helloworld-go-00001', '10.43.38.208'),
  revision('helloworld-go-00002', '10.43.44.18'),
];
const hosts = [
  'helloworld-go.default',
  'helloworld-go.default.svc',
  'helloworld-go.default.svc.cluster.local',
];
const split = (n: string, percent: number) => ({
  appendHeaders: { 'Knative-Serving-Namespace': 'default', 'Knative-Serving-Revision': `helloworld-go-${n}` },
  percent,
  serviceName: `helloworld-go-${n}`,
  serviceNamespace: 'default',
  servicePort: 80,
});
const helloworld = (visibility: string, extra: Record<string, unknown> = {}, cls?: string): KubeObject =>
  knativeIngressFor(
    'default',
    'helloworld-go',
    {
      httpOption: 'Enabled',
      ...extra,
      rules: [{ hosts, http: { paths: [{ splits: [split('00001', 50), split('00002', 50)] }] }, visibility }],
    },
    cls,
  ) as unknown as KubeObject;

// Traefik's Test_loadConfiguration provider options.
const opts: KnativeOptions = {
  publicEntrypoints: ['http', 'https'],
  privateEntrypoints: ['priv-http', 'priv-https'],
};

function build(ingresses: KubeObject[], o: Partial<KnativeOptions> = {}, secrets: KubeObject[] = []) {
  const b = knativeConfig({ ingresses, services, secrets }, { ...opts, ...o });
  const u = updateFromData(b.data, 'knative', b.sourceOf, {}, b.issues);
  return { data: b.data, config: u.config!, issues: u.issues.map(formatIssue), statuses: b.statuses };
}

const key = 'default-helloworld-go-rule-0-path-0';
const rule =
  '(Host(`helloworld-go.default`) || Host(`helloworld-go.default.svc`) || Host(`helloworld-go.default.svc.cluster.local`))';
const expectedServices = {
  [`${key}-split-0`]: { loadBalancer: { servers: [{ url: 'http://10.43.38.208:80' }] } },
  [`${key}-split-1`]: { loadBalancer: { servers: [{ url: 'http://10.43.44.18:80' }] } },
  [`${key}-wrr`]: {
    weighted: {
      services: [
        {
          name: `${key}-split-0`,
          weight: 50,
          headers: {
            'Knative-Serving-Namespace': 'default',
            'Knative-Serving-Revision': 'helloworld-go-00001',
          },
        },
        {
          name: `${key}-split-1`,
          weight: 50,
          headers: {
            'Knative-Serving-Namespace': 'default',
            'Knative-Serving-Revision': 'helloworld-go-00002',
          },
        },
      ],
    },
  },
};

describe('Knative Ingress → configuration (Traefik`s Test_loadConfiguration fixtures)', () => {
  it('Wrong ingress class: nothing, no status', () => {
    const r = build([helloworld('ExternalIP', {}, 'foo.ingress.networking.knative.dev')]);
    assert.deepEqual(r.data, { http: { routers: {}, services: {}, middlewares: {} } });
    assert.equal(r.statuses.length, 0);
  });

  it('External IP: a router on publicEntrypoints, a weighted service over one load balancer per split', () => {
    const r = build([helloworld('ExternalIP')]);
    assert.deepEqual(r.data, {
      http: {
        routers: { [key]: { entryPoints: ['http', 'https'], rule, middlewares: [], service: `${key}-wrr` } },
        services: expectedServices,
        middlewares: {},
      },
    });
    assert.deepEqual(r.issues, []);
    // Traefik's ServersLoadBalancer defaults, through our schema.
    const lb = r.config.http.services[`${key}-split-0`] as {
      kind: string;
      loadBalancer: Record<string, unknown>;
    };
    assert.equal(lb.loadBalancer['passHostHeader'], true);
    assert.equal(lb.loadBalancer['strategy'], 'wrr');
    assert.equal(r.statuses.length, 1);
  });

  it('Cluster Local: on privateEntrypoints; skipped without them', () => {
    const r = build([helloworld('ClusterLocal')]);
    assert.deepEqual(r.data, {
      http: {
        routers: {
          [key]: { entryPoints: ['priv-http', 'priv-https'], rule, middlewares: [], service: `${key}-wrr` },
        },
        services: expectedServices,
        middlewares: {},
      },
    });
    const none = build([helloworld('ClusterLocal')], { privateEntrypoints: [] });
    assert.deepEqual(none.data, { http: { routers: {}, services: {}, middlewares: {} } });
    assert.equal(none.statuses.length, 1, 'still handled: its status is written');
  });

  it('TLS: a `-tls` router too; a secret of another namespace is not loaded', () => {
    const tls = [{ hosts: [hosts[2]], secretName: 'secretName', secretNamespace: 'secretNamespace' }];
    const r = build([helloworld('ExternalIP', { tls })]);
    const http = r.data['http'] as { routers: Record<string, unknown> };
    assert.deepEqual(http.routers[`${key}-tls`], {
      entryPoints: ['http', 'https'],
      rule,
      middlewares: [],
      service: `${key}-wrr`,
      tls: {},
    });
    assert.equal(r.data['tls'], undefined);
  });

  it('TLS: a secret of its namespace becomes a certificate; a missing one leaves the Ingress out', () => {
    const tls = [{ hosts: [hosts[2]], secretName: 'cert', secretNamespace: 'default' }];
    const secret = secretFor('default', 'cert', {
      'tls.crt': 'CERT',
      'tls.key': 'KEY',
    }) as unknown as KubeObject;
    const r = build([helloworld('ExternalIP', { tls })], {}, [secret]);
    assert.deepEqual(r.data['tls'], { certificates: [{ certFile: 'CERT', keyFile: 'KEY' }] });
    const missing = build([helloworld('ExternalIP', { tls })]);
    assert.deepEqual(missing.data['http'], { routers: {}, services: {}, middlewares: {} });
    assert.equal(missing.statuses.length, 0);
    assert.match(missing.issues.join('\n'), /secret default\/cert not found/);
  });

  it('appendHeaders of a path: a headers middleware; a lone split weighs 100; a port by name; h2c', () => {
    const ing = knativeIngressFor('default', 'one', {
      rules: [
        {
          hosts: ['one.example'],
          http: {
            paths: [
              {
                path: '/api',
                headers: { 'X-B': { exact: '2' }, 'X-A': { exact: '1' } },
                appendHeaders: { 'X-Added': 'yes' },
                splits: [
                  { serviceName: 'h2', serviceNamespace: 'default', servicePort: 'grpc', percent: 10 },
                ],
              },
            ],
          },
        },
      ],
    }) as unknown as KubeObject;
    const h2: KubeObject = {
      metadata: { name: 'h2', namespace: 'default' },
      spec: { clusterIP: '10.0.0.9', ports: [{ name: 'grpc', port: 81, appProtocol: 'kubernetes.io/h2c' }] },
    };
    const b = knativeConfig({ ingresses: [ing], services: [h2], secrets: [] }, { ...opts });
    // The rule (Header matchers), the h2c server and the child's weight pass our checks.
    assert.deepEqual(updateFromData(b.data, 'knative', b.sourceOf, {}, b.issues).issues.map(formatIssue), []);
    const k = 'default-one-rule-0-path-0';
    assert.deepEqual(b.data, {
      http: {
        routers: {
          [k]: {
            entryPoints: ['http', 'https'],
            rule: '(Host(`one.example`)) && (Header(`X-A`,`1`) && Header(`X-B`,`2`)) && PathPrefix(`/api`)',
            middlewares: [`${k}-append-headers`],
            service: `${k}-wrr`,
          },
        },
        services: {
          [`${k}-split-0`]: { loadBalancer: { servers: [{ url: 'h2c://10.0.0.9:81' }] } },
          [`${k}-wrr`]: { weighted: { services: [{ name: `${k}-split-0`, weight: 100 }] } },
        },
        middlewares: { [`${k}-append-headers`]: { headers: { customRequestHeaders: { 'X-Added': 'yes' } } } },
      },
    });
  });

  it('a missing Service, port or cluster IP: the path is left out and reported (its middleware stays)', () => {
    const ing = (port: number | string, name = 'helloworld-go-00001') =>
      knativeIngressFor('default', 'bad', {
        rules: [
          {
            hosts: ['bad.example'],
            http: {
              paths: [
                {
                  appendHeaders: { A: 'b' },
                  splits: [{ serviceName: name, serviceNamespace: 'default', servicePort: port }],
                },
              ],
            },
          },
        ],
      }) as unknown as KubeObject;
    const external: KubeObject = {
      metadata: { name: 'ext', namespace: 'default' },
      spec: { type: 'ExternalName', externalName: 'example.org', ports: [{ name: 'http', port: 80 }] },
    };
    for (const [i, want] of [
      [ing(80, 'nope'), /service default\/nope not found/],
      [ing(8080), /service port 8080 not found/],
      [ing(80, 'ext'), /does not have a ClusterIP/],
    ] as const) {
      const b = knativeConfig({ ingresses: [i], services: [...services, external], secrets: [] }, opts);
      const http = b.data['http'] as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(http['routers']!), []);
      assert.deepEqual(Object.keys(http['services']!), []);
      assert.deepEqual(Object.keys(http['middlewares']!), ['default-bad-rule-0-path-0-append-headers']);
      assert.match(b.issues.map(formatIssue).join('\n'), want);
    }
  });

  it('no publicEntrypoints: the router has none (every default entry point)', () => {
    const r = build([helloworld('ExternalIP')], { publicEntrypoints: [] });
    const http = r.data['http'] as { routers: Record<string, Record<string, unknown>> };
    assert.equal(http.routers[key]!['entryPoints'], undefined);
  });
});

describe('Knative Ingress status (Traefik`s updateKnativeIngressStatus)', () => {
  it('marks it NetworkConfigured, LoadBalancerReady and Ready, with the services` cluster names', () => {
    const r = build([helloworld('ExternalIP')], {
      publicService: { name: 'traefik', namespace: 'ingress' },
      privateService: { name: 'traefik-internal', namespace: '' },
    });
    assert.deepEqual(r.statuses[0]!.status, {
      observedGeneration: 0,
      conditions: [
        { type: 'LoadBalancerReady', status: 'True' },
        { type: 'NetworkConfigured', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      publicLoadBalancer: { ingress: [{ domainInternal: 'traefik.ingress.svc.cluster.local' }] },
      privateLoadBalancer: {},
    });
    assert.equal(
      r.statuses[0]!.path,
      '/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/helloworld-go',
    );
  });

  it('leaves it when NetworkConfigured is True for the current generation', () => {
    const ing = helloworld('ExternalIP') as KubeObject & { status?: unknown };
    (ing.metadata as { generation?: number }).generation = 2;
    const done = {
      ...ing,
      status: { observedGeneration: 2, conditions: [{ type: 'NetworkConfigured', status: 'True' }] },
    };
    assert.equal(build([done]).statuses.length, 0);
    const stale = {
      ...ing,
      status: { observedGeneration: 1, conditions: [{ type: 'NetworkConfigured', status: 'True' }] },
    };
    assert.equal(build([stale]).statuses[0]!.status['observedGeneration'], 2);
  });
});

describe('knativeRule (Traefik`s Test_buildRule)', () => {
  const cases: [string[], Record<string, { exact: string }>, string, string][] = [
    [['example.com'], {}, '', '(Host(`example.com`))'],
    [['example.com', 'foo.com'], {}, '', '(Host(`example.com`) || Host(`foo.com`))'],
    [
      ['example.com'],
      { 'X-Header': { exact: 'value' } },
      '',
      '(Host(`example.com`)) && (Header(`X-Header`,`value`))',
    ],
    [
      ['example.com'],
      { 'X-Header2': { exact: 'value2' }, 'X-Header': { exact: 'value' } },
      '/foo',
      '(Host(`example.com`)) && (Header(`X-Header`,`value`) && Header(`X-Header2`,`value2`)) && PathPrefix(`/foo`)',
    ],
    [['example.com'], {}, '/foo', '(Host(`example.com`)) && PathPrefix(`/foo`)'],
    // A backtick in a value makes it a double-quoted string: no injected matcher (GHSA-67jx-r9pv-98rj).
    [
      ['example.com'],
      { 'X-Header': { exact: 'x`)) || (Host(`attacker.com' } },
      '',
      '(Host(`example.com`)) && (Header(`X-Header`,"x`)) || (Host(`attacker.com"))',
    ],
  ];
  for (const [h, headers, path, want] of cases) {
    it(want, () => assert.equal(knativeRule(h, headers, path), want));
  }
});
