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

function build(objs: Partial<Record<keyof CrdObjects, unknown[]>>) {
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
    { allowEmptyServices: false, allowCrossNamespace: false },
  );
  const u = updateFromData(b.data, 'kubernetescrd', b.sourceOf, {}, b.issues);
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

  it('refuses a TraefikService with middlewares (Traefik v3.7) by name rather than dropping them', () => {
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
          i.includes('`middlewares` on a service (Traefik v3.7) is not supported yet'),
      ),
      issues.join('\n'),
    );
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
        }),
        crdObject('ServersTransport', 'default', 'broken', { rootCAsSecrets: ['nope'] }),
      ],
    });
    const t = config.http.serversTransports['default-tr'];
    assert.equal(t?.serverName, 'backend.internal');
    assert.deepEqual(t?.rootCAs, [ca.certPem]);
    assert.equal(t?.maxIdleConnsPerHost, 7);
    assert.equal(config.http.serversTransports['default-broken'], undefined);
    assert.ok(
      issues.some(
        (i) => i.includes('serverstransport default/broken') && i.includes('secret default/nope not found'),
      ),
    );
  });
});
