import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  crdObject,
  endpointSliceFor,
  nodeFor,
  nodePortServiceFor,
  secretFor,
  serviceFor,
} from '../../../test/helpers/kube-objects.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls-certs.ts';
import { formatIssue } from '../../config/issues.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type CrdObjects, crdConfig } from './crd-config.ts';
import type { KubeObject } from './informer.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function build(objs: Partial<Record<keyof CrdObjects, unknown[]>>, opts = {}) {
  const b = crdConfig(
    {
      ingressRoutes: [],
      middlewares: [],
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      secrets: ko(objs.secrets),
      ingressRouteTCPs: ko(objs.ingressRouteTCPs),
      ingressRouteUDPs: ko(objs.ingressRouteUDPs),
      middlewareTCPs: ko(objs.middlewareTCPs),
      serversTransportTCPs: ko(objs.serversTransportTCPs),
      nodes: ko(objs.nodes),
    },
    { allowEmptyServices: false, allowCrossNamespace: false, ...opts },
  );
  const u = updateFromData(b.data, 'kubernetescrd', b.sourceOf, { knownProviders: ['file'] }, b.issues);
  const config = u.config!;
  return { tcp: config.tcp!, udp: config.udp!, tls: config.tls, issues: u.issues.map(formatIssue) };
}

const hash = (match: string) => createHash('sha256').update(match).digest('hex').slice(0, 20);

const tcpRoute = (ns: string, name: string, spec: Record<string, unknown>) =>
  crdObject('IngressRouteTCP', ns, name, spec);

/** A Service `name` with one port (`port`, named `tcp`) and a slice of ready endpoints. */
function app(ns: string, name: string, ips: string[], port = 6379, targetPort = 16379) {
  const svc = serviceFor(ns, name, port);
  (svc['spec'] as { ports: { name: string }[] }).ports[0]!.name = 'tcp';
  const slice = endpointSliceFor(ns, name, ips, targetPort);
  (slice['ports'] as { name: string }[])[0]!.name = 'tcp';
  return [svc, slice] as const;
}

