import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointSliceFor, ingressFor, secretFor, serviceFor } from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { kubernetesIngressNginxProviderSchema } from '../../config/static/providers.ts';
import { updateFromData } from '../dynamic-data.ts';
import type { KubeObject } from './informer.ts';
import { backendScheme, nginxSize, parseNginxAnnotations } from './ingress-nginx-annotations.ts';
import { type NginxObjects, nginxHashKey, nginxIngressConfig } from './ingress-nginx-config.ts';
import { attachKubernetesMeta } from './kube-build.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];
const A = 'nginx.ingress.kubernetes.io/';
const nginxClass = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'nginx' },
  spec: { controller: 'k8s.io/ingress-nginx' },
};
const web = [serviceFor('default', 'web'), endpointSliceFor('default', 'web', ['10.0.0.1'], 8080)];

function build(objs: Partial<Record<keyof NginxObjects, unknown[]>>, opts: Record<string, unknown> = {}) {
  const b = nginxIngressConfig(
    {
      ingresses: ko(objs.ingresses),
      ingressClasses: ko(objs.ingressClasses ?? [nginxClass]),
      services: ko(objs.services ?? web),
      endpointSlices: ko(objs.endpointSlices ?? web.slice(1)),
      secrets: ko(objs.secrets),
      configMaps: ko(objs.configMaps),
    },
    { ...kubernetesIngressNginxProviderSchema.parse(opts), nonTlsEntryPoints: ['web'] },
  );
  const u = updateFromData(b.data, 'kubernetesingressnginx', b.sourceOf, {}, b.issues);
  // The provider's output (the validated form has its own shapes); validated for the issues.
  const config = b.data as unknown as {
    http: {
      routers: Record<
        string,
        { rule: string; service: string; middlewares?: string[]; entryPoints?: string[] }
      >;
      services: Record<string, Record<string, unknown>>;
      middlewares: Record<string, Record<string, unknown>>;
    };
  };
  return { config, issues: u.issues.map(formatIssue), statuses: b.statuses };
}

const ing = (
  name: string,
  host: string,
  paths: { path: string; pathType: string; service: string; port?: number | string }[],
  annotations: Record<string, string> = {},
  className: string | null = 'nginx',
) =>
  ingressFor('default', name, host, paths, {
    ...(className !== null ? { className } : {}),
    annotations: Object.fromEntries(
      Object.entries(annotations).map(([k, v]) => [k.includes('/') ? k : A + k, v]),
    ),
  });

describe('nginx.ingress.kubernetes.io annotations', () => {
  it('read as Traefik`s parseIngressConfig: bools by "true" in any case, Atoi ints, trimmed lists', () => {
    const c = parseNginxAnnotations({
      [`${A}enable-cors`]: 'TRUE',
      [`${A}ssl-redirect`]: 'yes',
      [`${A}limit-rps`]: '+5',
      [`${A}limit-rpm`]: '5x',
      [`${A}cors-allow-methods`]: 'GET, PUT ,POST',
      [`${A}unknown-thing`]: 'x',
      'other.example/limit-rps': '9',
    });
    assert.deepEqual(c, {
      'enable-cors': true,
      'ssl-redirect': false,
      'limit-rps': 5,
      'cors-allow-methods': ['GET', 'PUT', 'POST'],
    });
  });

  it('sizes in nginx`s syntax, and backend protocols as URL schemes', () => {
    assert.deepEqual(['10', ' 8k ', '2M', '1g', '3 b', '1.5m', 'k'].map(nginxSize), [
      10,
      8192,
      2097152,
      1073741824,
      3,
      undefined,
      undefined,
    ]);
    assert.deepEqual(['HTTP', 'https', 'GRPC', 'grpcs', 'FCGI', undefined].map(backendScheme), [
      'http',
      'https',
      'h2c',
      'https',
      'http',
      'http',
    ]);
  });
});

