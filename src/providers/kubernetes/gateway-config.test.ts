import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  grpcRouteFor,
  httpRouteFor,
  secretFor,
  serviceFor,
} from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { TestPki } from '../../upstream/test-pki.ts';
import { type GatewayObjects, type GatewayOptions, gatewayConfig, gatewayUpdate } from './gateway-config.ts';
import { listenerRouterName } from './gateway-isolation.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import type { Obj } from './kube-build.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

/**
 * Traefik's makeRouterName (v3.7.11): the label `key`, `-`, and the first ten bytes (hex) of
 * sha256 over the label's parts (namespace, name, gateway namespace, gateway, entry point, rule
 * index), each as `<length>:<part>`, then the rule. The keys here have no `-` inside a part.
 */
const rn = (key: string, rule = ''): string => {
  const [, ns, name, , gwNs, gw, , ep, ri] = key.split('-') as string[];
  const h = createHash('sha256');
  for (const c of [ns!, name!, gwNs!, gw!, ep!, ri!]) h.update(`${c.length}:${c}`);
  return `${key}-${h.update(rule).digest('hex').slice(0, 20)}`;
};
/** The one name of `names` that is `key` and a rule hash. */
const named = (names: Iterable<string>, key: string): string => {
  const found = [...names].filter((n) => new RegExp(`^${key}-[0-9a-f]{20}$`).test(n));
  assert.equal(found.length, 1, `one router ${key}-<hash> in ${[...names].join()}`);
  return found[0]!;
};

/**
 * The service Traefik makes of a router's backendRef (traefik/traefik#13367):
 * `<router>-svc-<namespace>-<name>-<backendRef index>`.
 */
const sv = (router: string, ns: string, name: string, index: number): string =>
  `${router}-svc-${ns}-${name}-${index}`;
/** The one service of `services` made of backendRef `<ns>/<name>` at `index` (any router). */
const svcOf = <T>(services: Record<string, T>, ns: string, name: string, index = 0): T | undefined => {
  const found = Object.keys(services).filter((n) => n.endsWith(`-svc-${ns}-${name}-${index}`));
  assert.ok(found.length <= 1, `one service for ${ns}/${name}: ${found.join()}`);
  return found.length === 0 ? undefined : services[found[0]!];
};

function build(objs: Partial<Record<keyof GatewayObjects, unknown[]>>, opts: Partial<GatewayOptions> = {}) {
  const b = gatewayConfig(
    {
      gatewayClasses: ko(objs.gatewayClasses),
      gateways: ko(objs.gateways),
      httpRoutes: ko(objs.httpRoutes),
      grpcRoutes: ko(objs.grpcRoutes),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      secrets: ko(objs.secrets),
      configMaps: ko(objs.configMaps),
      referenceGrants: ko(objs.referenceGrants),
      namespaces: ko(objs.namespaces),
    },
    {
      allowEmptyServices: false,
      allowExternalNameServices: false,
      entryPointPorts: { web: 8000, websecure: 8443 },
      ...opts,
    },
  );
  const u = gatewayUpdate(b, 'kubernetesgateway', {
    knownProviders: ['kubernetescrd'],
    internalServices: new Set(['api', 'rest']),
  });
  return { ...splitListenerRouters(u.config!), issues: u.issues.map(formatIssue), statuses: b.statuses };
}

/**
 * The configuration with the routes' routers only in `http.routers`, and the listener routers
 * (Traefik v3.8's listener isolation parents, gateway-isolation.ts) aside in `parents`.
 */
function splitListenerRouters<C extends { http: { routers: Record<string, unknown> } }>(
  config: C,
): { config: C; parents: C['http']['routers'] } {
  const parents = Object.fromEntries(
    Object.entries(config.http.routers).filter(([n]) => n.startsWith('listener-')),
  );
  const routers = Object.fromEntries(
    Object.entries(config.http.routers).filter(([n]) => !n.startsWith('listener-')),
  );
  return {
    config: { ...config, http: { ...config.http, routers } },
    parents: parents as C['http']['routers'],
  };
}

const apps = [
  serviceFor('default', 'a'),
  serviceFor('default', 'b'),
  endpointSliceFor('default', 'a', ['10.0.0.1'], 8080),
  endpointSliceFor('default', 'b', ['10.0.0.2'], 8080),
];