describe('IngressRouteTCP → tcp configuration', () => {
  it('names router and service after namespace, object and hash of the match; takes ready endpoints only', () => {
    const [svc, slice] = app('db', 'redis', ['10.0.0.1', '10.0.0.2']);
    (slice['endpoints'] as unknown[]).push(
      { addresses: ['10.0.0.9'], conditions: { ready: false, serving: true } },
      { addresses: ['10.0.0.1'], conditions: { ready: true } },
    );
    const match = 'HostSNI(`*`)';
    const { tcp, issues } = build({
      services: [svc],
      endpointSlices: [slice],
      ingressRouteTCPs: [
        tcpRoute('db', 'cache.v1', {
          entryPoints: ['redis'],
          routes: [
            {
              match,
              priority: 7,
              middlewares: [{ name: 'office' }, { name: 'limit@file' }],
              services: [{ name: 'redis', port: 6379 }],
            },
          ],
        }),
      ],
      middlewareTCPs: [
        crdObject('MiddlewareTCP', 'db', 'office', { ipWhiteList: { sourceRange: ['10.1.0.0/16'] } }),
      ],
    });
    assert.deepEqual(issues, [
      'middlewaretcp db/office: warning: tcp.middlewares.db-office.ipAllowList: `ipWhiteList` is deprecated: it is read as `ipAllowList`',
    ]);
    // Not normalized, as Traefik's (kubernetes_tcp.go; its TestLoadIngressRouteTCPs' `default-test.route-…`).
    const name = `db-cache.v1-${hash(match)}`;
    const r = tcp.routers[name];
    assert.equal(r?.rule, match);
    assert.equal(r?.service, name, 'the router and its service share the name, as in Traefik');
    assert.equal(r?.priority, 7);
    assert.deepEqual(r?.entryPoints, ['redis']);
    assert.deepEqual(r?.middlewares, ['db-office', 'limit@file']);
    assert.equal(r?.tls, undefined);
    const s = tcp.services[name];
    assert.ok(s?.kind === 'loadBalancer');
    assert.deepEqual(
      s.loadBalancer.servers.map((x) => [x.address, x.tls]),
      [
        ['10.0.0.1:16379', false],
        ['10.0.0.2:16379', false],
      ],
    );
    const mw = tcp.middlewares['db-office'];
    assert.ok(mw?.type === 'ipAllowList', 'ipWhiteList reads as ipAllowList');
    assert.deepEqual(mw.config.sourceRange, ['10.1.0.0/16']);
  });

  it('weights several services under children <router>-<service>-<port>, with proxyProtocol, tls to servers and a serversTransport', () => {
    const [a, ea] = app('db', 'a', ['10.0.0.1'], 5432, 5432);
    const [b2, eb] = app('db', 'b', ['10.0.1.1'], 5432, 5432);
    const match = 'HostSNI(`pg.example`)';
    const { tcp, issues } = build({
      services: [a, b2],
      endpointSlices: [ea, eb],
      serversTransportTCPs: [crdObject('ServersTransportTCP', 'db', 'fast', { dialTimeout: '2s' })],
      ingressRouteTCPs: [
        tcpRoute('db', 'pg', {
          routes: [
            {
              match,
              services: [
                { name: 'a', port: 5432, weight: 3, tls: true, serversTransport: 'fast' },
                { name: 'b', port: 'tcp', proxyProtocol: {}, terminationDelay: 250 },
              ],
            },
          ],
          tls: { passthrough: true, secretName: 'ignored-with-passthrough' },
        }),
      ],
    });
    const name = `db-pg-${hash(match)}`;
    const w = tcp.services[name];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((x) => [x.name, x.weight]),
      [
        [`${name}-a-5432`, 3],
        [`${name}-b-tcp`, 1],
      ],
    );
    const ca = tcp.services[`${name}-a-5432`];
    assert.ok(ca?.kind === 'loadBalancer');
    assert.deepEqual(ca.loadBalancer.servers, [{ address: '10.0.0.1:5432', tls: true }]);
    assert.equal(ca.loadBalancer.serversTransport, 'db-fast');
    assert.equal(tcp.serversTransports['db-fast']?.dialTimeout, 2000);
    const cb = tcp.services[`${name}-b-tcp`];
    assert.ok(cb?.kind === 'loadBalancer');
    assert.equal(cb.loadBalancer.proxyProtocol?.version, 2, 'Traefik`s default version');
    assert.equal(cb.loadBalancer.terminationDelay, 250);
    assert.deepEqual(tcp.routers[name]?.tls, { passthrough: true, domains: [] });
    // No secret is read for passthrough; the deprecated keys are said to be deprecated, by object.
    assert.ok(!issues.some((i) => i.includes('ignored-with-passthrough')), issues.join('\n'));
    assert.ok(
      issues.some(
        (i) =>
          i.startsWith('ingressroutetcp db/pg') &&
          /proxyProtocol.*deprecated|deprecated.*proxyProtocol/.test(i),
      ),
      issues.join('\n'),
    );
  });

  it('terminates TLS with a Secret, names the TLSOption, and refuses references to other namespaces', () => {
    const cert = selfSignedCertificate(['db.example']);
    const [svc, slice] = app('db', 'redis', ['10.0.0.1']);
    const route = (name: string, options: Record<string, string>, mws: unknown[] = []) =>
      tcpRoute('db', name, {
        routes: [
          { match: 'HostSNI(`db.example`)', middlewares: mws, services: [{ name: 'redis', port: 6379 }] },
        ],
        tls: { secretName: 'db-cert', options, certResolver: 'le' },
      });
    const objs = {
      services: [svc],
      endpointSlices: [slice],
      secrets: [secretFor('db', 'db-cert', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem })],
      middlewareTCPs: [crdObject('MiddlewareTCP', 'ops', 'limit', { inFlightConn: { amount: 2 } })],
      ingressRouteTCPs: [
        route('term', { name: 'strict' }),
        route('cross-opt', { name: 'strict', namespace: 'ops' }),
        route('cross-mw', {}, [{ name: 'limit', namespace: 'ops' }]),
      ],
    };
    const { tcp, tls, issues } = build(objs);
    const term = tcp.routers[`db-term-${hash('HostSNI(`db.example`)')}`];
    assert.equal(term?.tls?.options, 'db-strict');
    assert.equal(term?.tls?.certResolver, 'le');
    assert.equal(term?.tls?.passthrough, false);
    assert.equal(tls.certificates[0]?.certFile, cert.certPem);
    assert.equal(Object.keys(tcp.routers).length, 1, Object.keys(tcp.routers).join());
    assert.ok(
      issues.some(
        (i) =>
          i.startsWith('ingressroutetcp db/cross-opt') &&
          i.includes('tlsoption ops/strict: another namespace'),
      ),
    );
    assert.ok(
      issues.some(
        (i) =>
          i.startsWith('ingressroutetcp db/cross-mw') &&
          i.includes('middlewaretcp ops/limit: another namespace'),
      ),
    );
    const allowed = build(objs, { allowCrossNamespace: true });
    assert.equal(Object.keys(allowed.tcp.routers).length, 3);
    const cm = Object.entries(allowed.tcp.routers).find(([n]) => n.startsWith('db-cross-mw-'))?.[1];
    assert.deepEqual(cm?.middlewares, ['ops-limit']);
  });

  it('uses the nodes` InternalIP:nodePort with nodePortLB on a NodePort Service, for TCP and UDP', () => {
    const { tcp, udp, issues } = build({
      services: [nodePortServiceFor('db', 'redis', 6379, 31379)],
      nodes: [
        nodeFor('n1', [
          { type: 'InternalIP', address: '192.168.0.11' },
          { type: 'ExternalIP', address: '203.0.113.1' },
        ]),
      ],
      ingressRouteTCPs: [
        tcpRoute('db', 'np', {
          routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'redis', port: 6379, nodePortLB: true }] }],
        }),
      ],
      ingressRouteUDPs: [
        crdObject('IngressRouteUDP', 'db', 'np', {
          routes: [{ services: [{ name: 'redis', port: 6379, nodePortLB: true }] }],
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const t = Object.values(tcp.services)[0];
    assert.ok(t?.kind === 'loadBalancer');
    assert.deepEqual(
      t.loadBalancer.servers.map((x) => x.address),
      ['192.168.0.11:31379'],
    );
    const u = Object.values(udp.services)[0];
    assert.ok(u?.kind === 'loadBalancer');
    assert.deepEqual(
      u.loadBalancer.servers.map((x) => x.address),
      ['192.168.0.11:31379'],
    );
  });

  it('reports each unusable route under its object and leaves it out', () => {
    const [svc, slice] = app('db', 'redis', ['10.0.0.1']);
    (svc['spec'] as Record<string, unknown>)['clusterIP'] = '10.96.0.9';
    const headless = serviceFor('db', 'headless', 6379);
    (headless['spec'] as Record<string, unknown>)['clusterIP'] = 'None';
    const { tcp, issues } = build({
      services: [svc, serviceFor('db', 'empty'), headless],
      endpointSlices: [slice],
      ingressRouteTCPs: [
        tcpRoute('db', 'missing', {
          routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'nope', port: 1 }] }],
        }),
        tcpRoute('db', 'noport', { routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'redis' }] }] }),
        tcpRoute('db', 'badport', {
          routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'redis', port: 1 }] }],
        }),
        tcpRoute('db', 'nomatch', { routes: [{ services: [{ name: 'redis', port: 6379 }] }] }),
        tcpRoute('db', 'noservice', { routes: [{ match: 'HostSNI(`*`)' }] }),
        tcpRoute('db', 'empty', {
          routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'empty', port: 80 }] }],
        }),
        tcpRoute('db', 'crossst', {
          routes: [
            {
              match: 'HostSNI(`*`)',
              services: [{ name: 'redis', port: 6379, serversTransport: 'ops-t@kubernetescrd' }],
            },
          ],
        }),
        tcpRoute('db', 'native', {
          routes: [
            {
              match: 'HostSNI(`*`)',
              syntax: 'v3',
              services: [{ name: 'redis', port: 6379, nativeLB: true }],
            },
          ],
        }),
        tcpRoute('db', 'headless', {
          routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'headless', port: 6379, nativeLB: true }] }],
        }),
        tcpRoute('db', 'v2', {
          routes: [{ match: 'HostSNI(`*`)', syntax: 'v2', services: [{ name: 'redis', port: 6379 }] }],
        }),
        tcpRoute('db', 'notalist', { routes: { match: 'HostSNI(`*`)' } }),
        tcpRoute('db', 'servicesnotalist', { routes: [{ match: 'HostSNI(`*`)', services: 'redis' }] }),
      ],
    });
    const expect: [string, RegExp][] = [
      ['ingressroutetcp db/missing', /service db\/nope not found/],
      ['ingressroutetcp db/noport', /service db\/redis: the route gives no port/],
      ['ingressroutetcp db/badport', /service db\/redis has no port 1/],
      ['ingressroutetcp db/nomatch', /a route with an empty match/],
      ['ingressroutetcp db/noservice', /no service/],
      ['ingressroutetcp db/empty', /service db\/empty: no endpoints/],
      ['ingressroutetcp db/crossst', /serversTransport ops-t@kubernetescrd: .*allowCrossNamespace/],
      // nativeLB is the Service's cluster IP (Traefik's getNativeServiceAddress): a headless has none.
      ['ingressroutetcp db/headless', /nativeLB: no clusterIP on headless service db\/headless/],
      ['ingressroutetcp db/notalist', /routes must be a list/],
      ['ingressroutetcp db/servicesnotalist', /services must be a list/],
    ];
    for (const [where, re] of expect)
      assert.ok(
        issues.some((i) => i.startsWith(where) && re.test(i)),
        `${where} ${re}\n${issues.join('\n')}`,
      );
    const native = `db-native-${hash('HostSNI(`*`)')}`;
    const v2 = `db-v2-${hash('HostSNI(`*`)')}`;
    assert.deepEqual(Object.keys(tcp.routers).sort(), [native, v2].sort(), issues.join('\n'));
    // Traefik's RuleSyntax: route.Syntax, `v3` kept as given.
    assert.equal(tcp.routers[native]?.ruleSyntax, 'v3');
    assert.equal(tcp.routers[v2]?.ruleSyntax, 'v2');
    const lb = tcp.services[native];
    assert.ok(lb !== undefined && 'loadBalancer' in lb, JSON.stringify(lb));
    assert.deepEqual(
      (lb as { loadBalancer: { servers: { address: string }[] } }).loadBalancer.servers.map((x) => x.address),
      ['10.96.0.9:6379'],
    );
  });
});