describe('Ingress NGINX → configuration', () => {
  it('names routers and services as Traefik and builds its rules for each path type', () => {
    const { config, issues } = build({
      ingresses: [
        ing('shop', 'shop.example', [
          { path: '/exact', pathType: 'Exact', service: 'web' },
          { path: '/pre/', pathType: 'Prefix', service: 'web' },
          { path: '/impl', pathType: 'ImplementationSpecific', service: 'web' },
          { path: '/', pathType: 'Prefix', service: 'web' },
        ]),
        ing('wild', '*.example.com', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'server-alias': 'ignored-for-wildcards-no',
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const r = config.http.routers;
    assert.equal(r['default-shop-rule-0-path-0']?.rule, 'Host("shop.example") && Path("/exact")');
    assert.equal(
      r['default-shop-rule-0-path-1']?.rule,
      'Host("shop.example") && (Path("/pre") || PathPrefix("/pre/"))',
    );
    assert.equal(
      r['default-shop-rule-0-path-2']?.rule,
      'Host("shop.example") && (Path("/impl") || PathPrefix("/impl/"))',
    );
    assert.equal(r['default-shop-rule-0-path-3']?.rule, 'Host("shop.example") && PathPrefix("/")');
    assert.equal(
      r['default-wild-rule-0-path-0']?.rule,
      '(Host("*.example.com") || Host("ignored-for-wildcards-no")) && PathPrefix("/")',
    );
    assert.deepEqual(r['default-shop-rule-0-path-0']?.entryPoints, ['web']);
    assert.equal(
      r['default-shop-rule-0-path-0-tls']?.entryPoints,
      undefined,
      'TLS routers: every entry point',
    );
    assert.equal(r['default-shop-rule-0-path-0']?.service, 'default-shop-web-80');
    const lb = config.http.services['default-shop-web-80']?.['loadBalancer'] as Record<string, unknown>;
    assert.deepEqual(lb['servers'], [{ url: 'http://10.0.0.1:8080' }]);
    assert.equal(lb['serversTransport'], 'default-shop');
    // ingress-nginx's defaults: a 1 MiB body limit (request buffering), proxy-next-upstream
    // "error timeout" with 3 tries.
    assert.deepEqual(r['default-shop-rule-0-path-0']?.middlewares, [
      'default-shop-rule-0-path-0-buffering',
      'default-shop-rule-0-path-0-retry',
    ]);
    assert.deepEqual(config.http.middlewares['default-shop-rule-0-path-0-buffering'], {
      buffering: {
        disableRequestBuffer: false,
        disableResponseBuffer: true,
        memRequestBodyBytes: 16384,
        maxRequestBodyBytes: 1048576,
        memResponseBodyBytes: 32768,
      },
    });
  });

  it('makes every path of a host a case-insensitive regex when one of its Ingresses uses one', () => {
    const { config } = build({
      ingresses: [
        ing('a', 'r.example', [{ path: '/plain', pathType: 'Prefix', service: 'web' }]),
        ing('b', 'r.example', [{ path: '/re/[0-9]+', pathType: 'ImplementationSpecific', service: 'web' }], {
          'use-regex': 'true',
        }),
      ],
    });
    assert.equal(
      config.http.routers['default-a-rule-0-path-0']?.rule,
      'Host("r.example") && PathRegexp("(?i)^/plain")',
    );
    assert.equal(
      config.http.routers['default-b-rule-0-path-0']?.rule,
      'Host("r.example") && PathRegexp("(?i)^/re/[0-9]+")',
    );
  });

  it('handles Ingresses by class as shouldProcessIngress', () => {
    const own = (className: string | null, annotation?: string, name = 'x') =>
      ing(
        name,
        `${name}.example`,
        [{ path: '/', pathType: 'Prefix', service: 'web' }],
        annotation === undefined ? {} : { 'kubernetes.io/ingress.class': annotation },
        className,
      );
    const routers = (objs: Partial<Record<keyof NginxObjects, unknown[]>>, opts = {}) =>
      Object.keys(build(objs, opts).config.http.routers).filter((k) => !k.endsWith('-tls'));
    assert.deepEqual(routers({ ingresses: [own('nginx', undefined, 'a'), own('traefik', undefined, 'b')] }), [
      'default-a-rule-0-path-0',
    ]);
    assert.deepEqual(
      routers({
        ingresses: [own(null, 'nginx', 'a'), own(null, 'other', 'b'), own(null, undefined, 'c')],
      }),
      ['default-a-rule-0-path-0'],
    );
    assert.deepEqual(
      routers({ ingresses: [own(null, undefined, 'c')] }, { watchIngressWithoutClass: true }),
      ['default-c-rule-0-path-0'],
    );
    // No IngressClass of ours: a class name does not decide, the annotation (or its absence) does.
    assert.deepEqual(routers({ ingressClasses: [], ingresses: [own('whatever', 'nginx', 'a')] }), [
      'default-a-rule-0-path-0',
    ]);
    // ingressClassByName: the class named ingressClass alone, whatever its controller.
    const named = { ...nginxClass, metadata: { name: 'mine' }, spec: { controller: 'example.com/other' } };
    assert.deepEqual(
      routers(
        {
          ingressClasses: [nginxClass, named],
          ingresses: [own('mine', undefined, 'a'), own('nginx', undefined, 'b')],
        },
        {
          ingressClassByName: true,
          ingressClass: 'mine',
        },
      ),
      ['default-a-rule-0-path-0'],
    );
  });

  it('refuses an Ingress with regex characters in a Prefix path (strictValidatePathType) or with snippets', () => {
    const { config, issues } = build({
      ingresses: [
        ing('bad', 'b.example', [{ path: '/api/(.*)', pathType: 'Prefix', service: 'web' }]),
        ing('snip', 's.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'configuration-snippet': 'more_set_headers "X: y";',
        }),
      ],
    });
    assert.deepEqual(config.http.routers, {});
    assert.equal(issues.length, 2, issues.join('\n'));
    assert.match(issues[0]!, /regex characters are not allowed for pathType Prefix/);
    assert.match(issues[1]!, /snippet annotations are not allowed/);
  });

  it('makes server-snippet and configuration-snippet a snippet middleware with allowSnippetAnnotations (Traefik buildSnippetAuth)', () => {
    const paths = [{ path: '/', pathType: 'Prefix', service: 'web' }];
    const { config, issues } = build(
      {
        ingresses: [
          ing('snip', 's.example', paths, {
            'server-snippet': 'add_header X-S s;',
            'configuration-snippet': 'more_set_headers "X: y";',
          }),
          // auth-snippet is read with auth-url only (Traefik's buildSnippetAuth).
          ing('auth', 'a.example', paths, { 'auth-snippet': 'proxy_set_header X y;' }),
        ],
      },
      { allowSnippetAnnotations: true },
    );
    assert.deepEqual(issues, []);
    const snippets = Object.values(config.http.middlewares).filter((m) => m['snippet'] !== undefined);
    assert.equal(snippets.length, 2);
    for (const m of snippets)
      assert.deepEqual(m, {
        snippet: { serverSnippet: 'add_header X-S s;', configurationSnippet: 'more_set_headers "X: y";' },
      });
    const router = Object.values(config.http.routers)[0] as { middlewares?: string[] };
    assert.ok(router.middlewares?.some((n) => n.endsWith('-snippet')));
  });

  it('gives every router of a host the server-snippet of its oldest Ingress (Traefik build.go serverSnippets)', () => {
    const paths = (p: string) => [{ path: p, pathType: 'Prefix', service: 'web' }];
    const at = (o: ReturnType<typeof ing>, t: string) => {
      (o.metadata as unknown as Record<string, unknown>)['creationTimestamp'] = t;
      return o;
    };
    const { config, issues } = build(
      {
        ingresses: [
          at(
            ing('a-newer', 'h.example', paths('/a'), { 'server-snippet': 'add_header X-N n;' }),
            '2026-02-01T00:00:00Z',
          ),
          at(
            ing('b-older', 'h.example', paths('/b'), { 'server-snippet': 'add_header X-O o;' }),
            '2026-01-01T00:00:00Z',
          ),
          at(ing('c-none', 'h.example', paths('/c')), '2025-01-01T00:00:00Z'),
          at(ing('d-other', 'other.example', paths('/')), '2025-01-01T00:00:00Z'),
        ],
      },
      { allowSnippetAnnotations: true },
    );
    assert.deepEqual(issues, []);
    const snippet = (router: string) => {
      const r = config.http.routers[router] as { middlewares?: string[] } | undefined;
      const name = r?.middlewares?.find((n) => n.endsWith('-snippet'));
      return name === undefined ? undefined : config.http.middlewares[name]?.['snippet'];
    };
    const older = { serverSnippet: 'add_header X-O o;', configurationSnippet: '' };
    assert.deepEqual(snippet('default-a-newer-rule-0-path-0'), older);
    assert.deepEqual(snippet('default-b-older-rule-0-path-0'), older);
    assert.deepEqual(snippet('default-c-none-rule-0-path-0'), older);
    assert.equal(snippet('default-d-other-rule-0-path-0'), undefined);
  });

  it('takes Ingresses oldest first (Traefik build.go): a server-alias, a canary`s path and the catch-all go to the oldest', () => {
    const at = (o: ReturnType<typeof ing>, t: string) => {
      (o.metadata as unknown as Record<string, unknown>)['creationTimestamp'] = t;
      return o;
    };
    const catchAll = (name: string, service: string, t: string) => {
      const o = at(ing(name, '', []), t);
      const spec = o.spec as Record<string, unknown>;
      spec['rules'] = [];
      spec['defaultBackend'] = { service: { name: service, port: { number: 80 } } };
      return o;
    };
    const objs = {
      services: [
        ...web,
        serviceFor('default', 'canary-a'),
        serviceFor('default', 'canary-z'),
        serviceFor('default', 'other'),
      ],
      endpointSlices: [
        web[1],
        endpointSliceFor('default', 'canary-a', ['10.0.0.2'], 8080),
        endpointSliceFor('default', 'canary-z', ['10.0.0.3'], 8080),
        endpointSliceFor('default', 'other', ['10.0.0.4'], 8080),
      ],
      ingresses: [
        // Named first, created last: the alias and the path go to z-old.
        at(
          ing('a-new', 'a.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
            'server-alias': 'alias.example',
          }),
          '2026-03-01T00:00:00Z',
        ),
        at(
          ing('z-old', 'z.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
            'server-alias': 'alias.example',
          }),
          '2026-01-01T00:00:00Z',
        ),
        at(
          ing('canary-a', 'z.example', [{ path: '/', pathType: 'Prefix', service: 'canary-a' }], {
            canary: 'true',
            'canary-by-header': 'X-A',
          }),
          '2026-03-01T00:00:00Z',
        ),
        at(
          ing('canary-z', 'z.example', [{ path: '/', pathType: 'Prefix', service: 'canary-z' }], {
            canary: 'true',
            'canary-by-header': 'X-Z',
          }),
          '2026-01-01T00:00:00Z',
        ),
        // Named first, created first: the catch-all is db-a's (the last by name was taken).
        catchAll('db-a', 'other', '2026-01-01T00:00:00Z'),
        catchAll('db-z', 'web', '2026-03-01T00:00:00Z'),
      ],
    };
    const { config, issues } = build(objs);
    assert.equal(
      config.http.routers['default-a-new-rule-0-path-0']?.rule,
      'Host("a.example") && PathPrefix("/")',
    );
    assert.equal(
      config.http.routers['default-z-old-rule-0-path-0']?.rule,
      '(Host("z.example") || Host("alias.example")) && PathPrefix("/")',
    );
    assert.equal(
      config.http.routers['default-z-old-rule-0-path-0-canary']?.rule,
      '((Host("z.example") || Host("alias.example")) && PathPrefix("/")) && (Header("X-Z", "always"))',
    );
    assert.ok(
      issues.some((i) => i.includes('a canary ingress is already matching')),
      issues.join('\n'),
    );
    const lb = (n: string) =>
      (config.http.services[n]!['loadBalancer'] as { servers: { url: string }[] }).servers;
    assert.equal(config.http.routers['default-backend']?.service, 'default-backend');
    assert.deepEqual(lb('default-backend'), [{ url: 'http://10.0.0.4:8080' }]);
    // The provider's defaultBackendService wins over every Ingress.
    const withProvider = build(objs, { defaultBackendService: 'default/canary-a' }).config;
    assert.deepEqual(
      (withProvider.http.services['default-backend']!['loadBalancer'] as { servers: unknown }).servers,
      [{ url: 'http://10.0.0.2:8080' }],
    );
  });

  it('reads a custom-headers ConfigMap of another namespace only with allowCrossNamespaceResources (Traefik build.go, #12680)', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'hdrs', namespace: 'ops' },
      data: { 'X-Frame-Options': 'DENY' },
    };
    const objs = {
      configMaps: [cm],
      ingresses: [
        ing('ch', 'ch.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'custom-headers': 'ops/hdrs',
        }),
      ],
    };
    const opts = { globalAllowedResponseHeaders: ['X-Frame-Options'] };
    const refused = build(objs, opts);
    assert.equal(refused.config.http.routers['default-ch-rule-0-path-0']?.service, 'unavailable-service');
    assert.match(refused.issues.join('\n'), /cross-namespace custom-headers is not allowed/);
    const allowed = build(objs, { ...opts, allowCrossNamespaceResources: true });
    assert.deepEqual(allowed.config.http.middlewares['default-ch-rule-0-path-0-custom-headers'], {
      headers: { customResponseHeaders: { 'X-Frame-Options': 'DENY' } },
    });
  });

  it('serves custom-http-errors pages from the default-backend annotation`s Service over http, without the Ingress`s sticky cookie (Traefik translator buildService)', () => {
    const { config, issues } = build({
      services: [...web, serviceFor('default', 'pages')],
      endpointSlices: [web[1], endpointSliceFor('default', 'pages', ['10.0.0.8'], 8080)],
      ingresses: [
        ing('p', 'p.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'custom-http-errors': '503',
          'default-backend': 'pages',
          'backend-protocol': 'HTTPS',
          affinity: 'cookie',
        }),
      ],
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(config.http.services['default-backend-default-p-rule-0-path-0'], {
      loadBalancer: { servers: [{ url: 'http://10.0.0.8:8080' }] },
    });
    const main = config.http.services['default-p-web-80']!['loadBalancer'] as { servers: { url: string }[] };
    assert.equal(main.servers[0]?.url, 'https://10.0.0.1:8080');
  });

  it('gives the source-range ipAllowList the provider`s ipAllowListStrategy (Traefik v3.7)', () => {
    const paths = [{ path: '/', pathType: 'Prefix', service: 'web' }];
    const ingresses = [ing('a', 'a.example', paths, { 'whitelist-source-range': '10.0.0.0/8, 192.168.0.1' })];
    const mw = (opts: Record<string, unknown>) => {
      const { config, issues } = build({ ingresses }, opts);
      assert.deepEqual(issues, []);
      const all = Object.values(config.http.middlewares).filter((m) => m['ipAllowList'] !== undefined);
      assert.ok(all.length > 0);
      for (const m of all) assert.deepEqual(m['ipAllowList'], all[0]!['ipAllowList']);
      return all[0]!['ipAllowList'];
    };
    assert.deepEqual(mw({}), { sourceRange: ['10.0.0.0/8', '192.168.0.1'] });
    assert.deepEqual(mw({ ipAllowListStrategy: { depth: 2, excludedIPs: ['10.1.0.0/16'] } }), {
      sourceRange: ['10.0.0.0/8', '192.168.0.1'],
      ipStrategy: { depth: 2, excludedIPs: ['10.1.0.0/16'] },
    });
  });

  it('redirects the HTTP router to https with force-ssl-redirect or a TLS section, not with ssl-redirect alone', () => {
    const { config } = build(
      {
        ingresses: [
          ing('plain', 'p.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
            'force-ssl-redirect': 'true',
          }),
          ing('asked', 'a.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
            'ssl-redirect': 'true',
          }),
        ],
      },
      { proxyBodySize: 0 },
    );
    // The redirect comes first (Traefik's applyMiddlewares); the rest of the chain stays.
    const http = config.http.routers['default-plain-rule-0-path-0']!;
    assert.deepEqual(
      [http.service, http.middlewares],
      [
        'default-plain-web-80',
        ['default-plain-rule-0-path-0-redirect-scheme', 'default-plain-rule-0-path-0-retry'],
      ],
    );
    assert.deepEqual(config.http.routers['default-plain-rule-0-path-0-tls']?.middlewares, [
      'default-plain-rule-0-path-0-tls-retry',
    ]);
    assert.deepEqual(config.http.middlewares['default-plain-rule-0-path-0-redirect-scheme'], {
      redirectScheme: { scheme: 'https', forcePermanentRedirect: true },
    });
    // ssl-redirect without a TLS section redirects nothing (Traefik's buildSSLRedirect).
    assert.deepEqual(config.http.routers['default-asked-rule-0-path-0']?.middlewares, [
      'default-asked-rule-0-path-0-retry',
    ]);
  });

  it('builds canary routers and a weighted service from a canary Ingress', () => {
    const { config, issues } = build({
      services: [...web, serviceFor('default', 'next')],
      endpointSlices: [web[1], endpointSliceFor('default', 'next', ['10.0.0.2'], 8080)],
      ingresses: [
        ing('main', 'c.example', [{ path: '/', pathType: 'Prefix', service: 'web' }]),
        ing('main-canary', 'c.example', [{ path: '/', pathType: 'Prefix', service: 'next' }], {
          canary: 'true',
          'canary-weight': '20',
          'canary-by-cookie': 'beta',
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const r = config.http.routers;
    assert.equal(r['default-main-rule-0-path-0']?.service, 'default-main-web-80-wrr');
    assert.deepEqual(config.http.services['default-main-web-80-wrr'], {
      weighted: {
        services: [
          { name: 'default-main-web-80', weight: 80 },
          { name: 'default-main-web-80-canary', weight: 20 },
        ],
      },
    });
    assert.equal(
      r['default-main-rule-0-path-0-canary']?.rule,
      '(Host("c.example") && PathPrefix("/")) && (HeaderRegexp("Cookie", "(^|;\\\\s*)beta=always(;|$)"))',
    );
    assert.equal(
      r['default-main-rule-0-path-0-non-canary']?.rule,
      '(Host("c.example") && PathPrefix("/")) && (HeaderRegexp("Cookie", "(^|;\\\\s*)beta=never(;|$)"))',
    );
    assert.equal(r['default-main-rule-0-path-0-non-canary']?.service, 'default-main-web-80');
  });

  it('reports a canary Ingress that repeats no path of another Ingress', () => {
    const { issues } = build({
      ingresses: [
        ing('lonely', 'l.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], { canary: 'true' }),
      ],
    });
    assert.match(
      issues.join('\n'),
      /canary ingress does not match Ingress rule host=l\.example, path=\/, pathType=Prefix/,
    );
  });

  it('answers 503 on a router whose auth secret is in another namespace (unavailable-service)', () => {
    const { config, issues } = build({
      secrets: [{ ...secretFor('other', 'users', { auth: 'a:b' }) }],
      ingresses: [
        ing('private', 'p.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'auth-type': 'basic',
          'auth-secret': 'other/users',
        }),
      ],
    });
    assert.deepEqual(config.http.routers['default-private-rule-0-path-0'], {
      entryPoints: ['web'],
      rule: 'Host("p.example") && PathPrefix("/")',
      ruleSyntax: 'default',
      service: 'unavailable-service',
    });
    assert.deepEqual(config.http.services['unavailable-service'], { loadBalancer: { servers: [] } });
    assert.match(issues.join('\n'), /cross-namespace auth secret is not allowed/);
  });

  it('maps redirects, rate limits, timeouts and upstream TLS as Traefik', () => {
    const { config, issues } = build({
      secrets: [secretFor('default', 'upstream-ca', { 'ca.crt': 'PEM' })],
      ingresses: [
        ing('m', 'm.example', [{ path: '/old', pathType: 'Prefix', service: 'web' }], {
          'temporal-redirect': 'https://t.example/',
          'temporal-redirect-code': '999',
          'limit-rps': '4',
          'limit-connections': '2',
          'proxy-connect-timeout': '7',
          'proxy-read-timeout': '30',
          'backend-protocol': 'HTTPS',
          'proxy-ssl-secret': 'default/upstream-ca',
          'proxy-ssl-verify': 'on',
          'proxy-ssl-name': 'internal.example',
          'proxy-next-upstream': 'error http_503 non_idempotent',
          'proxy-next-upstream-tries': '2',
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const mw = config.http.middlewares;
    assert.deepEqual(mw['default-m-rule-0-path-0-redirect'], {
      redirectRegex: { regex: '.*', replacement: 'https://t.example/', statusCode: 302 },
    });
    assert.deepEqual(mw['default-m-rule-0-path-0-limit-rps'], {
      rateLimit: { average: 4, period: '1s', burst: 20 },
    });
    assert.deepEqual(mw['default-m-rule-0-path-0-limit-connections'], {
      inFlightReq: { amount: 2, sourceCriterion: { ipStrategy: {} } },
    });
    assert.deepEqual(mw['default-m-rule-0-path-0-retry'], {
      retry: { attempts: 2, status: ['503'], retryNonIdempotentMethod: true },
    });
    const st = (config as unknown as { http: { serversTransports: Record<string, unknown> } }).http
      .serversTransports;
    assert.deepEqual(st['default-m'], {
      forwardingTimeouts: {
        dialTimeout: '7s',
        readTimeout: '30s',
        writeTimeout: '60s',
        idleConnTimeout: '60s',
      },
      serverName: 'internal.example',
      insecureSkipVerify: false,
      rootCAs: ['PEM'],
    });
    const lb = config.http.services['default-m-web-80']?.['loadBalancer'] as { servers: unknown };
    assert.deepEqual(lb.servers, [{ url: 'https://10.0.0.1:8080' }]);
  });

  it('routes everything else to defaultBackendService, and custom-http-errors to it', () => {
    const { config, issues } = build(
      {
        services: [...web, serviceFor('ops', 'fallback')],
        endpointSlices: [web[1], endpointSliceFor('ops', 'fallback', ['10.0.0.9'], 8080)],
        ingresses: [
          ing('e', 'e.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
            'custom-http-errors': '404,503',
          }),
        ],
      },
      { defaultBackendService: 'ops/fallback' },
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(config.http.routers['default-backend'], {
      entryPoints: ['web'],
      rule: 'PathPrefix("/")',
      ruleSyntax: 'default',
      priority: -2147483648,
      service: 'default-backend',
    });
    assert.deepEqual(config.http.middlewares['default-e-rule-0-path-0-custom-http-errors'], {
      errors: {
        status: ['404', '503'],
        service: 'default-backend',
        nginxHeaders: {
          'X-Namespaces': 'default',
          'X-Ingress-Name': 'e',
          'X-Service-Name': 'web',
          'X-Service-Port': '80',
        },
      },
    });
  });
  it('adds the www. router of from-to-www-redirect, unless another Ingress has that host', () => {
    const { config } = build({
      ingresses: [
        ing('w', 'shop.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'from-to-www-redirect': 'true',
        }),
        ing('x', 'taken.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'from-to-www-redirect': 'true',
        }),
        ing('y', 'www.taken.example', [{ path: '/', pathType: 'Prefix', service: 'web' }]),
      ],
    });
    const r = config.http.routers as Record<string, Record<string, unknown>>;
    assert.deepEqual(r['default-w-rule-0-path-0-from-to-www-redirect'], {
      rule: 'Host("www.shop.example")',
      ruleSyntax: 'default',
      middlewares: ['default-w-rule-0-path-0-from-to-www-redirect'],
      // The redirect router never reaches the backend (Traefik's unavailable-service).
      service: 'unavailable-service',
      entryPoints: ['web'],
    });
    assert.deepEqual(r['default-w-rule-0-path-0-tls-from-to-www-redirect']?.['middlewares'], [
      'default-w-rule-0-path-0-tls-from-to-www-redirect',
    ]);
    assert.equal(r['default-x-rule-0-path-0-from-to-www-redirect'], undefined);
    assert.deepEqual(config.http.middlewares['default-w-rule-0-path-0-from-to-www-redirect'], {
      redirectRegex: {
        regex: '^(https?)://(?:\\[[^/\\]]*\\]|[^/:]+)(:[0-9]+)?[^/]*/(.*?)/?$',
        replacement: '$1://shop.example$2/$3',
        statusCode: 308,
      },
    });
  });

  it('makes a TCP passthrough router with ssl-passthrough, and TLS options with auth-tls-secret', () => {
    const { config, issues } = build({
      secrets: [secretFor('default', 'client-ca', { 'ca.crt': 'CA PEM' })],
      ingresses: [
        ing('pass', 'pass.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'ssl-passthrough': 'true',
        }),
        ing('mtls', 'mtls.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'auth-tls-secret': 'default/client-ca',
          'auth-tls-verify-client': 'optional',
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const data = config as unknown as {
      tcp: { routers: Record<string, unknown>; services: Record<string, unknown> };
      tls: { options: Record<string, unknown> };
    };
    assert.deepEqual(data.tcp.routers['default-pass-pass-example'], {
      rule: 'HostSNI("pass.example")',
      ruleSyntax: 'default',
      service: 'default-web-80',
      tls: { passthrough: true },
    });
    assert.deepEqual(data.tcp.services['default-web-80'], {
      loadBalancer: { servers: [{ address: '10.0.0.1:8080' }] },
    });
    assert.equal(config.http.routers['default-pass-rule-0-path-0'], undefined);
    // Plain HTTP to that host reaches the backend too (Traefik's passthrough HTTP router).
    assert.deepEqual(config.http.routers['default-pass-pass-example-http'], {
      entryPoints: ['web'],
      rule: 'Host("pass.example")',
      ruleSyntax: 'default',
      service: 'default-pass-web-80',
    });
    assert.deepEqual(data.tls.options['default-7-client-ca-9-verify-client-cert-if-given'], {
      clientAuth: { caFiles: ['CA PEM'], clientAuthType: 'VerifyClientCertIfGiven' },
    });
    assert.deepEqual(
      (config.http.routers['default-mtls-rule-0-path-0-tls'] as unknown as { tls: unknown }).tls,
      { options: 'default-7-client-ca-9-verify-client-cert-if-given' },
    );
  });

  it('gives Ingresses sharing a host and an mTLS policy one TLS options set (Traefik v3.7.11, GHSA-j994-9gqj-9hwq)', () => {
    const mtls = { 'auth-tls-secret': 'default/client-ca', 'auth-tls-verify-client': 'on' };
    const { config, issues } = build({
      secrets: [secretFor('default', 'client-ca', { 'ca.crt': 'CA PEM' })],
      ingresses: [
        ing('one', 'mtls.example', [{ path: '/a', pathType: 'Prefix', service: 'web' }], mtls),
        ing('two', 'mtls.example', [{ path: '/b', pathType: 'Prefix', service: 'web' }], mtls),
      ],
    });
    assert.deepEqual(issues, []);
    const options = (config as unknown as { tls: { options: Record<string, unknown> } }).tls.options;
    // Named after each Ingress, the host had two sets: a conflict, the default options (no client
    // certificate asked for) on its handshakes.
    assert.deepEqual(Object.keys(options), ['default-7-client-ca-9-require-and-verify-client-cert']);
    for (const r of ['default-one-rule-0-path-0-tls', 'default-two-rule-0-path-0-tls'])
      assert.deepEqual((config.http.routers[r] as unknown as { tls: unknown }).tls, {
        options: 'default-7-client-ca-9-require-and-verify-client-cert',
      });
  });

  it('serves from the default-backend annotation`s Service when the backend has no endpoints', () => {
    const { config, issues } = build({
      services: [...web, serviceFor('default', 'empty'), serviceFor('default', 'sorry')],
      endpointSlices: [web[1], endpointSliceFor('default', 'sorry', ['10.0.0.7'], 8081)],
      ingresses: [
        ing('d', 'd.example', [{ path: '/', pathType: 'Prefix', service: 'empty' }], {
          'default-backend': 'sorry',
          // The path itself is no rewrite (Traefik's applyRewriteTargetConfiguration); another is.
          'rewrite-target': '/app',
          'x-forwarded-prefix': '/d',
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const lb = config.http.services['default-d-empty-80']?.['loadBalancer'] as { servers: unknown };
    assert.deepEqual(lb.servers, [{ url: 'http://10.0.0.7:8081' }]);
    assert.deepEqual(config.http.routers['default-d-rule-0-path-0']?.middlewares, [
      'default-d-rule-0-path-0-buffering',
      'default-d-rule-0-path-0-rewrite-target',
      'default-d-rule-0-path-0-retry',
    ]);
    // Traefik v3.7's RewriteTarget middleware, X-Forwarded-Prefix its own option.
    assert.deepEqual(config.http.middlewares['default-d-rule-0-path-0-rewrite-target'], {
      rewriteTarget: { regex: '/', replacement: '/app', xForwardedPrefix: '/d' },
    });
  });
  it('hashes on the key upstream-hash-by names (hrw), and reports keys it cannot read', () => {
    assert.deepEqual(
      ['$remote_addr', '$http_x_user', '$cookie_session', '$arg_id', '$request_uri', '$host$uri'].map(
        nginxHashKey,
      ),
      [
        { type: 'clientIP' },
        { type: 'header', name: 'x-user' },
        { type: 'cookie', name: 'session' },
        { type: 'query', name: 'id' },
        undefined,
        undefined,
      ],
    );
    const { config, issues } = build({
      ingresses: [
        ing('h', 'h.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'upstream-hash-by': '$http_x_user',
        }),
        ing('u', 'u.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'upstream-hash-by': '$request_uri',
        }),
      ],
    });
    const lb = config.http.services['default-h-web-80']?.['loadBalancer'] as Record<string, unknown>;
    assert.deepEqual([lb['strategy'], lb['hashOn']], ['hrw', { type: 'header', name: 'x-user' }]);
    const plain = config.http.services['default-u-web-80']!['loadBalancer'] as Record<string, unknown>;
    assert.equal(plain['strategy'], undefined);
    assert.match(issues.join('\n'), /upstream-hash-by "\$request_uri": only/);
  });
  it('writes the status of publishService by its type, and publishStatusAddress first', () => {
    const lb = {
      ...serviceFor('ops', 'proxy'),
      spec: { type: 'LoadBalancer', ports: [], externalIPs: ['192.0.2.1', '192.0.2.9'] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: 'lb.example' }] } },
    };
    const status = (opts: Record<string, unknown>, svc: unknown = lb) =>
      build(
        {
          services: [...web, svc],
          ingresses: [ing('s', 's.example', [{ path: '/', pathType: 'Prefix', service: 'web' }])],
        },
        opts,
      ).statuses.map((u) => u.status);
    assert.deepEqual(status({ publishService: 'ops/proxy' }), [
      { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: 'lb.example' }, { ip: '192.0.2.9' }] } },
    ]);
    const clusterIP = {
      ...serviceFor('ops', 'proxy'),
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.5', ports: [] },
    };
    assert.deepEqual(status({ publishService: 'ops/proxy' }, clusterIP), [
      { loadBalancer: { ingress: [{ ip: '10.96.0.5' }] } },
    ]);
    assert.deepEqual(
      status({ publishService: 'ops/proxy', publishStatusAddress: ['lb.example', '2001:db8::1'] }),
      [{ loadBalancer: { ingress: [{ hostname: 'lb.example' }, { ip: '2001:db8::1' }] } }],
    );
    assert.deepEqual(status({}), []);
  });
  it('hands auth-url, auth-signin, auth-method, auth-snippet and auth-response-headers to the snippet middleware (Traefik buildSnippetAuth)', () => {
    const { config, issues } = build(
      {
        ingresses: [
          ing('o', 'o.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
            'auth-url': 'https://$host/oauth2/auth',
            'auth-signin': '$scheme://$host/oauth2/start?rd=$escaped_request_uri',
            'auth-method': 'POST',
            'auth-snippet': 'proxy_set_header X-Auth-Request-Redirect $request_uri;',
            'auth-response-headers': 'X-User, X-Email',
          }),
        ],
      },
      { allowSnippetAnnotations: true },
    );
    assert.deepEqual(issues, []);
    const auth = {
      address: 'https://$host/oauth2/auth',
      authSigninURL: '$scheme://$host/oauth2/start?rd=$escaped_request_uri',
      method: 'POST',
      snippet: 'proxy_set_header X-Auth-Request-Redirect $request_uri;',
      authResponseHeaders: ['X-User', 'X-Email'],
    };
    for (const r of ['default-o-rule-0-path-0', 'default-o-rule-0-path-0-tls'])
      assert.deepEqual(config.http.middlewares[`${r}-snippet`], {
        snippet: { serverSnippet: '', configurationSnippet: '', auth },
      });
    assert.equal(config.http.middlewares['default-o-rule-0-path-0-forward-auth'], undefined);
  });

  it('names the Ingress of every router it makes, and the Service of every load balancer', () => {
    const objs = {
      services: [...web, serviceFor('default', 'next'), serviceFor('ops', 'fallback')],
      endpointSlices: [
        web[1],
        endpointSliceFor('default', 'next', ['10.0.0.2'], 8080),
        endpointSliceFor('ops', 'fallback', ['10.0.0.9'], 8080),
      ],
      ingresses: [
        ing('main', 'shop.example', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          'from-to-www-redirect': 'true',
        }),
        ing('main-canary', 'shop.example', [{ path: '/', pathType: 'Prefix', service: 'next' }], {
          canary: 'true',
          'canary-by-header': 'X-Beta',
        }),
      ],
    };
    const b = nginxIngressConfig(
      {
        ingresses: ko(objs.ingresses),
        ingressClasses: ko([nginxClass]),
        services: ko(objs.services),
        endpointSlices: ko(objs.endpointSlices),
        secrets: [],
        configMaps: [],
      },
      {
        ...kubernetesIngressNginxProviderSchema.parse({ defaultBackendService: 'ops/fallback' }),
        nonTlsEntryPoints: ['web'],
      },
    );
    const u = attachKubernetesMeta(
      updateFromData(b.data, 'kubernetesingressnginx', b.sourceOf, {}, b.issues),
      b.meta,
    );
    const routers = u.config!.http.routers as Record<string, { kubernetes?: unknown }>;
    const main = { kind: 'Ingress', namespace: 'default', name: 'main' };
    for (const name of [
      'default-main-rule-0-path-0',
      'default-main-rule-0-path-0-tls',
      'default-main-rule-0-path-0-canary',
      'default-main-rule-0-path-0-from-to-www-redirect',
    ])
      assert.deepEqual(routers[name]?.kubernetes, main, name);
    // Traefik v3.7's translate: the provider's default backend names the Service's namespace only.
    assert.deepEqual(routers['default-backend']?.kubernetes, { kind: 'Ingress', namespace: 'ops', name: '' });
    const services = u.config!.http.services as Record<string, { kubernetes?: unknown }>;
    assert.deepEqual(services['default-main-web-80']?.kubernetes, {
      name: 'web',
      namespace: 'default',
      port: '80',
    });
    assert.deepEqual(services['default-main-web-80-canary']?.kubernetes, {
      name: 'next',
      namespace: 'default',
      port: '80',
    });
    assert.deepEqual(services['default-backend']?.kubernetes, {
      name: 'fallback',
      namespace: 'ops',
      port: '80',
    });
    // The weighted service over them is no load balancer: each request's leaf names its own.
    assert.equal(services['default-main-web-80-wrr']?.kubernetes, undefined);
  });
});