describe('Gateway API → configuration', () => {
  it("gives a route with a hostname, and a route's earlier rule, precedence (Traefik's buildMatchRule, loadHTTPRoute)", () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
      httpRoutes: [
        httpRouteFor('default', 'any', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
        }),
        httpRouteFor('default', 'named', {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['shop.example.com'],
          rules: [
            { backendRefs: [{ name: 'b', port: 80 }] },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/x' } }],
              backendRefs: [{ name: 'b', port: 80 }],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/y' } }],
              backendRefs: [{ name: 'b', port: 80 }],
            },
          ],
        }),
      ],
      services: apps.slice(0, 2),
      endpointSlices: apps.slice(2),
    });
    assert.deepEqual(issues, []);
    const byRule = Object.fromEntries(Object.values(config.http.routers).map((r) => [r.rule, r.priority]));
    const host = 'shop.example.com'.length;
    assert.deepEqual(byRule, {
      // Before, the route without a hostname had the same priority as the one with it.
      'PathPrefix(`/`)': 1 + 1,
      'Host(`shop.example.com`) && PathPrefix(`/`)': 1 + host + 3,
      'Host(`shop.example.com`) && (Path(`/x`) || PathPrefix(`/x/`))': 10000 + 200 + host + 2,
      'Host(`shop.example.com`) && (Path(`/y`) || PathPrefix(`/y/`))': 10000 + 200 + host + 1,
    });
  });

  it('keeps apart two routes whose names normalise alike (Traefik v3.7.11, GHSA-fgjj-px3w-67xx): the oldest serves their rule (v3.8 servedRules)', () => {
    // Namespace `a-b` route `c` and namespace `a` route `b-c`: the same label, the same rule. Before
    // v3.7.11 they made one router, the later silently replacing the earlier (and its backend);
    // since v3.8 (servedRules, compareRoutes) the oldest route's router alone serves the rule,
    // here `a-b/c`, older though its namespace sorts after.
    const route = (ns: string, name: string, created: string) => {
      const r = httpRouteFor(ns, name, {
        parentRefs: [{ name: 'gw', namespace: 'default' }],
        hostnames: ['t.example.com'],
        rules: [{ backendRefs: [{ name: 'x', port: 80 }] }],
      });
      (r.metadata as Record<string, unknown>)['creationTimestamp'] = created;
      return r;
    };
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'http', port: 8000, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
        ]),
      ],
      httpRoutes: [route('a', 'b-c', '2026-01-01T00:00:02Z'), route('a-b', 'c', '2026-01-01T00:00:01Z')],
      services: [serviceFor('a-b', 'x'), serviceFor('a', 'x')],
      endpointSlices: [
        endpointSliceFor('a-b', 'x', ['10.0.0.1'], 8080),
        endpointSliceFor('a', 'x', ['10.0.0.2'], 8080),
      ],
    });
    const names = Object.keys(config.http.routers).sort();
    assert.equal(names.length, 1, names.join());
    assert.ok(names.every((n) => n.startsWith('httproute-a-b-c-gw-default-gw-ep-web-0-')));
    const backends = names.map((n) => {
      const w = config.http.services[`${n}-wrr`];
      assert.ok(w?.kind === 'weighted');
      return w.weighted.services.map((x) => x.name).join();
    });
    assert.deepEqual(backends, [sv(names[0]!, 'a-b', 'x', 0)]);
    assert.equal(issues.length, 1);
    assert.match(
      issues[0]!,
      /^httproute a\/b-c: warning: rule 0: .* is already served by router httproute-a-b-c-/,
    );
  });

  it('routes an HTTPRoute through a listener`s entry point with Traefik`s rules, priorities and weights', () => {
    const { config, parents, issues } = build({
      gatewayClasses: [gatewayClassFor(), gatewayClassFor('other', 'example.com/other')],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'http', port: 8000, protocol: 'HTTP', hostname: '*.example.com' },
        ]),
        gatewayFor('default', 'notours', [{ name: 'http', port: 8000, protocol: 'HTTP' }], 'other'),
      ],
      httpRoutes: [
        httpRouteFor('default', 'app', {
          parentRefs: [{ name: 'gw' }, { name: 'notours' }],
          hostnames: ['shop.example.com', 'shop.other.org'],
          rules: [
            {
              matches: [
                {
                  path: { type: 'PathPrefix', value: '/api/' },
                  method: 'GET',
                  headers: [{ name: 'X-V', value: '2' }],
                },
                { path: { type: 'Exact', value: '/health' } },
              ],
              backendRefs: [
                { name: 'a', port: 80, weight: 90 },
                { name: 'b', port: 80, weight: 10 },
              ],
            },
          ],
        }),
      ],
      services: apps.slice(0, 2),
      endpointSlices: apps.slice(2),
    });
    assert.deepEqual(issues, []);
    const routers = Object.entries(config.http.routers).map(([n, r]) => [
      n,
      r.rule,
      r.priority,
      r.parentRefs,
    ]);
    // Traefik v3.8: the listener's router (its hostname, on its entry point) is the routes' parent.
    const listener = listenerRouterName('web', 'HTTP', '*.example.com');
    assert.equal(
      listener,
      `listener-web-http-example-com-${createHash('sha256').update('3:web4:http13:*.example.com').digest('hex').slice(0, 20)}`,
    );
    assert.deepEqual(
      Object.entries(parents).map(([n, r]) => [n, r.rule, r.entryPoints, r.service, r.tls]),
      [
        [
          listener,
          // Traefik v3.8's buildListenerRule: the double wildcard of traefik/traefik#13882.
          'Host("**.example.com")',
          ['web'],
          undefined,
          undefined,
        ],
      ],
    );
    const rule0 =
      'Host(`shop.example.com`) && (Path(`/api`) || PathPrefix(`/api/`)) && Method(`GET`) && Header(`X-V`, `2`)';
    const rule1 = 'Host(`shop.example.com`) && Path(`/health`)';
    const key = 'httproute-default-app-gw-default-gw-ep-web-0';
    // Traefik's buildMatchRule: the prefix as written (`/api/`, 5 characters), the method, the
    // header, the hostname's length; loadHTTPRoute adds len(rules) - ri (one rule here).
    const host = 'shop.example.com'.length;
    assert.deepEqual(routers, [
      [rn(key, rule0), rule0, 10000 + 5 * 100 + 1000 + 100 + host + 1, [listener]],
      [rn(key, rule1), rule1, 100000 + host + 1, [listener]],
    ]);
    const w = config.http.services[`${rn(key, rule0)}-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((s) => [s.name, s.weight]),
      [
        [sv(rn(key, rule0), 'default', 'a', 0), 90],
        [sv(rn(key, rule0), 'default', 'b', 1), 10],
      ],
    );
  });

  it('isolates listeners as Traefik v3.8`s buildListenerRouters: a parent router per hostname of an entry point, TLS ones with their options', () => {
    const r = (gw: string, l: string) =>
      httpRouteFor('default', `${gw}-${l}`, {
        parentRefs: [{ name: gw, sectionName: l }],
        rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
      });
    const { config, parents, data } = (() => {
      const out = build({
        gatewayClasses: [gatewayClassFor()],
        gateways: [
          gatewayFor('default', 'one', [
            { name: 'any', port: 8000, protocol: 'HTTP' },
            { name: 'wild', port: 8000, protocol: 'HTTP', hostname: '*.example.com' },
            { name: 'foo', port: 8000, protocol: 'HTTP', hostname: 'foo.example.com' },
            // No route attached: its router (it has no child) is dropped.
            { name: 'idle', port: 8000, protocol: 'HTTP', hostname: 'idle.test' },
          ]),
          // Another Gateway on the same entry point: its `*.example.com` listener is its most
          // specific for foo.example.com too (the listeners of one Gateway hide no other's).
          gatewayFor('default', 'two', [
            { name: 'wild', port: 8000, protocol: 'HTTP', hostname: '*.example.com' },
            {
              name: 'tls',
              port: 8443,
              protocol: 'HTTPS',
              hostname: 'secure.test',
              tls: { certificateRefs: [{ name: 'cert', kind: 'Secret', group: '' }] },
            },
          ]),
        ],
        httpRoutes: [r('one', 'any'), r('one', 'wild'), r('one', 'foo'), r('two', 'wild'), r('two', 'tls')],
        services: apps.slice(0, 1),
        endpointSlices: apps.slice(2, 3),
        secrets: [secretFor('default', 'cert', { 'tls.crt': 'CERT', 'tls.key': 'KEY' })],
      });
      return { ...out, data: out.config };
    })();
    const any = listenerRouterName('web', 'HTTP', '');
    const foo = listenerRouterName('web', 'HTTP', 'foo.example.com');
    const wild = listenerRouterName('web', 'HTTP', '*.example.com');
    const secure = listenerRouterName('websecure', 'HTTPS', 'secure.test');
    const wildRe = 'Host("**.example.com")';
    assert.deepEqual(
      Object.entries(parents).map(([n, p]) => [n, p.rule, p.entryPoints, p.tls?.options]),
      [
        [
          any,
          `(Host("*")) && !(${wildRe} || Host("foo.example.com") || Host("idle.test"))`,
          ['web'],
          undefined,
        ],
        [wild, `(${wildRe}) && !(Host("foo.example.com"))`, ['web'], undefined],
        [foo, 'Host("foo.example.com")', ['web'], undefined],
        [secure, 'Host("secure.test")', ['websecure'], secure],
      ],
    );
    // Its own TLS options, the defaults (Traefik's tls.Options SetDefaults).
    assert.equal(data.tls?.options?.[secure]?.minVersion, 'VersionTLS12');
    assert.equal(Object.keys(data.tls?.options ?? {}).length, 1);
    const parentsOf = (route: string) =>
      Object.entries(config.http.routers)
        .filter(([n]) => n.startsWith(`httproute-default-${route}-`))
        .map(([, x]) => [x.parentRefs, x.entryPoints, x.tls]);
    assert.deepEqual(parentsOf('one-any'), [[[any], undefined, undefined]]);
    assert.deepEqual(parentsOf('one-wild'), [[[wild], undefined, undefined]]);
    assert.deepEqual(parentsOf('one-foo'), [[[foo], undefined, undefined]]);
    assert.deepEqual(parentsOf('two-wild'), [[[wild, foo], undefined, undefined]]);
    assert.deepEqual(parentsOf('two-tls'), [[[secure], undefined, undefined]]);
  });

  it('refuses a route from another namespace unless the listener allows All, and reports a listener without entry point', () => {
    const route = httpRouteFor('team', 'r', {
      parentRefs: [{ name: 'gw', namespace: 'default' }],
      rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
    });
    const teamApp = [serviceFor('team', 'a'), endpointSliceFor('team', 'a', ['10.0.0.3'], 8080)];
    const same = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'h', port: 8000, protocol: 'HTTP' },
          { name: 'x', port: 9999, protocol: 'HTTP' },
        ]),
      ],
      httpRoutes: [route],
      services: [teamApp[0]],
      endpointSlices: [teamApp[1]],
    });
    assert.deepEqual(same.config.http.routers, {});
    assert.ok(
      same.issues.some(
        (i) => i.includes('gateway default/gw') && i.includes('no entry point listens on port 9999'),
      ),
    );
    const all = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'h', port: 8000, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
        ]),
      ],
      httpRoutes: [route],
      services: [teamApp[0]],
      endpointSlices: [teamApp[1]],
    });
    assert.deepEqual(
      Object.values(all.config.http.routers).map((r) => [r.rule, r.priority]),
      // The catch-all is 1 (Traefik's buildPathRule), plus 1 for the route's only rule.
      [['PathPrefix(`/`)', 2]],
    );
  });

  it('does not put an HTTP listener on an entry point with http.tls (Traefik`s entryPointName)', () => {
    const { config, statuses, issues } = build(
      {
        gatewayClasses: [gatewayClassFor()],
        gateways: [
          gatewayFor('default', 'gw', [
            { name: 'plain', port: 8443, protocol: 'HTTP' },
            { name: 'web', port: 8000, protocol: 'HTTP' },
          ]),
        ],
        httpRoutes: [
          httpRouteFor('default', 'r', {
            parentRefs: [{ name: 'gw', sectionName: 'plain' }],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
          }),
        ],
        services: [apps[0]],
        endpointSlices: [apps[2]],
      },
      { httpTlsEntryPoints: ['websecure'] },
    );
    const listeners = statusOf(statuses, 'Gateway', 'gw')['listeners'] as { conditions: unknown }[];
    assert.equal(conds(listeners[0]?.conditions)[0], 'Accepted=False/PortUnavailable');
    assert.equal(conds(listeners[1]?.conditions)[0], 'Accepted=True/Accepted');
    assert.deepEqual(config.http.routers, {});
    assert.ok(issues.some((i) => i.includes('no entry point without http.tls listens on port 8443')));
  });

  it('admits the routes of the namespaces a Selector matches, by their labels (Traefik`s allowedNamespaces)', () => {
    const ns = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels },
    });
    const namespaces = [
      ns('default', {}),
      ns('team', { shared: 'yes', tier: 'web' }),
      ns('other', { shared: 'yes', tier: 'db' }),
      ns('closed', { shared: 'no' }),
    ];
    const routeIn = (n: string) =>
      httpRouteFor(n, 'r', {
        parentRefs: [{ name: 'gw', namespace: 'default' }],
        hostnames: [`${n}.example`],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      });
    const apps = ['team', 'other', 'closed'].flatMap((n) => [
      serviceFor(n, 'app'),
      endpointSliceFor(n, 'app', ['10.0.0.9'], 8080),
    ]);
    const withSelector = (selector: unknown, opts: Partial<GatewayOptions> = {}) =>
      build(
        {
          gatewayClasses: [gatewayClassFor()],
          gateways: [
            gatewayFor('default', 'gw', [
              {
                name: 'h',
                port: 8000,
                protocol: 'HTTP',
                allowedRoutes: { namespaces: { from: 'Selector', selector } },
              },
            ]),
          ],
          httpRoutes: [routeIn('team'), routeIn('other'), routeIn('closed')],
          services: apps.filter((_, i) => i % 2 === 0),
          endpointSlices: apps.filter((_, i) => i % 2 === 1),
          namespaces,
        },
        opts,
      );
    const admitted = (r: ReturnType<typeof build>) =>
      ['team', 'other', 'closed'].filter((n) =>
        Object.values(r.config.http.routers ?? {}).some((x) => x.rule.startsWith(`Host(\`${n}.example\`)`)),
      );
    const parentOf = (r: ReturnType<typeof build>, n: string) => {
      const st = r.statuses.find((s) => s.kind === 'HTTPRoute' && s.object.metadata.namespace === n);
      return conds((st!.status as { parents: { conditions: unknown }[] }).parents[0]?.conditions);
    };

    const labels = withSelector({ matchLabels: { shared: 'yes' } });
    assert.deepEqual(admitted(labels), ['team', 'other']);
    assert.deepEqual(parentOf(labels, 'team'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
    assert.deepEqual(parentOf(labels, 'closed'), [
      'Accepted=False/NotAllowedByListeners',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    const listener = (r: ReturnType<typeof build>) =>
      (
        statusOf(r.statuses, 'Gateway', 'gw')['listeners'] as {
          attachedRoutes: number;
          conditions: unknown;
        }[]
      )[0]!;
    assert.equal(listener(labels).attachedRoutes, 2);

    const exprs = withSelector({
      matchLabels: { shared: 'yes' },
      matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }],
    });
    assert.deepEqual(admitted(exprs), ['team']);
    assert.deepEqual(
      admitted(withSelector({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] })),
      ['closed'],
    );
    assert.deepEqual(admitted(withSelector({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] })), [
      'team',
      'other',
    ]);
    // An empty selector selects every namespace; none selects none (LabelSelectorAsSelector).
    assert.deepEqual(admitted(withSelector({})), ['team', 'other', 'closed']);
    assert.deepEqual(admitted(withSelector(undefined)), []);
    // A namespace the provider does not watch is left out (Traefik's ListNamespaces).
    assert.deepEqual(admitted(withSelector({}, { namespaces: ['default', 'other'] })), ['other']);

    // A malformed selector: the listener is refused, ResolvedRefs=False.
    const bad = withSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] });
    assert.deepEqual(admitted(bad), []);
    assert.ok(conds(listener(bad).conditions).includes('ResolvedRefs=False/InvalidRouteNamespacesSelector'));
    assert.ok(bad.issues.some((i) => i.includes('invalid route namespaces selector')));
    const badOp = withSelector({ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] });
    assert.ok(
      conds(listener(badOp).conditions).includes('ResolvedRefs=False/InvalidRouteNamespacesSelector'),
    );
  });
});