describe('a route whose services cannot all be built', () => {
  // Traefik's loadIngressRouteTCPConfiguration / loadIngressRouteUDPConfiguration: "Cannot create
  // service" is logged and the route goes on with the services that could be built.
  it('is served by the services that could (TCP and UDP), and left out when none could', () => {
    const [svc, slice] = app('db', 'redis', ['10.0.0.1']);
    const twoServices = {
      services: [
        { name: 'redis', port: 6379, weight: 3 },
        { name: 'gone', port: 1 },
      ],
    };
    const { tcp, udp, issues } = build({
      services: [svc],
      endpointSlices: [slice],
      ingressRouteTCPs: [
        tcpRoute('db', 'half', { routes: [{ match: 'HostSNI(`*`)', ...twoServices }] }),
        tcpRoute('db', 'none', {
          routes: [
            {
              match: 'HostSNI(`*`)',
              services: [
                { name: 'gone', port: 1 },
                { name: 'nope', port: 2 },
              ],
            },
          ],
        }),
      ],
      ingressRouteUDPs: [crdObject('IngressRouteUDP', 'db', 'half', { routes: [twoServices] })],
    });
    const half = `db-half-${hash('HostSNI(`*`)')}`;
    assert.deepEqual(Object.keys(tcp.routers), [half], issues.join('\n'));
    for (const [services, name] of [
      [tcp.services, half],
      [udp.services, 'db-half-0'],
    ] as const) {
      const w = services[name];
      assert.ok(w?.kind === 'weighted', JSON.stringify(w));
      assert.deepEqual(
        w.weighted.services.map((x) => [x.name, x.weight]),
        [[`${name}-redis-6379`, 3]],
      );
      assert.equal(services[`${name}-gone-1`], undefined);
    }
    assert.deepEqual(Object.keys(udp.routers), ['db-half-0']);
    for (const where of ['ingressroutetcp db/half', 'ingressroutetcp db/none', 'ingressrouteudp db/half'])
      assert.ok(
        issues.some((i) => i.startsWith(where) && /service db\/gone not found/.test(i)),
        `${where}\n${issues.join('\n')}`,
      );
  });
});

