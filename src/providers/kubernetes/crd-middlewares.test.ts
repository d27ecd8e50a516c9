import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { crdObject, endpointSliceFor, secretFor, serviceFor } from '../../../test/helpers/kube-objects.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls-certs.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import { crdConfig } from './crd-config.ts';
import type { KubeObject } from './informer.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function build(objs: {
  middlewares: unknown[];
  secrets?: unknown[];
  services?: unknown[];
  endpointSlices?: unknown[];
}) {
  const b = crdConfig(
    {
      ingressRoutes: [],
      middlewares: ko(objs.middlewares),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      secrets: ko(objs.secrets),
    },
    { allowEmptyServices: false, allowCrossNamespace: false },
  );
  const u = updateFromData(b.data, 'kubernetescrd', b.sourceOf, {}, b.issues);
  return {
    data: b.data as {
      http: { middlewares: Record<string, Record<string, unknown>>; services: Record<string, unknown> };
    },
    config: u.config!,
    issues: u.issues.map(formatIssue),
  };
}

describe('CRD Middleware → configuration (Traefik`s loadConfigurationFromCRD)', () => {
  it('reads basicAuth and digestAuth users from their Secret, a basic-auth Secret as one {SHA} user', () => {
    const { data, config, issues } = build({
      middlewares: [
        crdObject('Middleware', 'default', 'auth', { basicAuth: { secret: 'users', realm: 'shop' } }),
        crdObject('Middleware', 'default', 'typed', { basicAuth: { secret: 'typed' } }),
        crdObject('Middleware', 'default', 'digest', {
          digestAuth: { secret: 'dusers', removeHeader: true },
        }),
        crdObject('Middleware', 'default', 'nosecret', { basicAuth: { secret: 'nope' } }),
        crdObject('Middleware', 'default', 'two', { basicAuth: { secret: 'two' } }),
      ],
      secrets: [
        secretFor('default', 'users', {
          users: 'alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/\n\nbob:{SHA}x\n',
        }),
        {
          ...secretFor('default', 'typed', { username: 'carol', password: 'secret' }),
          type: 'kubernetes.io/basic-auth',
        },
        secretFor('default', 'dusers', { users: 'dan:traefik:a2688e031edb4be6a3797f3882655c05' }),
        secretFor('default', 'two', { a: 'x:y', b: 'z:w' }),
      ],
    });
    assert.deepEqual(data.http.middlewares['default-auth'], {
      basicAuth: { realm: 'shop', users: ['alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'bob:{SHA}x'] },
    });
    const sha = createHash('sha1').update('secret').digest('base64');
    assert.deepEqual(data.http.middlewares['default-typed'], { basicAuth: { users: [`carol:{SHA}${sha}`] } });
    assert.deepEqual(data.http.middlewares['default-digest'], {
      digestAuth: { removeHeader: true, users: ['dan:traefik:a2688e031edb4be6a3797f3882655c05'] },
    });
    assert.ok(config.http.middlewares['default-auth'] !== undefined);
    assert.ok(config.http.middlewares['default-digest'] !== undefined);
    assert.equal(data.http.middlewares['default-nosecret'], undefined);
    assert.equal(data.http.middlewares['default-two'], undefined);
    assert.ok(
      issues.some(
        (i) => i.includes('middleware default/nosecret') && i.includes('secret default/nope not found'),
      ),
      issues.join('\n'),
    );
    assert.ok(
      issues.some((i) => i.includes('middleware default/two') && i.includes('found 2 elements')),
      issues.join('\n'),
    );
  });

  it('reads forwardAuth TLS from caSecret and certSecret, and rateLimit.redis credentials from its secret', () => {
    const ca = selfSignedCertificate(['ca.example']);
    const client = selfSignedCertificate(['client.example']);
    const { data, issues } = build({
      middlewares: [
        crdObject('Middleware', 'default', 'fwd', {
          forwardAuth: {
            address: 'https://auth.example/check',
            tls: { caSecret: 'ca', certSecret: 'client', insecureSkipVerify: false },
          },
        }),
        crdObject('Middleware', 'default', 'rl', {
          rateLimit: { average: 5, redis: { endpoints: ['127.0.0.1:6379'], secret: 'redis' } },
        }),
      ],
      secrets: [
        // Traefik's loadCASecret: neither tls.ca nor ca.crt, but a single entry: that entry.
        secretFor('default', 'ca', { 'root.pem': ca.certPem }),
        secretFor('default', 'client', { 'tls.crt': client.certPem, 'tls.key': client.keyPem }),
        secretFor('default', 'redis', { username: 'u', password: 'p' }),
      ],
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(data.http.middlewares['default-fwd'], {
      forwardAuth: {
        address: 'https://auth.example/check',
        tls: { insecureSkipVerify: false, ca: ca.certPem, cert: client.certPem, key: client.keyPem },
      },
    });
    assert.deepEqual(data.http.middlewares['default-rl'], {
      rateLimit: { average: 5, redis: { endpoints: ['127.0.0.1:6379'], username: 'u', password: 'p' } },
    });
  });

  it('builds errors.service as the service <ns>-<name>-errorpage-service, and resolves plugin secret URNs', () => {
    const { data, config, issues } = build({
      middlewares: [
        crdObject('Middleware', 'default', 'oops', {
          errors: { status: ['500-599'], query: '/{status}.html', service: { name: 'pages', port: 80 } },
        }),
        crdObject('Middleware', 'default', 'plug', {
          plugin: { demo: { token: 'urn:k8s:secret:plug:token', list: ['a', 'urn:k8s:secret:plug:token'] } },
        }),
      ],
      services: [serviceFor('default', 'pages')],
      endpointSlices: [endpointSliceFor('default', 'pages', ['10.0.0.7'], 8080)],
      secrets: [secretFor('default', 'plug', { token: 's3cret' })],
    });
    assert.deepEqual(issues, []);
    assert.equal(
      data.http.middlewares['default-oops']?.['errors'] &&
        (data.http.middlewares['default-oops']['errors'] as { service: string }).service,
      'default-oops-errorpage-service',
    );
    const svc = config.http.services['default-oops-errorpage-service'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.7:8080'],
    );
    assert.deepEqual(data.http.middlewares['default-plug'], {
      plugin: { demo: { token: 's3cret', list: ['a', 's3cret'] } },
    });
  });

  it("checks errors.service as Traefik's buildServersLB does: scheme, strategy, healthCheck", () => {
    const mw = (name: string, service: Record<string, unknown>) =>
      crdObject('Middleware', 'default', name, {
        errors: { status: ['500-599'], service: { name: 'pages', port: 80, ...service } },
      });
    const { config, issues } = build({
      middlewares: [
        mw('h2c', { scheme: 'h2c', strategy: 'p2c' }),
        mw('ftp', { scheme: 'ftp' }),
        mw('lc', { strategy: 'leastConn' }),
        mw('hc', { healthCheck: { path: '/health' } }),
      ],
      services: [serviceFor('default', 'pages')],
      endpointSlices: [endpointSliceFor('default', 'pages', ['10.0.0.7'], 8080)],
    });
    assert.deepEqual(Object.keys(config.http.middlewares), ['default-h2c']);
    const svc = config.http.services['default-h2c-errorpage-service'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.equal(svc.loadBalancer.servers[0]?.url, 'h2c://10.0.0.7:8080');
    assert.equal(svc.loadBalancer.strategy, 'p2c');
    const refused: [string, string][] = [
      ['ftp', 'invalid scheme "ftp"'],
      ['lc', 'strategy leastConn is not supported'],
      ['hc', 'healthCheck allowed only for ExternalName'],
    ];
    for (const [name, text] of refused)
      assert.ok(
        issues.some((i) => i.includes(`middleware default/${name}`) && i.includes(text)),
        issues.join('\n'),
      );
  });

  it('rejects a chain naming a middleware of another namespace while allowCrossNamespace is off (Traefik v3.6.14)', () => {
    const { data, issues } = build({
      middlewares: [
        crdObject('Middleware', 'ops', 'root', { headers: { customRequestHeaders: { 'X-Env': 'root' } } }),
        crdObject('Middleware', 'shop', 'env', { headers: { customRequestHeaders: { 'X-Env': 'prod' } } }),
        crdObject('Middleware', 'shop', 'own', {
          chain: { middlewares: [{ name: 'env' }, { name: 'env', namespace: '' }] },
        }),
        crdObject('Middleware', 'shop', 'borrow', {
          chain: { middlewares: [{ name: 'env' }, { name: 'root', namespace: 'ops' }] },
        }),
        crdObject('Middleware', 'shop', 'qualified', {
          chain: { middlewares: [{ name: 'ops-root@kubernetescrd' }] },
        }),
        crdObject('Middleware', 'shop', 'other', { chain: { middlewares: [{ name: 'x@file' }] } }),
      ],
    });
    assert.deepEqual(data.http.middlewares['shop-own'], { chain: { middlewares: ['shop-env', 'shop-env'] } });
    assert.deepEqual(data.http.middlewares['shop-other'], { chain: { middlewares: ['x@file'] } });
    assert.equal(data.http.middlewares['shop-borrow'], undefined);
    assert.equal(data.http.middlewares['shop-qualified'], undefined);
    assert.ok(
      issues.some((i) => i.includes('middleware shop/borrow') && i.includes('ops/root: another namespace')),
      issues.join('\n'),
    );
    assert.ok(
      issues.some((i) => i.includes('middleware shop/qualified') && i.includes('allowCrossNamespace off')),
      issues.join('\n'),
    );
  });
});
