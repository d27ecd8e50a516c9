import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crdObject,
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  ingressFor,
  ingressRouteFor,
  serviceFor,
  traefikIngressClass,
} from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type CrdObjects, crdConfig } from './crd-config.ts';
import { gatewayConfig } from './gateway-config.ts';
import type { KubeObject } from './informer.ts';
import { ingressConfig } from './ingress-config.ts';

// Traefik's crossProviderNamespaces (pkg/provider/kubernetes/crd: resolveReference,
// isCrossProviderNamespaceAllowed, nameAndService, makeServersTransportKey,
// makeTCPServersTransportKey; GHSA-42cj-m3vj-89wv, GHSA-62fc-8686-hfmq) and the Ingress
// provider's (v3.7.1).

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function crd(objs: Partial<Record<keyof CrdObjects, unknown[]>>, opts = {}) {
  const b = crdConfig(
    {
      ingressRoutes: ko(objs.ingressRoutes),
      middlewares: ko(objs.middlewares),
      traefikServices: ko(objs.traefikServices),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      ingressRouteTCPs: ko(objs.ingressRouteTCPs),
    },
    { allowEmptyServices: false, allowCrossNamespace: false, ...opts },
  );
  const u = updateFromData(b.data, 'kubernetescrd', b.sourceOf, { knownProviders: ['file'] }, b.issues);
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

/** The Service `web` (port 80) with one endpoint in each namespace given. */
function webIn(...namespaces: string[]) {
  return {
    services: namespaces.map((ns) => serviceFor(ns, 'web')),
    endpointSlices: namespaces.map((ns) => endpointSliceFor(ns, 'web', ['10.0.0.1'], 8080)),
  };
}

const routerOf = (config: ReturnType<typeof crd>['config'], ns: string) =>
  Object.entries(config.http.routers).find(([n]) => n.startsWith(`${ns}-`));

describe('crossProviderNamespaces: the CRD provider', () => {
  it('refuses a route naming x@file from a namespace the list lacks, keeps the listed one (middleware, tls.options)', () => {
    const route = (ns: string) =>
      ingressRouteFor(ns, 'app', `Host(\`${ns}.example\`)`, 'web', { middlewares: [{ name: 'auth@file' }] });
    const { config, issues } = crd(
      { ingressRoutes: [route('trusted'), route('tenant')], ...webIn('trusted', 'tenant') },
      { crossProviderNamespaces: ['trusted'] },
    );
    assert.deepEqual(routerOf(config, 'trusted')?.[1].middlewares, ['auth@file']);
    assert.equal(routerOf(config, 'tenant'), undefined);
    assert.ok(
      issues.some((i) => /tenant.*middleware auth@file.*"tenant" is not in crossProviderNamespaces/.test(i)),
    );

    const tls = (ns: string) => {
      const ir = ingressRouteFor(ns, 'tls', 'Host(`t.example`)', 'web');
      (ir['spec'] as Record<string, unknown>)['tls'] = { options: { name: 'strict@file' } };
      return ir;
    };
    const t = crd(
      { ingressRoutes: [tls('trusted'), tls('tenant')], ...webIn('trusted', 'tenant') },
      { crossProviderNamespaces: ['trusted'] },
    );
    assert.equal(routerOf(t.config, 'trusted')?.[1].tls?.options, 'strict@file');
    assert.equal(routerOf(t.config, 'tenant'), undefined);
  });

  it('leaves every namespace free when unset, and none when empty', () => {
    const ir = ingressRouteFor('tenant', 'app', 'Host(`a`)', 'web', { middlewares: [{ name: 'auth@file' }] });
    assert.ok(routerOf(crd({ ingressRoutes: [ir], ...webIn('tenant') }).config, 'tenant'));
    assert.equal(
      routerOf(
        crd({ ingressRoutes: [ir], ...webIn('tenant') }, { crossProviderNamespaces: [] }).config,
        'tenant',
      ),
      undefined,
    );
  });

  it('checks a TraefikService reference (api@internal) and a route service`s serversTransport against the route`s namespace', () => {
    const api = crdObject('IngressRoute', 'tenant', 'api', {
      routes: [
        { kind: 'Rule', match: 'Host(`api`)', services: [{ name: 'api@internal', kind: 'TraefikService' }] },
      ],
    });
    const st = crdObject('IngressRoute', 'tenant', 'st', {
      routes: [
        {
          kind: 'Rule',
          match: 'Host(`st`)',
          services: [{ name: 'web', port: 80, serversTransport: 'mtls@file' }],
        },
      ],
    });
    // The service is in the listed namespace: the route's own namespace is what counts.
    const cross = crdObject('IngressRoute', 'tenant', 'cross', {
      routes: [
        {
          kind: 'Rule',
          match: 'Host(`cross`)',
          services: [{ name: 'web', namespace: 'trusted', port: 80, serversTransport: 'mtls@file' }],
        },
      ],
    });
    const { config, issues } = crd(
      { ingressRoutes: [api, st, cross], ...webIn('tenant', 'trusted') },
      { crossProviderNamespaces: ['trusted'], allowCrossNamespace: true },
    );
    assert.deepEqual(Object.keys(config.http.routers), []);
    assert.ok(issues.some((i) => /service api@internal: reference is not allowed/.test(i)));
    assert.equal(
      issues.filter((i) => /serversTransport mtls@file: reference is not allowed/.test(i)).length,
      2,
    );
  });

  it('checks a TraefikService`s children, a Chain and an errors service from their own namespace', () => {
    const { config, issues } = crd(
      {
        traefikServices: [
          crdObject('TraefikService', 'tenant', 'split', {
            weighted: { services: [{ name: 'blue@file', kind: 'TraefikService' }] },
          }),
          crdObject('TraefikService', 'trusted', 'split', {
            weighted: { services: [{ name: 'blue@file', kind: 'TraefikService' }] },
          }),
        ],
        middlewares: [
          crdObject('Middleware', 'tenant', 'chain', { chain: { middlewares: [{ name: 'auth@file' }] } }),
          crdObject('Middleware', 'trusted', 'chain', { chain: { middlewares: [{ name: 'auth@file' }] } }),
          crdObject('Middleware', 'tenant', 'oops', {
            errors: { status: ['500'], service: { name: 'pages@file', port: 80 } },
          }),
        ],
      },
      { crossProviderNamespaces: ['trusted'] },
    );
    assert.deepEqual(Object.keys(config.http.services), ['trusted-split']);
    assert.deepEqual(Object.keys(config.http.middlewares), ['trusted-chain']);
    assert.equal(issues.filter((i) => /is not in crossProviderNamespaces/.test(i)).length, 3);
  });

  it('checks an IngressRouteTCP`s middlewares, TLS options and service serversTransport (GHSA-42cj-m3vj-89wv)', () => {
    const svc = serviceFor('tenant', 'db', 5432);
    const slice = endpointSliceFor('tenant', 'db', ['10.0.0.1'], 5432);
    const tcp = (name: string, route: Record<string, unknown>, tls?: unknown) =>
      crdObject('IngressRouteTCP', 'tenant', name, {
        routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'db', port: 5432 }], ...route }],
        ...(tls !== undefined ? { tls } : {}),
      });
    const { config, issues } = crd(
      {
        services: [svc],
        endpointSlices: [slice],
        ingressRouteTCPs: [
          tcp('mw', { middlewares: [{ name: 'allow@file' }] }),
          tcp('opt', {}, { options: { name: 'strict@file' } }),
          tcp('st', { services: [{ name: 'db', port: 5432, serversTransport: 'mtls@file' }] }),
        ],
      },
      { crossProviderNamespaces: ['trusted'] },
    );
    assert.deepEqual(Object.keys(config.tcp?.routers ?? {}), []);
    assert.deepEqual(
      issues.filter((i) => /is not in crossProviderNamespaces/.test(i)).map((i) => /(\S+@file)/.exec(i)?.[1]),
      ['allow@file', 'strict@file', 'mtls@file'],
    );
  });

  it('refuses <ns>-<name>@kubernetescrd everywhere while allowCrossNamespace is off, whatever the list (GHSA-62fc-8686-hfmq)', () => {
    const svcRef = crdObject('IngressRoute', 'tenant', 'svc', {
      routes: [
        {
          kind: 'Rule',
          match: 'Host(`a`)',
          services: [{ name: 'other-secret@kubernetescrd', kind: 'TraefikService' }],
        },
      ],
    });
    const tls = ingressRouteFor('tenant', 'tls', 'Host(`b`)', 'web');
    (tls['spec'] as Record<string, unknown>)['tls'] = { options: { name: 'other-opts@kubernetescrd' } };
    const st = crdObject('IngressRoute', 'tenant', 'st', {
      routes: [
        {
          kind: 'Rule',
          match: 'Host(`c`)',
          services: [{ name: 'web', port: 80, serversTransport: 'other-st@kubernetescrd' }],
        },
      ],
    });
    const off = crd(
      { ingressRoutes: [svcRef, tls, st], ...webIn('tenant') },
      { crossProviderNamespaces: ['tenant'] },
    );
    assert.deepEqual(Object.keys(off.config.http.routers), []);
    assert.equal(off.issues.filter((i) => /@kubernetescrd references are refused/.test(i)).length, 3);
    const on = crd(
      { ingressRoutes: [svcRef, tls, st], ...webIn('tenant') },
      { crossProviderNamespaces: ['tenant'], allowCrossNamespace: true },
    );
    assert.deepEqual(
      on.issues.filter((i) => /refused|not allowed/.test(i)),
      [],
    );
  });
});