describe('ServersTransportTCP and MiddlewareTCP → tcp configuration', () => {
  it('turns the TLS secrets into PEM, keeps the timeouts and proxyProtocol, and leaves out a transport whose secret is missing', () => {
    const ca = selfSignedCertificate(['ca.example']);
    const client = selfSignedCertificate(['client.example']);
    const { tcp, issues } = build({
      secrets: [
        secretFor('db', 'ca', { 'ca.crt': ca.certPem }),
        secretFor('db', 'client', { 'tls.crt': client.certPem, 'tls.key': client.keyPem }),
      ],
      serversTransportTCPs: [
        crdObject('ServersTransportTCP', 'db', 'secure', {
          dialTimeout: '5s',
          dialKeepAlive: '-1s',
          terminationDelay: '200ms',
          proxyProtocol: { version: 1 },
          tls: {
            serverName: 'backend.internal',
            insecureSkipVerify: false,
            rootCAs: [{ secret: 'ca' }],
            certificatesSecrets: ['client'],
          },
        }),
        crdObject('ServersTransportTCP', 'db', 'broken', { tls: { rootCAsSecrets: ['nope'] } }),
        crdObject('ServersTransportTCP', 'db', 'spiffe', { tls: { spiffe: { ids: ['spiffe://x/y'] } } }),
      ],
      middlewareTCPs: [
        crdObject('MiddlewareTCP', 'db', 'two', {
          ipAllowList: { sourceRange: ['10.0.0.1'] },
          inFlightConn: { amount: 1 },
        }),
      ],
    });
    const t = tcp.serversTransports['db-secure'];
    assert.equal(t?.dialTimeout, 5000);
    assert.equal(t?.dialKeepAlive, -1);
    assert.equal(t?.terminationDelay, 200);
    assert.equal(t?.proxyProtocol?.version, 1);
    assert.equal(t?.tls?.serverName, 'backend.internal');
    assert.deepEqual(t?.tls?.rootCAs, [ca.certPem]);
    assert.deepEqual(t?.tls?.certificates, [{ certFile: client.certPem, keyFile: client.keyPem }]);
    assert.equal(tcp.serversTransports['db-broken'], undefined);
    assert.ok(
      issues.some(
        (i) => i.startsWith('serverstransporttcp db/broken') && i.includes('secret db/nope not found'),
      ),
    );
    // Traefik's TLSClientConfig.Spiffe goes through as written.
    assert.deepEqual(tcp.serversTransports['db-spiffe']?.tls?.spiffe, { ids: ['spiffe://x/y'] });
    assert.equal(tcp.middlewares['db-two'], undefined);
    assert.ok(
      issues.some((i) => i.startsWith('middlewaretcp db/two') && i.includes('exactly one type')),
      issues.join('\n'),
    );
  });
});