/** `type=status/reason` of each condition of a status (or of its first parent / a listener). */
const conds = (c: unknown): string[] =>
  ((c ?? []) as { type: string; status: string; reason: string }[]).map(
    (x) => `${x.type}=${x.status}/${x.reason}`,
  );
const statusOf = (statuses: readonly StatusUpdate[], kind: string, name: string) =>
  statuses.find((s) => s.kind === kind && s.object.metadata.name === name)?.status as Record<string, unknown>;

describe('Gateway API filters, ReferenceGrants and statuses', () => {
  const gw = gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }]);

  it('builds each filter into a middleware of the router, in order, with the match`s prefix', () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/api/' } }],
              filters: [
                {
                  type: 'RequestHeaderModifier',
                  requestHeaderModifier: {
                    set: [{ name: 'X-A', value: '1' }],
                    add: [{ name: 'X-B', value: '2' }],
                    remove: ['X-C'],
                  },
                },
                { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['Server'] } },
                {
                  type: 'URLRewrite',
                  urlRewrite: {
                    hostname: 'in.svc',
                    path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' },
                  },
                },
                {
                  type: 'ExtensionRef',
                  extensionRef: { group: 'traefik.io', kind: 'Middleware', name: 'auth' },
                },
              ],
              backendRefs: [{ name: 'a', port: 80 }],
            },
            {
              matches: [{ path: { type: 'Exact', value: '/old' } }],
              filters: [
                {
                  type: 'RequestRedirect',
                  requestRedirect: {
                    scheme: 'https',
                    statusCode: 301,
                    path: { type: 'ReplaceFullPath', replaceFullPath: '/new' },
                  },
                },
              ],
            },
          ],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    assert.deepEqual(issues, []);
    const n0 = named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-0');
    const r0 = config.http.routers[n0];
    // Traefik's RuleSyntax "default": the v3 rule stays v3 under core.defaultRuleSyntax v2.
    assert.equal(r0?.ruleSyntax, 'default');
    assert.deepEqual(r0?.middlewares, [
      `${n0}-requestheadermodifier-0`,
      `${n0}-responseheadermodifier-1`,
      `${n0}-urlrewrite-2`,
      'default-auth@kubernetescrd',
    ]);
    const mw = config.http.middlewares;
    const rewrite = mw[`${n0}-urlrewrite-2`];
    assert.ok(rewrite?.type === 'urlRewrite');
    assert.deepEqual(rewrite.config, { hostname: 'in.svc', path: '/v2', pathPrefix: '/api/' });
    const headers = mw[`${n0}-requestheadermodifier-0`];
    assert.ok(headers?.type === 'requestHeaderModifier');
    assert.deepEqual(headers.config, { set: { 'X-A': '1' }, add: { 'X-B': '2' }, remove: ['X-C'] });
    // The redirect-only rule: a router whose service has no server (the middleware answers).
    const r1 =
      config.http.routers[
        named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-1')
      ];
    const redirect = mw[r1?.middlewares?.[0] ?? ''];
    assert.ok(redirect?.type === 'requestRedirect');
    assert.deepEqual(redirect.config, { scheme: 'https', port: '', path: '/new', statusCode: 301 });
  });

  it('builds a CORS filter into the headers middleware Traefik v3.8 makes of it (traefik/traefik#13437)', () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
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
              backendRefs: [{ name: 'a', port: 80 }],
            },
            // maxAge absent: the CRD's default, 5, as the API server would have written it.
            {
              matches: [{ path: { type: 'PathPrefix', value: '/open' } }],
              filters: [{ type: 'CORS', cors: { allowOrigins: ['*'] } }],
              backendRefs: [{ name: 'a', port: 80 }],
            },
          ],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    assert.deepEqual(issues, []);
    const keys = Object.keys(config.http.routers);
    const n0 = named(keys, 'httproute-default-r-gw-default-gw-ep-web-0');
    assert.deepEqual(config.http.routers[n0]?.middlewares, [`${n0}-cors-0`]);
    const cors = config.http.middlewares[`${n0}-cors-0`];
    assert.ok(cors?.type === 'headers');
    assert.deepEqual(cors.config.accessControlAllowOriginList, ['https://app.example']);
    assert.equal(cors.config.accessControlAllowOriginListRegex?.length, 1);
    assert.equal(cors.config.accessControlAllowCredentials, true);
    assert.deepEqual(cors.config.accessControlAllowMethods, ['GET', 'PUT']);
    assert.deepEqual(cors.config.accessControlAllowHeaders, ['X-Token']);
    assert.deepEqual(cors.config.accessControlExposeHeaders, ['X-Trace']);
    assert.equal(cors.config.accessControlMaxAge, 600);
    const n1 = named(keys, 'httproute-default-r-gw-default-gw-ep-web-1');
    const star = config.http.middlewares[`${n1}-cors-0`];
    assert.ok(star?.type === 'headers');
    assert.deepEqual(star.config.accessControlAllowOriginList, ['*']);
    assert.equal(star.config.accessControlMaxAge, 5);
  });

  it('takes an HTTPRoute backend`s scheme from its Service port`s appProtocol (Traefik`s getHTTPServiceProtocol)', () => {
    const svc = (name: string, port: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { type: 'ClusterIP', ports: [{ name: 'web', port: 80, protocol: 'TCP', ...port }] },
    });
    const slice = (name: string) => {
      const s = endpointSliceFor('default', name, ['10.0.0.7'], 8080) as unknown as {
        ports: { name: string }[];
      };
      s.ports[0]!.name = 'web';
      return s;
    };
    const cases: [string, Record<string, unknown>, string | undefined][] = [
      ['none', {}, 'http://10.0.0.7:8080'],
      ['httpsname', { name: 'https-x' }, 'https://10.0.0.7:8080'],
      ['h2c', { appProtocol: 'kubernetes.io/h2c' }, 'h2c://10.0.0.7:8080'],
      ['ws', { appProtocol: 'kubernetes.io/ws' }, 'http://10.0.0.7:8080'],
      ['wss', { appProtocol: 'kubernetes.io/wss' }, 'https://10.0.0.7:8080'],
      ['plain', { appProtocol: 'http' }, 'http://10.0.0.7:8080'],
      ['tls', { appProtocol: 'https' }, 'https://10.0.0.7:8080'],
      ['grpc', { appProtocol: 'grpc' }, undefined],
      ['udp', { protocol: 'UDP' }, undefined],
    ];
    const { config, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: cases.map(([name]) =>
        httpRouteFor('default', name, {
          parentRefs: [{ name: 'gw' }],
          hostnames: [`${name}.example`],
          rules: [{ backendRefs: [{ name, port: 80 }] }],
        }),
      ),
      services: cases.map(([name, port]) => svc(name, port)),
      endpointSlices: cases.map(([name, port]) => {
        const s = slice(name);
        if (typeof port['name'] === 'string')
          (s as { ports: { name: string }[] }).ports[0]!.name = port['name'];
        return s;
      }),
    });
    for (const [name, , url] of cases) {
      const lb = svcOf(config.http.services ?? {}, 'default', name);
      if (url === undefined) {
        assert.equal(lb, undefined, name);
        const parent = (statusOf(statuses, 'HTTPRoute', name)['parents'] as { conditions: unknown }[])[0];
        assert.deepEqual(conds(parent?.conditions), [
          'Accepted=True/Accepted',
          'ResolvedRefs=False/UnsupportedProtocol',
        ]);
        continue;
      }
      assert.ok(lb?.kind === 'loadBalancer', name);
      assert.deepEqual(
        lb.loadBalancer.servers.map((x) => x.url),
        [url],
        name,
      );
    }
  });

  it('refuses rest@internal as a backend, keeps api@internal (GHSA-96qj-4jj5-wcjc)', () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
      httpRoutes: [
        httpRouteFor('default', 'tenant', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/rest' } }],
              backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'rest@internal' }],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
              backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'api@internal' }],
            },
          ],
        }),
      ],
    });
    assert.ok(
      issues.some((i) => i.includes("rest@internal cannot be a route's backend")),
      issues.join('\n'),
    );
    // api@internal alone is the router's service (Traefik's isInternalService case); the refused
    // rest@internal is a share answering 500.
    const services = Object.values(config.http.routers).map((r) => r.service);
    assert.ok(services.includes('api@internal'), `${services.join()}\n${issues.join('\n')}`);
    const children = Object.values(config.http.services).flatMap((s) =>
      s.kind === 'weighted' ? s.weighted.services : [],
    );
    assert.ok(!JSON.stringify([services, children]).includes('rest@internal'));
    assert.ok(children.some((c) => c.status === 500));
  });

  it('refers to the CRD provider`s Middlewares and TraefikServices only when it is configured, in its namespaces', () => {
    const route = httpRouteFor('default', 'ext', {
      parentRefs: [{ name: 'gw' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/mw' } }],
          filters: [
            { type: 'ExtensionRef', extensionRef: { group: 'traefik.io', kind: 'Middleware', name: 'm' } },
          ],
          backendRefs: [{ name: 'a', port: 80 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/ts' } }],
          backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'ts' }],
        },
      ],
    });
    const run = (crd: GatewayOptions['crd']) =>
      build(
        {
          gatewayClasses: [gatewayClassFor()],
          gateways: [gw],
          httpRoutes: [route],
          services: [apps[0]],
          endpointSlices: [apps[2]],
        },
        crd === undefined ? {} : { crd },
      );
    const parent = (r: ReturnType<typeof build>) =>
      conds(
        (statusOf(r.statuses, 'HTTPRoute', 'ext')['parents'] as { conditions: unknown }[])[0]?.conditions,
      );
    const rules = (r: ReturnType<typeof build>) =>
      Object.values(r.config.http.routers ?? {}).map((x) => x.rule);

    const on = run({ namespaces: [] });
    assert.deepEqual(rules(on).sort(), [
      '(Path(`/mw`) || PathPrefix(`/mw/`))',
      '(Path(`/ts`) || PathPrefix(`/ts/`))',
    ]);
    assert.deepEqual(parent(on), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);

    // The refused TraefikService keeps its rule, a share answering 500 (Traefik's loadService).
    const tsRouter = (r: ReturnType<typeof build>): string =>
      Object.keys(r.config.http.routers).find((n) => r.config.http.routers[n]?.rule.includes('/ts'))!;
    const refusedChildren = (r: ReturnType<typeof build>) => {
      const w = r.config.http.services[`${tsRouter(r)}-wrr`];
      return w?.kind === 'weighted' ? w.weighted.services : undefined;
    };
    // Without the CRD provider: Traefik has no builder for either (unsupported …, InvalidKind).
    const off = run(null);
    assert.deepEqual(rules(off).sort(), [
      '(Path(`/mw`) || PathPrefix(`/mw/`))',
      '(Path(`/ts`) || PathPrefix(`/ts/`))',
    ]);
    assert.deepEqual(refusedChildren(off), [
      { name: sv(tsRouter(off), 'default', 'ts', 0), weight: 1, status: 500 },
    ]);
    assert.deepEqual(parent(off), ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind']);
    assert.ok(off.issues.some((i) => i.includes('unsupported filter extension ref traefik.io/Middleware/m')));
    assert.ok(off.issues.some((i) => i.includes('unsupported HTTPBackendRef traefik.io/TraefikService/ts')));

    // The CRD provider watching other namespaces: "namespace … is not allowed".
    const elsewhere = run({ namespaces: ['other'] });
    assert.deepEqual(rules(elsewhere).sort(), [
      '(Path(`/mw`) || PathPrefix(`/mw/`))',
      '(Path(`/ts`) || PathPrefix(`/ts/`))',
    ]);
    assert.deepEqual(refusedChildren(elsewhere), [
      { name: sv(tsRouter(elsewhere), 'default', 'ts', 0), weight: 1, status: 500 },
    ]);
    assert.deepEqual(parent(elsewhere), ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind']);
    assert.ok(elsewhere.issues.some((i) => i.includes('namespace "default" is not allowed')));
  });

  it('routes a rule with an unsupported filter to a 500 answer, and runs its only backendRef`s filters after its own', () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            { filters: [{ type: 'RequestMirror' }], backendRefs: [{ name: 'a', port: 80 }] },
            {
              matches: [{ path: { value: '/b' } }],
              backendRefs: [{ name: 'a', port: 80, filters: [{ type: 'RequestHeaderModifier' }] }],
            },
          ],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    // Traefik's loadHTTPRoute: `<router>-err-wrr`, one child invalid-httproute-filter answering 500.
    const bad = named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-0');
    assert.equal(config.http.routers[bad]?.service, `${bad}-err-wrr`);
    assert.deepEqual(config.http.routers[bad]?.middlewares, []);
    const errWrr = config.http.services[`${bad}-err-wrr`];
    assert.ok(errWrr?.kind === 'weighted');
    assert.deepEqual(errWrr.weighted.services, [
      { name: 'invalid-httproute-filter', weight: 1, status: 500 },
    ]);
    const good = named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-1');
    // Traefik (v3.7) runs a backendRef's filters as its service's middlewares, after the router's,
    // named after that service (httproute.go loadHTTPService, traefik/traefik#13367).
    assert.deepEqual(config.http.routers[good]?.middlewares, []);
    const own = sv(good, 'default', 'a', 0);
    assert.deepEqual(config.http.services[own]?.middlewares, [`${own}-requestheadermodifier-0`]);
    assert.ok(config.http.middlewares[`${own}-requestheadermodifier-0`]);
    assert.ok(
      issues.some((i) => i.includes('httproute default/r') && i.includes('unsupported filter RequestMirror')),
      issues.join('\n'),
    );
    assert.ok(!issues.some((i) => i.includes('backendRef filters')), issues.join('\n'));
  });

  it('puts each backendRef`s filters on its own service as `<service>-<filter>-<index>` (service middlewares), and refuses a backend whose filter cannot load', () => {
    const hdr = {
      type: 'RequestHeaderModifier',
      requestHeaderModifier: { set: [{ name: 'x', value: '1' }] },
    };
    const { config, issues, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
              matches: [{ path: { value: '/two' } }],
              backendRefs: [
                { name: 'a', port: 80, filters: [hdr] },
                { name: 'a', port: 80, weight: 2 },
                { name: 'a', port: 80, weight: 1, filters: [{ type: 'RequestMirror' }] },
              ],
            },
            {
              // The other backendRef takes no traffic: the filters are the first one's service's.
              matches: [{ path: { value: '/one' } }],
              backendRefs: [
                { name: 'a', port: 80, filters: [hdr] },
                { name: 'a', port: 80, weight: 0 },
              ],
            },
            {
              matches: [{ path: { value: '/bad' } }],
              backendRefs: [{ name: 'a', port: 80, filters: [{ type: 'RequestMirror' }] }],
            },
          ],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    const keys = Object.keys(config.http.routers);
    const two = named(keys, 'httproute-default-r-gw-default-gw-ep-web-0');
    const one = named(keys, 'httproute-default-r-gw-default-gw-ep-web-1');
    const bad = named(keys, 'httproute-default-r-gw-default-gw-ep-web-2');
    assert.deepEqual(config.http.routers[two]?.middlewares, []);
    // Traefik v3.7 (traefik/traefik#12544): each backendRef's filters on that backend's service.
    const t = config.http.services[`${two}-wrr`];
    assert.ok(t?.kind === 'weighted');
    // Each backendRef its own service (traefik/traefik#13367), its filters that service's
    // middlewares `<service>-<filter type>-<index>`; the refused one has none.
    assert.deepEqual(t.weighted.services, [
      { name: sv(two, 'default', 'a', 0), weight: 1 },
      { name: sv(two, 'default', 'a', 1), weight: 2 },
      { name: sv(two, 'default', 'a', 2), weight: 1, status: 500 },
    ]);
    const first = config.http.services[sv(two, 'default', 'a', 0)];
    assert.ok(first?.kind === 'loadBalancer');
    assert.deepEqual(first.middlewares, [`${sv(two, 'default', 'a', 0)}-requestheadermodifier-0`]);
    assert.equal(config.http.services[sv(two, 'default', 'a', 1)]?.middlewares, undefined);
    assert.equal(config.http.services[sv(two, 'default', 'a', 2)], undefined);
    assert.ok(config.http.middlewares[`${sv(two, 'default', 'a', 0)}-requestheadermodifier-0`]);
    // Traefik's loadService: InvalidKind, "Cannot load filters on HTTPBackendRef <group>/<kind>/<ns>/<name>: …".
    const cannot =
      'Cannot load filters on HTTPBackendRef core/Service/default/a: filter 0: unsupported filter RequestMirror';
    assert.ok(
      issues.some((i) => i.includes(`rule 0: ${cannot}`)),
      issues.join('\n'),
    );
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind']);
    assert.equal(parent?.conditions.find((c) => c['type'] === 'ResolvedRefs')?.['message'], cannot);
    assert.deepEqual(config.http.routers[one]?.middlewares, []);
    assert.deepEqual(config.http.services[sv(one, 'default', 'a', 0)]?.middlewares, [
      `${sv(one, 'default', 'a', 0)}-requestheadermodifier-0`,
    ]);
    const w = config.http.services[`${bad}-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(w.weighted.services, [{ name: sv(bad, 'default', 'a', 0), weight: 1, status: 500 }]);
    assert.ok(issues.some((i) => i.includes(`rule 2: ${cannot}`)));
  });

  it('refuses a backend whose filter cannot load before its kind or port is looked at, and builds a TraefikService backendRef`s filters without applying them', () => {
    const hdr = {
      type: 'RequestHeaderModifier',
      requestHeaderModifier: { set: [{ name: 'x', value: '1' }] },
    };
    const missing = {
      type: 'ExtensionRef',
      extensionRef: { group: 'example.com', kind: 'Filter', name: 'f' },
    };
    const { config, issues, statuses } = build(
      {
        gatewayClasses: [gatewayClassFor()],
        gateways: [gw],
        httpRoutes: [
          httpRouteFor('default', 'r', {
            parentRefs: [{ name: 'gw' }],
            rules: [
              {
                matches: [{ path: { value: '/ts' } }],
                backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'ts', filters: [hdr] }],
              },
              {
                // No port and a bad filter: the filter is what Traefik reports.
                matches: [{ path: { value: '/noport' } }],
                backendRefs: [{ name: 'a', filters: [missing] }],
              },
            ],
          }),
        ],
        services: apps.slice(0, 1),
        endpointSlices: apps.slice(2, 3),
      },
      { crd: { namespaces: [] } },
    );
    const keys = Object.keys(config.http.routers);
    const ts = named(keys, 'httproute-default-r-gw-default-gw-ep-web-0');
    const noport = named(keys, 'httproute-default-r-gw-default-gw-ep-web-1');
    // Traefik's loadService: the CRD provider's TraefikService builder returns no service, so the
    // filters' middlewares are built (conf.HTTP.Middlewares) and applied nowhere.
    const w = config.http.services[`${ts}-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(w.weighted.services, [{ name: 'default-ts@kubernetescrd', weight: 1 }]);
    assert.ok(config.http.middlewares[`${sv(ts, 'default', 'ts', 0)}-requestheadermodifier-0`]);
    const n = config.http.services[`${noport}-wrr`];
    assert.ok(n?.kind === 'weighted');
    assert.deepEqual(n.weighted.services, [{ name: sv(noport, 'default', 'a', 0), weight: 1, status: 500 }]);
    const cannot =
      'Cannot load filters on HTTPBackendRef core/Service/default/a: filter 0: unsupported filter extension ref example.com/Filter/f';
    assert.ok(
      issues.some((i) => i.includes(cannot)),
      issues.join('\n'),
    );
    assert.ok(!issues.some((i) => i.includes('port is required')), issues.join('\n'));
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind']);
  });

  it('reports ResolvedRefs from the backends for a parent that attaches to no listener (Traefik v3.8 matchingGatewayListenersForParentRef)', () => {
    const { config, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw', sectionName: 'nope' }],
          rules: [{ backendRefs: [{ name: 'missing', port: 80 }] }],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    assert.deepEqual(
      Object.keys(config.http.routers).filter((n) => n.startsWith('httproute-')),
      [],
    );
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), [
      'Accepted=False/NoMatchingParent',
      'ResolvedRefs=False/BackendNotFound',
    ]);
  });

  it('sends a rule whose one backendRef is internal to it without looking at its namespace or filters (loadHTTPRoute, before loadService)', () => {
    const { config, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
              backendRefs: [
                {
                  group: 'traefik.io',
                  kind: 'TraefikService',
                  name: 'api@internal',
                  namespace: 'elsewhere',
                  filters: [{ type: 'RequestMirror' }],
                },
              ],
            },
            {
              matches: [{ path: { value: '/zero' } }],
              backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'api@internal', weight: 0 }],
            },
          ],
        }),
      ],
    });
    for (const ri of [0, 1]) {
      const r = named(Object.keys(config.http.routers), `httproute-default-r-gw-default-gw-ep-web-${ri}`);
      assert.equal(config.http.routers[r]?.service, 'api@internal');
    }
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  it('routes a rule with no backendRef taking traffic to its `<router>-wrr`, a weighted service (its children of weight 0, or none), as Traefik`s loadService', () => {
    const { config, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            { matches: [{ path: { value: '/zero' } }], backendRefs: [{ name: 'a', port: 80, weight: 0 }] },
            { matches: [{ path: { value: '/none' } }] },
            {
              matches: [{ path: { value: '/refused' } }],
              backendRefs: [{ name: 'a', namespace: 'other', port: 80, weight: 0 }],
            },
          ],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    const router = (ri: number) =>
      named(Object.keys(config.http.routers), `httproute-default-r-gw-default-gw-ep-web-${ri}`);
    const wrr = (ri: number) => {
      const r = router(ri);
      assert.equal(config.http.routers[r]?.service, `${r}-wrr`);
      const s = config.http.services[`${r}-wrr`];
      assert.ok(s?.kind === 'weighted');
      return s.weighted.services.map((c) => ({ name: c.name, weight: c.weight, status: c.status }));
    };
    // Weight 0: the child and its load balancer are built; its wrr Balancer gives it no traffic.
    const zero = router(0);
    assert.deepEqual(wrr(0), [{ name: `${zero}-svc-default-a-0`, weight: 0, status: undefined }]);
    assert.equal(config.http.services[`${zero}-svc-default-a-0`]?.kind, 'loadBalancer');
    assert.deepEqual(wrr(1), []);
    // A refused backendRef of weight 0 keeps its child answering 500 (WRRService.Status).
    assert.deepEqual(wrr(2), [{ name: `${router(2)}-svc-other-a-0`, weight: 0, status: 500 }]);
    assert.ok(
      !issues.some((i) => i.includes('no usable backendRefs') || i.includes('servers')),
      issues.join('\n'),
    );
  });

  it('builds no router for a rule whose one internal backendRef crossProviderNamespaces refuses (Traefik`s router without service)', () => {
    const { config, statuses } = build(
      {
        gatewayClasses: [gatewayClassFor()],
        gateways: [gw],
        httpRoutes: [
          httpRouteFor('default', 'r', {
            parentRefs: [{ name: 'gw' }],
            rules: [
              {
                matches: [{ path: { value: '/api' } }],
                backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'api@internal' }],
              },
              { matches: [{ path: { value: '/a' } }], backendRefs: [{ name: 'a', port: 80 }] },
            ],
          }),
        ],
        services: apps.slice(0, 1),
        endpointSlices: apps.slice(2, 3),
      },
      { crossProviderNamespaces: ['trusted'] },
    );
    const routers = Object.keys(config.http.routers).filter((n) => n.startsWith('httproute-'));
    assert.equal(routers.length, 1, routers.join());
    assert.ok(routers[0]!.startsWith('httproute-default-r-gw-default-gw-ep-web-1-'));
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), [
      'Accepted=True/Accepted',
      'ResolvedRefs=False/RefNotPermitted',
    ]);
  });

  it('does not load the backendRefs of a rule whose own filters cannot load: they leave ResolvedRefs alone (loadHTTPRoute)', () => {
    const { config, statuses, issues } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ filters: [{ type: 'RequestMirror' }], backendRefs: [{ name: 'missing', port: 80 }] }],
        }),
      ],
    });
    const r = named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-0');
    assert.equal(config.http.routers[r]?.service, `${r}-err-wrr`);
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
    assert.ok(!issues.some((i) => i.includes('missing')), issues.join('\n'));
  });

  it('takes a backendRef whose group is written `core` as a core Service (Traefik`s groupCore)', () => {
    const { config } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ group: 'core', kind: 'Service', name: 'a', port: 80 }] }],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    const r = named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-0');
    const w = config.http.services[`${r}-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(w.weighted.services, [{ name: sv(r, 'default', 'a', 0), weight: 1 }]);
  });

  it('refuses a cross-provider backendRef that names a namespace, and reports the last failing rule`s ResolvedRefs (traefik/traefik#13322, loadHTTPRoute)', () => {
    const { config, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
              matches: [{ path: { value: '/missing' } }],
              backendRefs: [{ name: 'nope', port: 80 }],
            },
            {
              matches: [{ path: { value: '/x' } }],
              backendRefs: [
                { group: 'traefik.io', kind: 'TraefikService', name: 'svc@file', namespace: 'default' },
              ],
            },
          ],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    const x = named(Object.keys(config.http.routers), 'httproute-default-r-gw-default-gw-ep-web-1');
    const w = config.http.services[`${x}-wrr`];
    assert.ok(w?.kind === 'weighted');
    // Normalized, as Traefik's provider.Normalize of that name.
    assert.deepEqual(w.weighted.services, [{ name: `${x}-svc-default-svc-file-0`, weight: 1, status: 500 }]);
    const parent = (statusOf(statuses, 'HTTPRoute', 'r')['parents'] as { conditions: Obj[] }[])[0];
    assert.deepEqual(conds(parent?.conditions), [
      'Accepted=True/Accepted',
      'ResolvedRefs=False/RefNotPermitted',
    ]);
    assert.match(
      String(parent?.conditions.find((c) => c['type'] === 'ResolvedRefs')?.['message']),
      /namespace is not allowed with a cross-provider reference/,
    );
  });

  const crossNs = httpRouteFor('default', 'x', {
    parentRefs: [{ name: 'gw' }],
    rules: [{ backendRefs: [{ name: 'a', namespace: 'other', port: 80 }] }],
  });
  const other = [serviceFor('other', 'a'), endpointSliceFor('other', 'a', ['10.0.0.9'], 8080)];
  const grant = (fromNs: string, toName?: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ReferenceGrant',
    metadata: { name: 'g', namespace: 'other' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: fromNs }],
      to: [{ group: '', kind: 'Service', ...(toName !== undefined ? { name: toName } : {}) }],
    },
  });

  it('allows a backendRef to another namespace only with a ReferenceGrant there, with its statuses', () => {
    const base = {
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw],
      httpRoutes: [crossNs],
      services: [other[0]],
      endpointSlices: [other[1]],
    };
    for (const grants of [[], [grant('team')], [grant('default', 'b')]]) {
      const refused = build({ ...base, referenceGrants: grants });
      // Traefik keeps the rule: its share of the traffic is a child answering 500.
      const router = named(
        Object.keys(refused.config.http.routers),
        'httproute-default-x-gw-default-gw-ep-web-0',
      );
      const w = refused.config.http.services[`${router}-wrr`];
      assert.ok(w?.kind === 'weighted');
      assert.deepEqual(w.weighted.services, [{ name: sv(router, 'other', 'a', 0), weight: 1, status: 500 }]);
      assert.ok(
        refused.issues.some((i) =>
          i.includes('backend /Service/other/a: another namespace without a ReferenceGrant'),
        ),
      );
      const route = statusOf(refused.statuses, 'HTTPRoute', 'x');
      const parents = route['parents'] as { conditions: unknown; controllerName: string }[];
      assert.deepEqual(conds(parents[0]?.conditions), [
        'Accepted=True/Accepted',
        'ResolvedRefs=False/RefNotPermitted',
      ]);
    }
    for (const g of [grant('default'), grant('default', 'a')]) {
      const allowed = build({ ...base, referenceGrants: [g] });
      assert.deepEqual(allowed.issues, []);
      const router = named(
        Object.keys(allowed.config.http.routers),
        'httproute-default-x-gw-default-gw-ep-web-0',
      );
      const w = allowed.config.http.services[`${router}-wrr`];
      assert.ok(w?.kind === 'weighted');
      assert.deepEqual(
        w.weighted.services.map((s) => s.name),
        [sv(router, 'other', 'a', 0)],
      );
      const parents = statusOf(allowed.statuses, 'HTTPRoute', 'x')['parents'] as { conditions: unknown }[];
      assert.deepEqual(conds(parents[0]?.conditions), [
        'Accepted=True/Accepted',
        'ResolvedRefs=True/ResolvedRefs',
      ]);
    }
  });

  it('refuses a listener`s certificate in another namespace without a ReferenceGrant', () => {
    const https = gatewayFor('default', 'gw', [
      {
        name: 'https',
        port: 8443,
        protocol: 'HTTPS',
        tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] },
      },
    ]);
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cert', namespace: 'certs' },
      data: {
        'tls.crt': Buffer.from('CRT').toString('base64'),
        'tls.key': Buffer.from('KEY').toString('base64'),
      },
    };
    const refused = build({ gatewayClasses: [gatewayClassFor()], gateways: [https], secrets: [secret] });
    assert.deepEqual(refused.config.tls.certificates, []);
    const gs = statusOf(refused.statuses, 'Gateway', 'gw');
    const l = (gs['listeners'] as { conditions: unknown }[])[0];
    // Traefik v3.8's loadGatewayListeners: the certificate's error, then Programmed=False (no
    // Accepted=True: a listener with errors has their conditions only).
    assert.deepEqual(conds(l?.conditions), [
      'ResolvedRefs=False/RefNotPermitted',
      'Programmed=False/Invalid',
    ]);
    assert.equal((l!.conditions as { message: string }[])[1]?.message, 'Invalid CertificateRefs');
    assert.deepEqual(conds(gs['conditions']), [
      'Accepted=False/ListenersNotValid',
      'Programmed=False/Invalid',
    ]);
    const certGrant = {
      metadata: { name: 'g', namespace: 'certs' },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default' }],
        to: [{ group: '', kind: 'Secret' }],
      },
    };
    const allowed = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [https],
      secrets: [secret],
      referenceGrants: [certGrant],
    });
    assert.deepEqual(allowed.config.tls?.certificates?.length, 1);
  });

  it('validates client certificates per the Gateway`s spec.tls.frontend: TLS options named by the listener`s routers, statuses (GEP-91)', () => {
    const pki = new TestPki('Client CA');
    try {
      const server = pki.issue('a.example', ['a.example']);
      const secret = secretFor('default', 'cert', { 'tls.crt': server.certPem, 'tls.key': server.keyPem });
      const caMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'client-ca', namespace: 'default' },
        data: { 'ca.crt': pki.ca.certPem },
      };
      const ref = (name: string, extra: Record<string, string> = {}) => ({
        group: '',
        kind: 'ConfigMap',
        name,
        ...extra,
      });
      const gwWith = (frontend: unknown) => ({
        ...gatewayFor('default', 'gw', [
          {
            name: 'https',
            port: 8443,
            protocol: 'HTTPS',
            hostname: 'a.example',
            tls: { certificateRefs: [{ name: 'cert' }] },
          },
          { name: 'http', port: 8000, protocol: 'HTTP' },
        ]),
        spec: {
          gatewayClassName: 'traefik',
          tls: { frontend },
          listeners: [
            {
              name: 'https',
              port: 8443,
              protocol: 'HTTPS',
              hostname: 'a.example',
              tls: { certificateRefs: [{ name: 'cert' }] },
            },
            { name: 'http', port: 8000, protocol: 'HTTP' },
          ],
        },
      });
      const route = httpRouteFor('default', 'r', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
      });
      const run = (frontend: unknown, extra: Partial<Record<keyof GatewayObjects, unknown[]>> = {}) =>
        build({
          gatewayClasses: [gatewayClassFor()],
          gateways: [gwWith(frontend)],
          httpRoutes: [route],
          secrets: [secret],
          configMaps: [caMap],
          services: apps.slice(0, 1),
          endpointSlices: apps.slice(2, 3),
          ...extra,
        });
      const listener = (r: ReturnType<typeof run>, name: string) =>
        conds(
          (
            statusOf(r.statuses, 'Gateway', 'gw')['listeners'] as { name: string; conditions: unknown }[]
          ).find((l) => l.name === name)?.conditions,
        );

      // Listener isolation: the options are the HTTPS listener's parent router's (gateway-isolation.ts).
      const frontOf = (r: ReturnType<typeof run>) => {
        const parent = Object.values(r.parents).find((p) => p.entryPoints?.includes('websecure'));
        const name = parent?.tls?.options;
        return name === undefined ? undefined : r.config.tls?.options?.[name];
      };
      const ok = run({ default: { validation: { caCertificateRefs: [ref('client-ca')] } } });
      assert.deepEqual(ok.issues, []);
      const opts = frontOf(ok);
      assert.equal(opts?.clientAuth.clientAuthType, 'RequireAndVerifyClientCert');
      assert.equal(opts?.clientAuth.caFiles.length, 1);
      const keys = Object.keys(ok.config.http.routers);
      const secure = named(keys, 'httproute-default-r-gw-default-gw-ep-websecure-0');
      assert.equal(ok.config.http.routers[secure]?.tls, undefined, 'a child of its listener router');
      assert.equal(ok.config.tls.options['default-gw-8443-frontend'], undefined, 'copied into the parent`s');
      const plain = named(keys, 'httproute-default-r-gw-default-gw-ep-web-0');
      assert.equal(ok.config.http.routers[plain]?.tls, undefined, 'an HTTP listener takes no TLS');
      assert.deepEqual(listener(ok, 'https'), [
        'Accepted=True/Accepted',
        'ResolvedRefs=True/ResolvedRefs',
        'Programmed=True/Programmed',
      ]);
      assert.ok(
        !conds(statusOf(ok.statuses, 'Gateway', 'gw')['conditions']).some((c) => c.startsWith('Insecure')),
      );

      // perPort overrides default; AllowInsecureFallback lets clients without a certificate in.
      const fallback = run({
        default: { validation: { caCertificateRefs: [ref('missing')] } },
        perPort: [
          {
            port: 8443,
            tls: { validation: { caCertificateRefs: [ref('client-ca')], mode: 'AllowInsecureFallback' } },
          },
        ],
      });
      assert.equal(frontOf(fallback)?.clientAuth.clientAuthType, 'RequestClientCert');
      assert.ok(
        conds(statusOf(fallback.statuses, 'Gateway', 'gw')['conditions']).includes(
          'InsecureFrontendValidationMode=True/ConfigurationChanged',
        ),
      );

      // A port's entry without validation overrides the default: no client certificate asked.
      const off = run({
        default: { validation: { caCertificateRefs: [ref('client-ca')] } },
        perPort: [{ port: 8443, tls: {} }],
      });
      assert.equal(frontOf(off)?.clientAuth.clientAuthType, 'NoClientCert');
      const offRouter = named(
        Object.keys(off.config.http.routers),
        'httproute-default-r-gw-default-gw-ep-websecure-0',
      );
      assert.equal(off.config.http.routers[offRouter]?.tls?.options, undefined);

      // A route without hostnames on a listener without one: no Host, no TLS options: a warning.
      const bareGw = gwWith({ default: { validation: { caCertificateRefs: [ref('client-ca')] } } });
      const bare = build({
        gatewayClasses: [gatewayClassFor()],
        gateways: [
          {
            ...bareGw,
            spec: {
              ...bareGw.spec,
              listeners: [
                {
                  name: 'https',
                  port: 8443,
                  protocol: 'HTTPS',
                  tls: { certificateRefs: [{ name: 'cert' }] },
                },
              ],
            },
          },
        ],
        httpRoutes: [route],
        secrets: [secret],
        configMaps: [caMap],
        services: apps.slice(0, 1),
        endpointSlices: apps.slice(2, 3),
      });
      assert.ok(
        bare.issues.some((i) =>
          i.includes("client certificate validation applies to the listener's hostname, and it has none"),
        ),
        bare.issues.join('\n'),
      );

      // A listener that failed already keeps the reason it failed for.
      const noCert = run(
        { default: { validation: { caCertificateRefs: [ref('missing')] } } },
        { secrets: [] },
      );
      assert.ok(listener(noCert, 'https').includes('ResolvedRefs=False/InvalidCertificateRef'));

      // Some refs unusable: ResolvedRefs=False, the others still validate.
      const some = run({
        default: {
          validation: { caCertificateRefs: [ref('client-ca'), { group: '', kind: 'Service', name: 'x' }] },
        },
      });
      assert.deepEqual(listener(some, 'https'), [
        'Accepted=True/Accepted',
        'ResolvedRefs=False/InvalidCACertificateKind',
        'Programmed=True/Programmed',
      ]);
      assert.equal(frontOf(some)?.clientAuth.clientAuthType, 'RequireAndVerifyClientCert');

      // None usable: the listener is not accepted and its routes are not routed.
      for (const [refs, reason] of [
        [[ref('missing')], 'InvalidCACertificateRef'],
        [[ref('client-ca', { namespace: 'other' })], 'RefNotPermitted'],
      ] as const) {
        const none = run(
          { default: { validation: { caCertificateRefs: refs } } },
          { configMaps: [caMap, { ...caMap, metadata: { name: 'client-ca', namespace: 'other' } }] },
        );
        assert.deepEqual(listener(none, 'https'), [
          'Accepted=False/NoValidCACertificate',
          `ResolvedRefs=False/${reason}`,
          'Programmed=False/Invalid',
        ]);
        assert.equal(none.config.tls?.options?.['default-gw-8443-frontend'], undefined);
        const names = Object.keys(none.config.http.routers);
        assert.ok(!names.some((n) => n.includes('-ep-websecure-')), names.join());
        assert.ok(
          names.some((n) => n.includes('-ep-web-')),
          'the HTTP listener is routed',
        );
      }
    } finally {
      pki.remove();
    }
  });

  it('writes a Gateway`s Accepted and Programmed as Traefik`s makeGatewayStatus: some listeners invalid, all, a parametersRef', () => {
    const gwWith = (name: string, ls: unknown[], spec: Record<string, unknown> = {}) => {
      const g = gatewayFor('default', name, ls as Parameters<typeof gatewayFor>[2]) as unknown as {
        spec: Record<string, unknown>;
      };
      return { ...g, spec: { ...g.spec, ...spec } };
    };
    const good = { name: 'http', port: 8000, protocol: 'HTTP' };
    const bad = { name: 'nowhere', port: 9999, protocol: 'HTTP' };
    const { statuses, config } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [
        gwWith('some', [good, bad]),
        gwWith('none', [bad]),
        gwWith('infra', [good], {
          infrastructure: { parametersRef: { group: '', kind: 'ConfigMap', name: 'p' } },
        }),
      ],
      httpRoutes: [
        httpRouteFor('default', 'r', {
          parentRefs: [{ name: 'some' }, { name: 'infra' }],
          hostnames: ['r.example'],
          rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
        }),
      ],
      services: [apps[0]],
      endpointSlices: [apps[2]],
    });
    const gwConds = (n: string) => conds(statusOf(statuses, 'Gateway', n)['conditions']);
    assert.deepEqual(gwConds('some'), ['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed']);
    const msgs = (statusOf(statuses, 'Gateway', 'some')['conditions'] as { message: string }[]).map(
      (c) => c.message,
    );
    assert.deepEqual(msgs, [
      'Gateway successfully scheduled, but some Listeners are not valid',
      'Gateway successfully programmed, but some Listeners are not valid',
    ]);
    assert.deepEqual(gwConds('none'), ['Accepted=False/ListenersNotValid', 'Programmed=False/Invalid']);
    assert.deepEqual(gwConds('infra'), ['Accepted=False/InvalidParameters']);
    // The valid listeners are routed all the same: both Gateways' port-8000 listeners are one
    // listener router, under which the two routers would have one rule; Traefik v3.8's
    // servedRules keeps the first (the `some` Gateway's), as the other could never serve.
    assert.deepEqual(
      Object.keys(config.http.routers).map((n) => n.replace(/-[0-9a-f]{20}$/, '')),
      ['httproute-default-r-gw-default-some-ep-web-0'],
    );
  });

  it('keeps a GatewayClass`s conditions other than Accepted, as Traefik`s upsertGatewayClassConditionAccepted', () => {
    const cls = gatewayClassFor() as Record<string, unknown>;
    cls['status'] = {
      conditions: [
        { type: 'SupportedVersion', status: 'True', reason: 'SupportedVersion', message: 'v1.6.1' },
        { type: 'Accepted', status: 'False', reason: 'Pending', message: '' },
      ],
    };
    const { statuses } = build({ gatewayClasses: [cls] });
    assert.deepEqual(conds(statusOf(statuses, 'GatewayClass', 'traefik')['conditions']), [
      'SupportedVersion=True/SupportedVersion',
      'Accepted=True/Handled',
    ]);
  });

  it('reports GatewayClass, Gateway (attached routes per listener) and route parents` statuses, ours only', () => {
    const { statuses } = build({
      gatewayClasses: [gatewayClassFor(), gatewayClassFor('other', 'example.com/other')],
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'http', port: 8000, protocol: 'HTTP', hostname: 'a.example' },
          { name: 'tcp', port: 9000, protocol: 'TCP' },
        ]),
        gatewayFor('default', 'foreign', [{ name: 'http', port: 8000, protocol: 'HTTP' }], 'other'),
      ],
      httpRoutes: [
        httpRouteFor('default', 'ok', {
          parentRefs: [{ name: 'gw' }, { name: 'foreign' }],
          rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
        }),
        httpRouteFor('default', 'wronghost', {
          parentRefs: [{ name: 'gw', sectionName: 'http' }],
          hostnames: ['b.example'],
        }),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    assert.deepEqual(
      statuses.map((s) => `${s.kind} ${s.object.metadata.name}`),
      ['GatewayClass traefik', 'HTTPRoute ok', 'HTTPRoute wronghost', 'Gateway gw'],
    );
    // Traefik's reason for its GatewayClasses is Handled.
    assert.deepEqual(conds(statusOf(statuses, 'GatewayClass', 'traefik')['conditions']), [
      'Accepted=True/Handled',
    ]);
    // Traefik v3.8's SupportedFeatures, sorted by name.
    const features = (
      statusOf(statuses, 'GatewayClass', 'traefik')['supportedFeatures'] as { name: string }[]
    ).map((f) => f.name);
    assert.equal(features.length, 32);
    assert.deepEqual(features, [...features].sort());
    for (const f of [
      'Gateway',
      'GatewayHTTPListenerIsolation',
      'HTTPRoute',
      'TCPRoute',
      'TLSRoute',
      'ReferenceGrant',
    ])
      assert.ok(features.includes(f), f);
    assert.ok(!features.includes('ListenerSet'), 'Traefik v3.8 does not claim ListenerSet');
    const listeners = statusOf(statuses, 'Gateway', 'gw')['listeners'] as {
      name: string;
      attachedRoutes: number;
      conditions: unknown;
    }[];
    assert.deepEqual(
      listeners.map((l) => [l.name, l.attachedRoutes, conds(l.conditions)]),
      [
        [
          'http',
          1,
          ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ],
        // A TCP listener needs no experimentalChannel since Traefik v3.8: no entry point of its port.
        ['tcp', 0, ['Accepted=False/PortUnavailable']],
      ],
    );
    const ok = statusOf(statuses, 'HTTPRoute', 'ok')['parents'] as {
      parentRef: { name: string };
      controllerName: string;
    }[];
    assert.deepEqual(
      ok.map((p) => [p.parentRef.name, p.controllerName]),
      [['gw', 'traefik.io/gateway-controller']],
    );
    const wrong = statusOf(statuses, 'HTTPRoute', 'wronghost')['parents'] as { conditions: unknown }[];
    assert.deepEqual(conds(wrong[0]?.conditions), [
      'Accepted=False/NoMatchingListenerHostname',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
  });
  it('writes statusAddress into each Gateway`s status.addresses (Traefik`s gatewayAddresses)', () => {
    const objs = {
      gatewayClasses: [gatewayClassFor()],
      gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
    };
    const addressesOf = (statusAddress: Record<string, unknown>, services: unknown[] = []) => {
      const r = build(
        { ...objs, services },
        {
          statusAddress: {
            ip: '',
            hostname: '',
            service: { name: '', namespace: '' },
            ...statusAddress,
          } as never,
        },
      );
      const gw = r.statuses.find((u) => u.kind === 'Gateway');
      return { addresses: (gw?.status as { addresses?: unknown } | undefined)?.addresses, issues: r.issues };
    };
    // ip wins over hostname; hostname alone; else the Service's load-balancer entries.
    assert.deepEqual(addressesOf({ ip: '192.0.2.1', hostname: 'lb.example' }).addresses, [
      { type: 'IPAddress', value: '192.0.2.1' },
    ]);
    assert.deepEqual(addressesOf({ hostname: 'lb.example' }).addresses, [
      { type: 'Hostname', value: 'lb.example' },
    ]);
    const lb = serviceFor('kube-system', 'traefik');
    lb['status'] = {
      loadBalancer: { ingress: [{ ip: '192.0.2.5', hostname: 'x.example' }, { hostname: 'lb.example' }] },
    };
    assert.deepEqual(
      addressesOf({ service: { name: 'traefik', namespace: 'kube-system' } }, [lb]).addresses,
      [
        { type: 'IPAddress', value: '192.0.2.5' },
        { type: 'Hostname', value: 'lb.example' },
      ],
    );
    const missing = addressesOf({ service: { name: 'nope', namespace: 'kube-system' } });
    assert.equal(missing.addresses, undefined);
    assert.ok(
      missing.issues.some((i) => /could not find a service with name nope in namespace kube-system/.test(i)),
    );
    assert.equal(build(objs).statuses.find((u) => u.kind === 'Gateway')?.status['addresses'], undefined);
  });

  it('uses the cluster IP with the traefik.io/service.nativelb annotation or nativeLBByDefault', () => {
    const svc = serviceFor('default', 'a');
    (svc['spec'] as Record<string, unknown>)['clusterIP'] = '10.96.0.7';
    const objs = (annotation?: string) => {
      const s = structuredClone(svc);
      if (annotation !== undefined)
        (s['metadata'] as Record<string, unknown>)['annotations'] = {
          'traefik.io/service.nativelb': annotation,
        };
      return {
        gatewayClasses: [gatewayClassFor()],
        gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
        httpRoutes: [
          httpRouteFor('default', 'app', {
            parentRefs: [{ name: 'gw' }],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
          }),
        ],
        services: [s],
        endpointSlices: [apps[2]],
      };
    };
    const urls = (o: ReturnType<typeof objs>, opts: Partial<GatewayOptions> = {}) => {
      const { config, issues } = build(o, opts);
      return {
        urls: Object.values(config.http.services).flatMap((s) =>
          s.kind === 'loadBalancer' ? s.loadBalancer.servers.map((x) => x.url) : [],
        ),
        issues,
      };
    };
    assert.deepEqual(urls(objs()).urls, ['http://10.0.0.1:8080']);
    assert.deepEqual(urls(objs('true')).urls, ['http://10.96.0.7:80']);
    assert.deepEqual(urls(objs(), { nativeLBByDefault: true }).urls, ['http://10.96.0.7:80']);
    assert.deepEqual(urls(objs('false'), { nativeLBByDefault: true }).urls, ['http://10.0.0.1:8080']);
    const bad = urls(objs('yes'));
    assert.deepEqual(bad.urls, []);
    assert.ok(bad.issues.some((i) => /traefik\.io\/service\.nativelb must be a boolean/.test(i)));
  });
  it('routes a GRPCRoute rule with a filter it cannot take to gRPC Unavailable (invalid-grpcroute-filter)', () => {
    const { config } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
      grpcRoutes: [
        grpcRouteFor('default', 'f', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ filters: [{ type: 'RequestMirror' }], backendRefs: [{ name: 'g', port: 9000 }] }],
        }),
      ],
      services: [serviceFor('default', 'g', 9000)],
      endpointSlices: [endpointSliceFor('default', 'g', ['10.0.0.5'], 50051)],
    });
    const router = rn('grpcroute-default-f-gw-default-gw-ep-web-0', 'PathPrefix(`/`)');
    assert.equal(config.http.routers[router]?.service, `${router}-err-wrr`);
    const w = config.http.services[`${router}-err-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(w.weighted.services, [{ name: 'invalid-grpcroute-filter', weight: 1, status: 503 }]);
  });

  it('routes a GRPCRoute by service and method with h2c backends, as Traefik`s loadGRPCRoutes', () => {
    const grpcSvc = serviceFor('default', 'g', 9000);
    const tlsSvc = serviceFor('default', 't', 9443);
    (tlsSvc['spec'] as { ports: Record<string, unknown>[] }).ports[0]!['appProtocol'] = 'https';
    const badSvc = serviceFor('default', 'w', 9001);
    (badSvc['spec'] as { ports: Record<string, unknown>[] }).ports[0]!['appProtocol'] = 'kubernetes.io/ws';
    const { config, issues, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
      grpcRoutes: [
        grpcRouteFor('default', 'echo', {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['grpc.example.com'],
          rules: [
            {
              matches: [
                {
                  method: { service: 'test.Echo', method: 'Unary' },
                  headers: [{ name: 'x-env', value: 'prod' }],
                },
                { method: { type: 'RegularExpression', service: 'test\\..*' } },
              ],
              backendRefs: [{ name: 'g', port: 9000 }],
            },
            { backendRefs: [{ name: 't', port: 9443 }] },
          ],
        }),
        grpcRouteFor('default', 'refused', {
          parentRefs: [{ name: 'gw' }],
          rules: [
            { backendRefs: [{ name: 'w', port: 9001 }] },
            {
              // A rule of its own (Traefik v3.8's servedRules builds one router per rule and scope).
              matches: [{ headers: [{ name: 'x-other', value: '1' }] }],
              backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'x' }],
            },
          ],
        }),
      ],
      services: [grpcSvc, tlsSvc, badSvc],
      endpointSlices: [
        endpointSliceFor('default', 'g', ['10.0.0.5'], 50051),
        endpointSliceFor('default', 't', ['10.0.0.6'], 50052),
        endpointSliceFor('default', 'w', ['10.0.0.7'], 50053),
      ],
    });
    const routers = Object.entries(config.http.routers)
      .filter(([name]) => name.startsWith('grpcroute-default-echo-'))
      .map(([name, r]) => [name, r.rule, r.priority]);
    // Traefik's loadGRPCService: a refused backendRef keeps its share as a GRPCStatus Unavailable
    // child (ours: 503, answered to a gRPC call as grpc-status 14).
    const refusedChildren = (ri: number) => {
      const router = named(
        Object.keys(config.http.routers),
        `grpcroute-default-refused-gw-default-gw-ep-web-${ri}`,
      );
      const w = config.http.services[`${router}-wrr`];
      return w?.kind === 'weighted' ? w.weighted.services : undefined;
    };
    const refusedRouter = (ri: number) =>
      named(Object.keys(config.http.routers), `grpcroute-default-refused-gw-default-gw-ep-web-${ri}`);
    assert.deepEqual(refusedChildren(0), [
      { name: sv(refusedRouter(0), 'default', 'w', 0), weight: 1, status: 503 },
    ]);
    assert.deepEqual(refusedChildren(1), [
      { name: sv(refusedRouter(1), 'default', 'x', 0), weight: 1, status: 503 },
    ]);
    const host = 'Host(`grpc.example.com`)';
    const m0 = 'PathRegexp(`/test\\.Echo/Unary`) && Header(`x-env`, `prod`)';
    const m1 = 'PathRegexp(`/test\\..*/[^/]+`)';
    assert.deepEqual(routers, [
      [
        rn('grpcroute-default-echo-gw-default-gw-ep-web-0', `${host} && ${m0}`),
        `${host} && ${m0}`,
        16 + m0.length,
      ],
      [
        rn('grpcroute-default-echo-gw-default-gw-ep-web-0', `${host} && ${m1}`),
        `${host} && ${m1}`,
        16 + m1.length,
      ],
      [
        rn('grpcroute-default-echo-gw-default-gw-ep-web-1', `${host} && PathPrefix(\`/\`)`),
        `${host} && PathPrefix(\`/\`)`,
        16 + 15,
      ],
    ]);
    const lb = (n: string) => {
      const s = config.http.services[n];
      return s?.kind === 'loadBalancer' ? s.loadBalancer.servers.map((x) => x.url) : undefined;
    };
    // No appProtocol: h2c; appProtocol https: https.
    // Each router (each match) its own service (traefik/traefik#13367).
    for (const m of [m0, m1])
      assert.deepEqual(
        lb(sv(rn('grpcroute-default-echo-gw-default-gw-ep-web-0', `${host} && ${m}`), 'default', 'g', 0)),
        ['h2c://10.0.0.5:50051'],
      );
    assert.deepEqual(
      lb(
        sv(
          rn('grpcroute-default-echo-gw-default-gw-ep-web-1', `${host} && PathPrefix(\`/\`)`),
          'default',
          't',
          0,
        ),
      ),
      ['https://10.0.0.6:50052'],
    );
    assert.ok(
      issues.some((i) =>
        /grpcroute default\/refused rule 0: .*appProtocols kubernetes\.io\/h2c and https/.test(i),
      ),
      String(issues),
    );
    assert.ok(
      issues.some((i) =>
        /grpcroute default\/refused rule 1: .*only Kubernetes services are supported/.test(i),
      ),
    );
    const st = statuses.find((u) => u.kind === 'GRPCRoute' && u.object.metadata.name === 'echo');
    assert.equal(st?.path, '/apis/gateway.networking.k8s.io/v1/namespaces/default/grpcroutes/echo');
    const gw = statuses.find((u) => u.kind === 'Gateway');
    const listeners = gw?.status['listeners'] as
      | { attachedRoutes: number; supportedKinds: { kind: string }[] }[]
      | undefined;
    const listener = listeners?.[0];
    assert.equal(listener?.attachedRoutes, 2);
    assert.deepEqual(
      listener?.supportedKinds.map((k) => k.kind),
      ['HTTPRoute', 'GRPCRoute'],
    );
  });
  it('accepts the oldest of an HTTPRoute and a GRPCRoute whose hostnames meet on a listener, the other HostnameConflict (Traefik v3.8, #13421)', () => {
    const created = <T extends { metadata: unknown }>(o: T, at: string): T => {
      (o.metadata as Record<string, unknown>)['creationTimestamp'] = at;
      return o;
    };
    const gw2 = gatewayFor('default', 'gw', [
      { name: 'http', port: 8000, protocol: 'HTTP' },
      { name: 'other', port: 8000, protocol: 'HTTP', hostname: 'other.example' },
    ]);
    const { config, statuses } = build({
      gatewayClasses: [gatewayClassFor()],
      gateways: [gw2],
      // Listed newest first: the order of the lists does not decide, the creation times do.
      grpcRoutes: [
        created(
          grpcRouteFor('default', 'late-grpc', {
            parentRefs: [{ name: 'gw', sectionName: 'http' }],
            hostnames: ['*.example.com'],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
          }),
          '2026-01-01T00:00:03Z',
        ),
        created(
          grpcRouteFor('default', 'apart', {
            parentRefs: [{ name: 'gw', sectionName: 'http' }],
            hostnames: ['grpc.example.org'],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
          }),
          '2026-01-01T00:00:04Z',
        ),
        created(
          // On another listener, the same hostnames do not conflict.
          grpcRouteFor('default', 'elsewhere', {
            parentRefs: [{ name: 'gw', sectionName: 'other' }],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
          }),
          '2026-01-01T00:00:05Z',
        ),
      ],
      httpRoutes: [
        created(
          httpRouteFor('default', 'early-http', {
            parentRefs: [{ name: 'gw', sectionName: 'http' }],
            hostnames: ['shop.example.com', 'other.example'],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }],
          }),
          '2026-01-01T00:00:01Z',
        ),
      ],
      services: apps.slice(0, 1),
      endpointSlices: apps.slice(2, 3),
    });
    const parent = (kind: string, name: string) =>
      conds((statusOf(statuses, kind, name)['parents'] as { conditions: unknown }[])[0]!.conditions);
    assert.deepEqual(parent('HTTPRoute', 'early-http'), [
      'Accepted=True/Accepted',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    assert.deepEqual(parent('GRPCRoute', 'late-grpc'), [
      'Accepted=False/HostnameConflict',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    assert.deepEqual(parent('GRPCRoute', 'apart'), [
      'Accepted=True/Accepted',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    assert.deepEqual(parent('GRPCRoute', 'elsewhere'), [
      'Accepted=True/Accepted',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    const names = Object.keys(config.http.routers);
    assert.ok(!names.some((n) => n.startsWith('grpcroute-default-late-grpc-')), names.join());
    assert.ok(
      names.some((n) => n.startsWith('grpcroute-default-apart-')),
      names.join(),
    );
    // The refused route is not counted in the listener's attachedRoutes.
    const listeners = statusOf(statuses, 'Gateway', 'gw')['listeners'] as {
      name: string;
      attachedRoutes: number;
    }[];
    assert.deepEqual(
      listeners.map((l) => [l.name, l.attachedRoutes]),
      [
        ['http', 2],
        ['other', 1],
      ],
    );
  });

  it('takes ready endpoints only and refuses an ExternalName Service, as Traefik`s getBackendAddresses', () => {
    const slice = endpointSliceFor('default', 'a', ['10.0.0.1'], 8080);
    // A terminating endpoint that still serves: the CRD and Ingress providers keep it, not this one.
    (slice['endpoints'] as Record<string, unknown>[]).push(
      { addresses: ['10.0.0.9'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.0.0.8'], conditions: {} },
    );
    const ext = serviceFor('default', 'ext');
    (ext['spec'] as Record<string, unknown>)['type'] = 'ExternalName';
    (ext['spec'] as Record<string, unknown>)['externalName'] = 'example.org';
    const { config, issues } = build(
      {
        gatewayClasses: [gatewayClassFor()],
        gateways: [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
        httpRoutes: [
          httpRouteFor('default', 'app', {
            parentRefs: [{ name: 'gw' }],
            rules: [{ backendRefs: [{ name: 'a', port: 80 }] }, { backendRefs: [{ name: 'ext', port: 80 }] }],
          }),
        ],
        services: [serviceFor('default', 'a'), ext],
        endpointSlices: [slice],
      },
      { allowExternalNameServices: true },
    );
    const s = svcOf(config.http.services, 'default', 'a');
    assert.ok(s?.kind === 'loadBalancer');
    assert.deepEqual(
      s.loadBalancer.servers.map((x) => x.url),
      ['http://10.0.0.1:8080'],
    );
    assert.ok(issues.some((i) => /type ExternalName is not supported for a Gateway API backendRef/.test(i)));
  });
});