describe('crossProviderNamespaces: the Ingress provider', () => {
  const build = (ingresses: unknown[], ns: string[], services: unknown[] = [], opts = {}) => {
    const web = webIn(...ns);
    const b = ingressConfig(
      {
        ingresses: ko(ingresses),
        ingressClasses: ko([traefikIngressClass()]),
        services: ko([...web.services, ...services]),
        endpointSlices: ko(web.endpointSlices),
        secrets: [],
      },
      {
        allowEmptyServices: false,
        allowCrossNamespace: false,
        ingressClass: '',
        strictPrefixMatching: false,
        crossProviderNamespaces: ['trusted'],
        ...opts,
      },
    );
    const u = updateFromData(b.data, 'kubernetes', b.sourceOf, { knownProviders: ['file'] }, b.issues);
    return { config: u.config!, issues: u.issues.map(formatIssue) };
  };
  const ing = (ns: string, annotations: Record<string, string>) =>
    ingressFor(ns, 'app', `${ns}.example`, [{ path: '/', pathType: 'Prefix', service: 'web' }], {
      className: 'traefik',
      annotations,
    });

  it('skips an Ingress of an unlisted namespace naming x@file in router.middlewares or router.tls.options', () => {
    const mw = { 'traefik.ingress.kubernetes.io/router.middlewares': 'auth@file' };
    const { config, issues } = build([ing('trusted', mw), ing('tenant', mw)], ['trusted', 'tenant']);
    assert.deepEqual(Object.keys(config.http.routers), ['trusted-app-trusted-example']);
    assert.ok(
      issues.some((i) => /router\.middlewares auth@file.*"tenant" is not in crossProviderNamespaces/.test(i)),
    );
    const opt = { 'traefik.ingress.kubernetes.io/router.tls.options': 'strict@file' };
    assert.deepEqual(
      Object.keys(
        build([ing('trusted', opt), ing('tenant', opt)], ['trusted', 'tenant']).config.http.routers,
      ),
      ['trusted-app-trusted-example'],
    );
    // Unset: everyone may.
    assert.equal(
      Object.keys(
        build([ing('tenant', mw)], ['tenant'], [], { crossProviderNamespaces: undefined }).config.http
          .routers,
      ).length,
      1,
    );
  });

  it('refuses a Service`s service.serverstransport x@file for an Ingress of an unlisted namespace', () => {
    const web = webIn('tenant');
    const svc = web.services[0]!;
    (svc['metadata'] as Record<string, unknown>)['annotations'] = {
      'traefik.ingress.kubernetes.io/service.serverstransport': 'mtls@file',
    };
    const b = ingressConfig(
      {
        ingresses: ko([ing('tenant', {})]),
        ingressClasses: ko([traefikIngressClass()]),
        services: ko([svc]),
        endpointSlices: ko(web.endpointSlices),
        secrets: [],
      },
      {
        allowEmptyServices: false,
        allowCrossNamespace: false,
        ingressClass: '',
        strictPrefixMatching: false,
        crossProviderNamespaces: ['trusted'],
      },
    );
    assert.deepEqual(b.data['http'] && Object.keys((b.data['http'] as { routers: object }).routers), []);
    assert.ok(b.issues.some((i) => /serversTransport mtls@file: reference is not allowed/.test(i.message)));
  });
});