describe('IngressRouteUDP → udp configuration', () => {
  it('names routers <ns>-<name>-<index>, one service per route, weighted when several', () => {
    const [dns, edns] = app('net', 'dns', ['10.0.0.53'], 53, 5353);
    const [echo, eecho] = app('net', 'echo', ['10.0.0.7', '10.0.0.8'], 7, 7007);
    const { udp, issues } = build({
      services: [dns, echo],
      endpointSlices: [edns, eecho],
      ingressRouteUDPs: [
        crdObject('IngressRouteUDP', 'net', 'udp.apps', {
          entryPoints: ['dns'],
          routes: [
            { services: [{ name: 'dns', port: 53 }] },
            {
              services: [
                { name: 'dns', port: 53, weight: 1 },
                { name: 'echo', port: 'tcp', weight: 2 },
              ],
            },
          ],
        }),
        crdObject('IngressRouteUDP', 'net', 'broken', {
          routes: [{ services: [{ name: 'gone', port: 1 }] }],
        }),
      ],
    });
    assert.deepEqual(Object.keys(udp.routers).sort(), ['net-udp.apps-0', 'net-udp.apps-1']);
    assert.deepEqual(udp.routers['net-udp.apps-0'], { entryPoints: ['dns'], service: 'net-udp.apps-0' });
    const one = udp.services['net-udp.apps-0'];
    assert.ok(one?.kind === 'loadBalancer');
    assert.deepEqual(one.loadBalancer.servers, [{ address: '10.0.0.53:5353' }]);
    const w = udp.services['net-udp.apps-1'];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((x) => [x.name, x.weight]),
      [
        ['net-udp.apps-1-dns-53', 1],
        ['net-udp.apps-1-echo-tcp', 2],
      ],
    );
    const e = udp.services['net-udp.apps-1-echo-tcp'];
    assert.ok(e?.kind === 'loadBalancer');
    assert.deepEqual(
      e.loadBalancer.servers.map((s) => s.address),
      ['10.0.0.7:7007', '10.0.0.8:7007'],
    );
    assert.ok(
      issues.some(
        (i) => i.startsWith('ingressrouteudp net/broken') && i.includes('service net/gone not found'),
      ),
    );
  });
});
