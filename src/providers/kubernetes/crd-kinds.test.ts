import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crdObject,
  endpointSliceFor,
  ingressRouteFor,
  secretFor,
  serviceFor,
} from '../../../test/helpers/kube-objects.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls-certs.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type CrdObjects, crdConfig } from './crd-config.ts';
import type { KubeObject } from './informer.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function build(
  objs: Partial<Record<keyof CrdObjects, unknown[]>>,
  opts: { allowCrossNamespace?: boolean; crossProviderNamespaces?: string[] } = {},
) {
  const b = crdConfig(
    {
      ingressRoutes: ko(objs.ingressRoutes),
      middlewares: ko(objs.middlewares),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      traefikServices: ko(objs.traefikServices),
      tlsOptions: ko(objs.tlsOptions),
      tlsStores: ko(objs.tlsStores),
      serversTransports: ko(objs.serversTransports),
      secrets: ko(objs.secrets),
    },
    { allowEmptyServices: false, allowCrossNamespace: false, ...opts },
  );
  const u = updateFromData(b.data, 'kubernetescrd', b.sourceOf, { knownProviders: ['file'] }, b.issues);
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

const app = (name: string, ip: string) => [
  serviceFor('default', name),
  endpointSliceFor('default', name, [ip], 8080),
];

describe('Traefik CRD kinds → configuration', () => {
  it('builds a weighted TraefikService over two Kubernetes services and routes to it by kind', () => {
    const [sa, ea] = app('a', '10.0.0.1');
    const [sb, eb] = app('b', '10.0.0.2');
    const route = ingressRouteFor('default', 'r', 'PathPrefix(`/`)', 'split');
    (route.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
      { name: 'split', kind: 'TraefikService' },
    ];
    const { config, issues } = build({
      ingressRoutes: [route],
      services: [sa, sb],
      endpointSlices: [ea, eb],
      traefikServices: [
        crdObject('TraefikService', 'default', 'split', {
          weighted: {
            services: [
              { name: 'a', port: 80, weight: 3 },
              { name: 'b', port: 80, weight: 1 },
            ],
          },
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const r = Object.values(config.http.routers)[0];
    assert.equal(r?.service, 'default-split');
    const w = config.http.services['default-split'];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((s) => [s.name, s.weight]),
      [
        ['default-a-80', 3],
        ['default-b-80', 1],
      ],
    );
  });

  it('builds a mirroring TraefikService and refuses one with two kinds', () => {
    const [sa, ea] = app('a', '10.0.0.1');
    const [sb, eb] = app('b', '10.0.0.2');
    const { config, issues } = build({
      services: [sa, sb],
      endpointSlices: [ea, eb],
      traefikServices: [
        crdObject('TraefikService', 'default', 'mirror', {
          mirroring: { name: 'a', port: 80, mirrors: [{ name: 'b', port: 80, percent: 10 }] },
        }),
        crdObject('TraefikService', 'default', 'both', {
          weighted: { services: [{ name: 'a', port: 80 }] },
          mirroring: { name: 'a', port: 80 },
        }),
      ],
    });
    const m = config.http.services['default-mirror'];
    assert.ok(m?.kind === 'mirroring');
    assert.equal(m.mirroring.service, 'default-a-80');
    assert.deepEqual(
      m.mirroring.mirrors.map((x) => [x.name, x.percent]),
      [['default-b-80', 10]],
    );
    assert.equal(config.http.services['default-both'], undefined);
    assert.ok(issues.some((i) => i.includes('traefikservice default/both') && i.includes('exactly one of')));
  });

  it('refuses `middlewares` on the TraefikService itself (Traefik v3.7 reads them on its references)', () => {
    const [sa, ea] = app('a', '10.0.0.1');
    const { config, issues } = build({
      services: [sa],
      endpointSlices: [ea],
      traefikServices: [
        crdObject('TraefikService', 'default', 'mw', {
          middlewares: [{ name: 'auth' }],
          weighted: { services: [{ name: 'a', port: 80 }] },
        }),
      ],
    });
    assert.equal(config.http.services['default-mw'], undefined);
    assert.ok(
      issues.some(
        (i) =>
          i.includes('traefikservice default/mw') &&
          i.includes('`middlewares` is not a TraefikService field'),
      ),
      issues.join('\n'),
    );
  });

  it('builds a failover TraefikService over Kubernetes Services, with errors (Traefik v3.7, PR #12733)', () => {
    const [sa, ea] = app('main-svc', '10.0.0.1');
    const [sb, eb] = app('backup-svc', '10.0.0.2');
    const { config, issues } = build({
      services: [sa, sb],
      endpointSlices: [ea, eb],
      traefikServices: [
        crdObject('TraefikService', 'default', 'my-failover', {
          failover: {
            service: { name: 'main-svc', port: 80 },
            fallback: { name: 'backup-svc', port: 80 },
            errors: { status: ['500-504'], maxRequestBodyBytes: 1048576 },
          },
        }),
      ],
    });
    // No healthCheck here: a Kubernetes Service's load balancer has none (the CRD's healthCheck is
    // for ExternalName services only), so a failover healthCheck, which follows the fallback's
    // health, would be refused as Traefik v3.7's getFailoverServiceHandler refuses it.
    assert.deepEqual(issues, []);
    const fo = config.http.services['default-my-failover'];
    assert.ok(fo?.kind === 'failover');
    assert.equal(fo.failover.service, 'default-main-svc-80');
    assert.equal(fo.failover.fallback, 'default-backup-svc-80');
    assert.deepEqual(fo.failover.errors, { status: [{ from: 500, to: 504 }], maxRequestBodyBytes: 1048576 });
    assert.equal(fo.failover.healthCheck, undefined);
    const main = config.http.services['default-main-svc-80'];
    assert.ok(main?.kind === 'loadBalancer');
    assert.deepEqual(
      main.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.1:8080'],
    );
  });

  it('puts a service reference`s middlewares (Traefik v3.7 LoadBalancerSpec.Middlewares) on the reference: weighted children, mirroring, failover, route services', () => {
    const [sa, ea] = app('a', '10.0.0.1');
    const [sb, eb] = app('b', '10.0.0.2');
    const mw = (name: string) =>
      crdObject('Middleware', 'default', name, { headers: { customRequestHeaders: { X: name } } });
    const multi = ingressRouteFor('default', 'multi', 'PathPrefix(`/m`)', 'a');
    (multi.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
      { name: 'a', port: 80, middlewares: [{ name: 'mark-a' }] },
      { name: 'b', port: 80 },
    ];
    const single = ingressRouteFor('default', 'single', 'PathPrefix(`/s`)', 'a');
    (single.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
      { name: 'a', port: 80, middlewares: [{ name: 'mark-a' }] },
    ];
    const viaTs = ingressRouteFor('default', 'viats', 'PathPrefix(`/t`)', 'split');
    (viaTs.spec as { routes: { services: unknown[] }[] }).routes[0]!.services = [
      { name: 'split', kind: 'TraefikService', middlewares: [{ name: 'mark-b' }] },
    ];
    const { config, issues } = build({
      ingressRoutes: [multi, single, viaTs],
      middlewares: [mw('mark-a'), mw('mark-b')],
      services: [sa, sb],
      endpointSlices: [ea, eb],
      traefikServices: [
        crdObject('TraefikService', 'default', 'split', {
          weighted: {
            services: [
              { name: 'a', port: 80, middlewares: [{ name: 'mark-a' }] },
              { name: 'b', port: 80 },
            ],
          },
        }),
        crdObject('TraefikService', 'default', 'mirror', {
          mirroring: {
            name: 'a',
            port: 80,
            middlewares: [{ name: 'mark-b' }],
            mirrors: [{ name: 'b', port: 80, percent: 10 }],
          },
        }),
        crdObject('TraefikService', 'default', 'fo', {
          failover: {
            service: { name: 'split', kind: 'TraefikService', middlewares: [{ name: 'mark-a' }] },
            fallback: { name: 'mirror', kind: 'TraefikService', middlewares: [{ name: 'mark-b' }] },
            // The main service reports no health (weighted without healthCheck): Traefik takes
            // the failover only with errors.status (getFailoverServiceHandler).
            errors: { status: ['500-599'] },
          },
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const svc = config.http.services;
    const split = svc['default-split'];
    assert.ok(split?.kind === 'weighted');
    assert.deepEqual(
      split.weighted.services.map((c) => c.middlewares),
      [['default-mark-a'], undefined],
    );
    const mirror = svc['default-mirror'];
    assert.ok(mirror?.kind === 'mirroring');
    assert.deepEqual(mirror.mirroring.middlewares, ['default-mark-b']);
    const fo = svc['default-fo'];
    assert.ok(fo?.kind === 'failover');
    assert.deepEqual(
      [fo.failover.middlewares, fo.failover.fallbackMiddlewares],
      [['default-mark-a'], ['default-mark-b']],
    );
    const routerOf = (prefix: string) =>
      Object.values(config.http.routers).find((r) => r.rule.includes(prefix))!;
    // Several services: the route's weighted service, the middlewares on the child.
    const m = svc[routerOf('/m').service!];
    assert.ok(m?.kind === 'weighted');
    assert.deepEqual(
      m.weighted.services.map((c) => c.middlewares),
      [['default-mark-a'], undefined],
    );
    // One Kubernetes Service: the route's own load balancer, its own middlewares.
    const s = svc[routerOf('/s').service!];
    assert.ok(s?.kind === 'loadBalancer');
    assert.deepEqual(s.middlewares, ['default-mark-a']);
    // One TraefikService (shared): a weighted service of the route's with the one child.
    const t = svc[routerOf('/t').service!];
    assert.ok(t?.kind === 'weighted');
    assert.deepEqual(t.weighted.services, [
      { name: 'default-split', weight: 1, middlewares: ['default-mark-b'] },
    ]);
    // The shared load balancers stay without them.
    assert.equal(svc['default-a-80']?.middlewares, undefined);
  });

  it('refuses a service reference`s middleware in another namespace as the route`s (allowCrossNamespace off, GHSA-m6wx style), and another provider`s outside crossProviderNamespaces', () => {
    const [sa, ea] = app('a', '10.0.0.1');
    const ts = (name: string, refs: unknown[]) =>
      crdObject('TraefikService', 'default', name, {
        weighted: { services: [{ name: 'a', port: 80, middlewares: refs }] },
      });
    const objs = {
      services: [sa],
      endpointSlices: [ea],
      middlewares: [
        crdObject('Middleware', 'other', 'auth', { headers: { customRequestHeaders: { X: 'y' } } }),
      ],
      traefikServices: [
        ts('cross', [{ name: 'auth', namespace: 'other' }]),
        ts('suffix', [{ name: 'other-auth@kubernetescrd' }]),
        ts('foreign', [{ name: 'auth@file' }]),
      ],
    };
    const off = build(objs, { crossProviderNamespaces: [] });
    assert.deepEqual(
      Object.keys(off.config.http.services).filter((n) => !n.startsWith('default-a')),
      [],
    );
    const has = (text: string) =>
      assert.ok(
        off.issues.some((i) => i.includes(text)),
        `${text}\n${off.issues.join('\n')}`,
      );
    has(
      'traefikservice default/cross: middleware other/auth: another namespace (allowCrossNamespace is off)',
    );
    has('traefikservice default/suffix: middleware other-auth@kubernetescrd: with allowCrossNamespace off');
    has(
      'traefikservice default/foreign: middleware auth@file: reference is not allowed: namespace "default" is not in crossProviderNamespaces',
    );
    const on = build(objs, { allowCrossNamespace: true, crossProviderNamespaces: ['default'] });
    assert.deepEqual(on.issues, []);
    const cross = on.config.http.services['default-cross'];
    assert.ok(cross?.kind === 'weighted');
    assert.deepEqual(cross.weighted.services[0]?.middlewares, ['other-auth']);
  });

  it('turns a TLS secret, a TLSOption (default stays global) and the default TLSStore into the tls section', () => {
    const cert = selfSignedCertificate(['a.example']);
    const ca = selfSignedCertificate(['ca.example']);
    const [s, e] = app('web', '10.0.0.1');
    const route = ingressRouteFor('default', 'r', 'Host(`a.example`)', 'web');
    (route.spec as Record<string, unknown>)['tls'] = { secretName: 'a-cert', options: { name: 'strict' } };
    const { config, issues } = build({
      ingressRoutes: [route],
      services: [s],
      endpointSlices: [e],
      secrets: [
        secretFor('default', 'a-cert', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem }),
        secretFor('default', 'client-ca', { 'ca.crt': ca.certPem }),
      ],
      tlsOptions: [
        crdObject('TLSOption', 'default', 'strict', {
          minVersion: 'VersionTLS13',
          clientAuth: { secretNames: ['client-ca'], clientAuthType: 'RequireAndVerifyClientCert' },
        }),
        crdObject('TLSOption', 'other', 'default', { minVersion: 'VersionTLS12' }),
      ],
      tlsStores: [
        crdObject('TLSStore', 'default', 'default', { defaultCertificate: { secretName: 'a-cert' } }),
      ],
    });
    assert.deepEqual(issues, []);
    assert.equal(Object.values(config.http.routers)[0]?.tls?.options, 'default-strict');
    assert.equal(config.tls.certificates[0]?.certFile, cert.certPem);
    const strict = config.tls.options['default-strict'];
    assert.equal(strict?.minVersion, 'VersionTLS13');
    assert.deepEqual(strict?.clientAuth.caFiles, [ca.certPem]);
    assert.equal(config.tls.options['default']?.minVersion, 'VersionTLS12');
    assert.equal(config.tls.stores['default']?.defaultCertificate?.keyFile, cert.keyPem);
  });

  it('makes a ServersTransport of secrets, and reports a missing secret by the object name', () => {
    const ca = selfSignedCertificate(['ca.example']);
    const { config, issues } = build({
      secrets: [secretFor('default', 'ca', { 'tls.ca': ca.certPem })],
      serversTransports: [
        crdObject('ServersTransport', 'default', 'tr', {
          serverName: 'backend.internal',
          rootCAs: [{ secret: 'ca' }],
          maxIdleConnsPerHost: 7,
          // Traefik v3.8's keys (#12716) pass through with the others.
          forwardingTimeouts: { dialTimeout: '5s', readTimeout: '30s', writeTimeout: '10s' },
        }),
        crdObject('ServersTransport', 'default', 'broken', { rootCAsSecrets: ['nope'] }),
      ],
    });
    const t = config.http.serversTransports['default-tr'];
    assert.equal(t?.serverName, 'backend.internal');
    assert.deepEqual(t?.rootCAs, [ca.certPem]);
    assert.equal(t?.maxIdleConnsPerHost, 7);
    const ft = (t as { forwardingTimeouts?: Record<string, unknown> } | undefined)?.forwardingTimeouts;
    assert.equal(ft?.['readTimeout'], 30_000);
    assert.equal(ft?.['writeTimeout'], 10_000);
    assert.equal(config.http.serversTransports['default-broken'], undefined);
    assert.ok(
      issues.some(
        (i) => i.includes('serverstransport default/broken') && i.includes('secret default/nope not found'),
      ),
    );
  });
});