describe('crossProviderNamespaces: the Gateway provider (GHSA-3g6v-2r68-prfc / CVE-2026-54761)', () => {
  it('checks a rule`s several backendRefs against the HTTPRoute`s namespace, not backendRef.namespace', () => {
    const grant = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'ReferenceGrant',
      metadata: { name: 'g', namespace: 'trusted' },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'tenant' }],
        to: [{ group: 'traefik.io', kind: 'TraefikService' }],
      },
    };
    const route = httpRouteFor('tenant', 'mixed', {
      parentRefs: [{ name: 'gw', namespace: 'default' }],
      rules: [
        {
          backendRefs: [
            { name: 'web', port: 80 },
            { group: 'traefik.io', kind: 'TraefikService', name: 'api@internal', namespace: 'trusted' },
          ],
        },
      ],
    });
    const web = webIn('tenant');
    const b = gatewayConfig(
      {
        gatewayClasses: ko([gatewayClassFor()]),
        gateways: ko([
          gatewayFor('default', 'gw', [
            { name: 'web', port: 8000, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
          ]),
        ]),
        httpRoutes: ko([route]),
        grpcRoutes: [],
        services: ko(web.services),
        endpointSlices: ko(web.endpointSlices),
        secrets: [],
        referenceGrants: ko([grant]),
        namespaces: [],
      },
      {
        allowEmptyServices: false,
        allowExternalNameServices: false,
        entryPointPorts: { web: 8000 },
        crossProviderNamespaces: ['trusted'],
      },
    );
    const services = JSON.stringify((b.data['http'] as { services: unknown }).services);
    assert.doesNotMatch(services, /"api@internal"/);
    // traefik/traefik#13322 (httproute.go loadService): a cross-provider name with a namespace is
    // refused before crossProviderNamespaces is looked at, whatever that namespace.
    assert.ok(
      b.issues.some((i) => /namespace is not allowed with a cross-provider reference/.test(i.message)),
      b.issues.map((i) => i.message).join('\n'),
    );
  });
});
