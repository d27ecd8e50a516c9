import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  secretFor,
  serviceFor,
  tcpRouteFor,
  tlsRouteFor,
} from '../../../test/helpers/kube-objects.ts';
import { formatIssue } from '../../config/issues.ts';
import { type GatewayObjects, type GatewayOptions, gatewayConfig, gatewayUpdate } from './gateway-config.ts';
import { hostSNIRule } from './gateway-l4.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';

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

function build(objs: Partial<Record<keyof GatewayObjects, unknown[]>>, opts: Partial<GatewayOptions> = {}) {
  const b = gatewayConfig(
    {
      gatewayClasses: ko(objs.gatewayClasses ?? [gatewayClassFor()]),
      gateways: ko(objs.gateways),
      httpRoutes: ko(objs.httpRoutes),
      tcpRoutes: ko(objs.tcpRoutes),
      tlsRoutes: ko(objs.tlsRoutes),
      services: ko(objs.services),
      endpointSlices: ko(objs.endpointSlices),
      secrets: ko(objs.secrets),
      referenceGrants: ko(objs.referenceGrants),
      configMaps: ko(objs.configMaps),
      backendTLSPolicies: ko(objs.backendTLSPolicies),
    },
    {
      allowEmptyServices: false,
      allowExternalNameServices: false,
      entryPointPorts: { web: 8000, tcp: 9000, tls: 9443 },
      ...opts,
    },
  );
  const u = gatewayUpdate(b, 'kubernetesgateway', { knownProviders: ['kubernetescrd', 'file'] });
  // The routes' routers only: the listener routers (gateway-isolation.ts) are tested beside.
  const config = u.config!;
  const routers = Object.fromEntries(
    Object.entries(config.http.routers).filter(([n]) => !n.startsWith('listener-')),
  );
  return {
    config: { ...config, http: { ...config.http, routers } },
    issues: u.issues.map(formatIssue),
    statuses: b.statuses,
    data: b.data,
  };
}

const conds = (c: unknown): string[] =>
  ((c ?? []) as { type: string; status: string; reason: string }[]).map(
    (x) => `${x.type}=${x.status}/${x.reason}`,
  );
const statusOf = (statuses: readonly StatusUpdate[], kind: string, name: string): StatusUpdate => {
  const s = statuses.find((u) => u.kind === kind && u.object.metadata.name === name);
  assert.ok(s, `${kind} ${name} has a status`);
  return s;
};
const parentConds = (s: StatusUpdate): string[][] =>
  (s.status['parents'] as { conditions: unknown }[]).map((p) => conds(p.conditions));

/** A Service `name` whose port `port` (named `main`) has the endpoints `ips` on `target`. */
function svc(ns: string, name: string, port: number, ips: string[], target: number): unknown[] {
  const s = serviceFor(ns, name, port);
  (s['spec'] as { ports: { name: string }[] }).ports[0]!.name = 'main';
  const e = endpointSliceFor(ns, name, ips, target);
  (e['ports'] as { name: string }[])[0]!.name = 'main';
  return [s, e];
}

const tcpGateway = gatewayFor('default', 'gw', [
  { name: 'tcp', port: 9000, protocol: 'TCP' },
  { name: 'pass', port: 9443, protocol: 'TLS', hostname: '*.example.com', tls: { mode: 'Passthrough' } },
  { name: 'http', port: 8000, protocol: 'HTTP' },
]);

describe('Gateway API TCPRoute and TLSRoute (v1) → TCP configuration', () => {
  it('routes a TCPRoute on a TCP listener: HostSNI(`*`), a weighted service over its backendRefs', () => {
    const [a, aSlice] = svc('default', 'db', 5432, ['10.0.0.1', '10.0.0.2'], 15432);
    const [b, bSlice] = svc('default', 'db2', 5432, ['10.0.0.3'], 15432);
    const { config, issues, statuses } = build({
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'pg', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [
            {
              backendRefs: [
                { name: 'db', port: 5432, weight: 3 },
                { name: 'db2', port: 5432 },
              ],
            },
          ],
        }),
      ],
      services: [a, b],
      endpointSlices: [aSlice, bSlice],
    });
    assert.deepEqual(issues, []);
    const name = `${rn('tcproute-default-pg-gw-default-gw-ep-tcp-0')}`;
    const r = config.tcp!.routers[name];
    assert.ok(r, Object.keys(config.tcp!.routers).join());
    assert.equal(r.rule, 'HostSNI(`*`)');
    assert.deepEqual(r.entryPoints, ['tcp']);
    assert.equal(r.ruleSyntax, 'default');
    assert.equal(r.tls, undefined);
    assert.equal(r.service, `${name}-wrr`);
    const w = config.tcp!.services[`${name}-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((s) => [s.name, s.weight]),
      [
        // Traefik's loadTCPService (traefik/traefik#13367): `<router>-svc-<ns>-<name>-<index>`.
        [`${name}-svc-default-db-0`, 3],
        [`${name}-svc-default-db2-1`, 1],
      ],
    );
    const lb = config.tcp!.services[`${name}-svc-default-db-0`];
    assert.ok(lb?.kind === 'loadBalancer');
    assert.deepEqual(
      lb.loadBalancer.servers.map((s) => s.address),
      ['10.0.0.1:15432', '10.0.0.2:15432'],
    );
    const st = statusOf(statuses, 'TCPRoute', 'pg');
    // Written at `v1`, the version Traefik v3.8 reads (the v1.6.1 Standard CRDs serve no other).
    assert.equal(st.path, '/apis/gateway.networking.k8s.io/v1/namespaces/default/tcproutes/pg');
    assert.equal(st.apiVersion, undefined);
    assert.deepEqual(parentConds(st), [['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']]);
    const gw = statusOf(statuses, 'Gateway', 'gw').status['listeners'] as {
      name: string;
      attachedRoutes: number;
      supportedKinds: { kind: string }[];
      conditions: unknown;
    }[];
    assert.deepEqual(
      gw.map((l) => [l.name, l.attachedRoutes, l.supportedKinds.map((k) => k.kind), conds(l.conditions)]),
      [
        [
          'tcp',
          1,
          ['TCPRoute'],
          ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ],
        [
          'pass',
          0,
          ['TLSRoute'],
          ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ],
        [
          'http',
          0,
          ['HTTPRoute', 'GRPCRoute'],
          ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ],
      ],
    );
  });

  it('routes a TLSRoute by SNI: passthrough as its listener`s mode, hostnames within the listener`s', () => {
    const [a, aSlice] = svc('default', 'app', 443, ['10.0.0.1'], 8443);
    const { config, statuses, issues } = build({
      gateways: [tcpGateway],
      tlsRoutes: [
        tlsRouteFor('default', 'sni', {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['a.example.com', '*.b.example.com', 'other.org'],
          rules: [{ backendRefs: [{ name: 'app', port: 443 }] }],
        }),
        tlsRouteFor('default', 'nohost', {
          parentRefs: [{ name: 'gw', sectionName: 'pass' }],
          hostnames: ['x.other.org'],
          rules: [{ backendRefs: [{ name: 'app', port: 443 }] }],
        }),
      ],
      services: [a],
      endpointSlices: [aSlice],
    });
    const name = `${rn('tlsroute-default-sni-gw-default-gw-ep-tls-0')}`;
    const r = config.tcp!.routers[name];
    assert.ok(r, Object.keys(config.tcp!.routers).join());
    assert.equal(r.rule, 'HostSNI(`a.example.com`) || HostSNIRegexp(`^[a-z0-9-\\.]+\\.b\\.example\\.com$`)');
    assert.equal(r.priority, 14);
    assert.deepEqual(r.tls?.passthrough, true);
    assert.deepEqual(
      Object.keys(config.tcp!.routers),
      [name, 'deny-unknown-host'],
      'the TCP and HTTP listeners do not take it',
    );
    // Traefik's loadTLSRoutes: with a TLS route, the TLS connections of no route's SNI (but the
    // HTTPS clients') are closed, on every entry point.
    const deny = config.tcp!.routers['deny-unknown-host'];
    assert.equal(deny?.rule, 'HostSNI(`*`) && !ALPN(`h2`) && !ALPN(`http/1.1`)');
    assert.equal(deny?.priority, 1);
    assert.equal(deny?.entryPoints, undefined);
    assert.equal(deny?.tls?.passthrough, false);
    assert.equal(deny?.service, 'deny-unknown-host');
    const lb = config.tcp!.services['deny-unknown-host'];
    assert.ok(lb?.kind === 'loadBalancer');
    assert.deepEqual(lb.loadBalancer.servers, []);
    // Without servers on purpose: no warning.
    assert.deepEqual(issues, []);
    assert.deepEqual(parentConds(statusOf(statuses, 'TLSRoute', 'sni')), [
      ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
    ]);
    assert.deepEqual(parentConds(statusOf(statuses, 'TLSRoute', 'nohost')), [
      ['Accepted=False/NoMatchingListenerHostname', 'ResolvedRefs=True/ResolvedRefs'],
    ]);
  });

  it('terminates TLS on a TLS listener in Terminate mode: its certificate, a TCP router with tls; a TCPRoute is not taken there', () => {
    const [a, aSlice] = svc('default', 'app', 7, ['10.0.0.1'], 7007);
    const { config, data, statuses } = build({
      gateways: [
        gatewayFor('default', 'gw', [
          {
            name: 'term',
            port: 9443,
            protocol: 'TLS',
            tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert', kind: 'Secret', group: '' }] },
          },
        ]),
      ],
      tlsRoutes: [
        tlsRouteFor('default', 't', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ name: 'app', port: 7 }] }],
        }),
      ],
      // Traefik v3.8's supportedRouteKinds (Gateway API v1.5): a TLS listener takes TLSRoutes only.
      tcpRoutes: [
        tcpRouteFor('default', 'plain', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ name: 'app', port: 7 }] }],
        }),
      ],
      services: [a],
      endpointSlices: [aSlice],
      secrets: [secretFor('default', 'cert', { 'tls.crt': 'CERT', 'tls.key': 'KEY' })],
    });
    void config;
    const routers = (data['tcp'] as { routers: Record<string, { tls?: unknown }> }).routers;
    assert.deepEqual(Object.keys(routers), [
      rn('tlsroute-default-t-gw-default-gw-ep-tls-0'),
      'deny-unknown-host',
    ]);
    assert.deepEqual(routers[`${rn('tlsroute-default-t-gw-default-gw-ep-tls-0')}`]?.tls, {});
    assert.deepEqual(parentConds(statusOf(statuses, 'TCPRoute', 'plain')), [
      ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'],
    ]);
    assert.deepEqual((data['tls'] as { certificates: unknown[] }).certificates, [
      { certFile: 'CERT', keyFile: 'KEY' },
    ]);
    assert.deepEqual(parentConds(statusOf(statuses, 'TLSRoute', 't')), [
      ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
    ]);
  });

  it('applies a BackendTLSPolicy to a terminated TLSRoute`s backends: a TCP serversTransport, tls servers (traefik/traefik#13332)', () => {
    const [a, aSlice] = svc('default', 'app', 7, ['10.0.0.1'], 7007);
    const listener = (name: string, port: number, mode: string) => ({
      name,
      port,
      protocol: 'TLS',
      hostname: `${name}.example`,
      tls: { mode, certificateRefs: [{ name: 'cert', kind: 'Secret', group: '' }] },
    });
    const { data, statuses, issues } = build(
      {
        gateways: [gatewayFor('default', 'gw', [listener('term', 9443, 'Terminate')])],
        tlsRoutes: [
          tlsRouteFor('default', 't', {
            parentRefs: [{ name: 'gw' }],
            rules: [{ backendRefs: [{ name: 'app', port: 7 }] }],
          }),
        ],
        services: [a],
        endpointSlices: [aSlice],
        secrets: [secretFor('default', 'cert', { 'tls.crt': 'CERT', 'tls.key': 'KEY' })],
        configMaps: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'ca', namespace: 'default' },
            data: { 'ca.crt': 'CA' },
          },
        ],
        backendTLSPolicies: [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'BackendTLSPolicy',
            metadata: { name: 'p', namespace: 'default', generation: 1 },
            spec: {
              targetRefs: [{ group: '', kind: 'Service', name: 'app' }],
              validation: {
                hostname: 'app.internal',
                caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
              },
            },
          },
        ],
      },
      { entryPointPorts: { tls: 9443 } },
    );
    assert.deepEqual(issues, []);
    const tcp = data['tcp'] as {
      services: Record<string, { loadBalancer?: unknown; weighted?: { services: { name: string }[] } }>;
      serversTransports?: Record<string, unknown>;
      routers: Record<string, { service: string }>;
    };
    // Traefik's loadTLSService (traefik/traefik#13367): the transport is named as the service.
    const router = Object.keys(tcp.routers).find((n) => n.startsWith('tlsroute-default-t-'))!;
    const own = `${router}-svc-default-app-0`;
    assert.deepEqual(tcp.serversTransports, {
      [own]: { tls: { serverName: 'app.internal', rootCAs: ['CA'] } },
    });
    assert.deepEqual(tcp.services[own]?.loadBalancer, {
      servers: [{ address: '10.0.0.1:7007', tls: true }],
      serversTransport: own,
    });
    const st = statuses.find((x) => x.kind === 'BackendTLSPolicy')?.status as {
      ancestors: { ancestorRef: { sectionName: string }; conditions: { type: string; status: string }[] }[];
    };
    assert.deepEqual(
      st.ancestors.map((x) => [x.ancestorRef.sectionName, x.conditions.map((c) => `${c.type}=${c.status}`)]),
      [['term', ['ResolvedRefs=True', 'Accepted=True']]],
    );
  });

  it('refuses a backendRef as Traefik does: an empty `-err-lb` keeps its weight, ResolvedRefs says why', () => {
    const [a, aSlice] = svc('default', 'app', 7, ['10.0.0.1'], 7007);
    const [o, oSlice] = svc('other', 'far', 7, ['10.0.0.9'], 7007);
    const { config, statuses, issues } = build({
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'mixed', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [
            {
              backendRefs: [
                { name: 'app', port: 7, weight: 2 },
                { name: 'far', namespace: 'other', port: 7, weight: 5 },
              ],
            },
          ],
        }),
        tcpRouteFor('default', 'noport', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [{ backendRefs: [{ name: 'app' }] }],
        }),
        tcpRouteFor('default', 'missing', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [{ backendRefs: [{ name: 'nope', port: 7 }] }],
        }),
      ],
      services: [a, o],
      endpointSlices: [aSlice, oSlice],
    });
    const name = `${rn('tcproute-default-mixed-gw-default-gw-ep-tcp-0')}`;
    const w = config.tcp!.services[`${name}-wrr`];
    assert.ok(w?.kind === 'weighted');
    assert.deepEqual(
      w.weighted.services.map((s) => [s.name, s.weight]),
      [
        [`${name}-svc-default-app-0`, 2],
        [`${name}-err-lb`, 5],
      ],
    );
    const err = config.tcp!.services[`${name}-err-lb`];
    assert.ok(err?.kind === 'loadBalancer');
    assert.deepEqual(err.loadBalancer.servers, []);
    const reasons = (n: string) =>
      (
        statusOf(statuses, 'TCPRoute', n).status['parents'] as {
          conditions: { reason: string; message: string }[];
        }[]
      )[0]!.conditions[1]!;
    assert.equal(reasons('mixed').reason, 'RefNotPermitted');
    assert.equal(
      reasons('mixed').message,
      'Cannot load TCPRoute BackendRef core/Service/other/far: missing ReferenceGrant',
    );
    assert.equal(reasons('noport').reason, 'UnsupportedProtocol');
    assert.equal(reasons('missing').reason, 'BackendNotFound');
    assert.equal(
      reasons('missing').message,
      'Cannot load TCPRoute BackendRef default/nope: service not found',
    );
    assert.ok(
      issues.some((i) => /tcproute default\/mixed: .*missing ReferenceGrant/.test(i)),
      String(issues),
    );
    assert.ok(!issues.some((i) => /err-lb/.test(i)), String(issues));

    // A ReferenceGrant from TCPRoute in `default` lets it through.
    const granted = build({
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'mixed', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [{ backendRefs: [{ name: 'far', namespace: 'other', port: 7 }] }],
        }),
      ],
      services: [o],
      endpointSlices: [oSlice],
      referenceGrants: [
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'ReferenceGrant',
          metadata: { name: 'g', namespace: 'other' },
          spec: {
            from: [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute', namespace: 'default' }],
            to: [{ group: '', kind: 'Service' }],
          },
        },
      ],
    });
    const gw = granted.config.tcp!.services[`${name}-wrr`];
    assert.ok(gw?.kind === 'weighted');
    assert.deepEqual(
      gw.weighted.services.map((s) => s.name),
      [`${name}-svc-other-far-0`],
    );
  });

  it('keeps listener kinds apart: an HTTPRoute on a TCP listener, a TCPRoute on an HTTP one, are not allowed', () => {
    const [a, aSlice] = svc('default', 'app', 7, ['10.0.0.1'], 7007);
    const { config, statuses } = build({
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'onhttp', {
          parentRefs: [{ name: 'gw', sectionName: 'http' }],
          rules: [{ backendRefs: [{ name: 'app', port: 7 }] }],
        }),
      ],
      httpRoutes: [
        httpRouteFor('default', 'ontcp', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [{ backendRefs: [{ name: 'app', port: 7 }] }],
        }),
      ],
      services: [a],
      endpointSlices: [aSlice],
    });
    assert.deepEqual(Object.keys(config.tcp?.routers ?? {}), []);
    assert.deepEqual(Object.keys(config.http.routers), []);
    assert.equal(
      parentConds(statusOf(statuses, 'TCPRoute', 'onhttp'))[0]![0],
      'Accepted=False/NotAllowedByListeners',
    );
    assert.equal(
      conds(
        (statusOf(statuses, 'HTTPRoute', 'ontcp').status['parents'] as { conditions: unknown }[])[0]!
          .conditions,
      )[0],
      'Accepted=False/NotAllowedByListeners',
    );
  });

  it('keeps an HTTPRoute accepted by the HTTP listener when a TCP listener after it does not take it', () => {
    const [a, aSlice] = svc('default', 'app', 80, ['10.0.0.1'], 8080);
    const { config, statuses } = build({
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'http', port: 8000, protocol: 'HTTP' },
          { name: 'tcp', port: 9000, protocol: 'TCP' },
        ]),
      ],
      httpRoutes: [
        httpRouteFor('default', 'web', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
        }),
      ],
      services: [a],
      endpointSlices: [aSlice],
    });
    assert.equal(Object.keys(config.http.routers).length, 1);
    assert.deepEqual(
      conds(
        (statusOf(statuses, 'HTTPRoute', 'web').status['parents'] as { conditions: unknown }[])[0]!
          .conditions,
      ),
      ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
    );
  });

  it('reads TCPRoutes and takes TCP and TLS listeners with or without experimentalChannel (Traefik v3.8)', () => {
    const [a, aSlice] = svc('default', 'app', 7, ['10.0.0.1'], 7007);
    const objs = {
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'pg', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [{ backendRefs: [{ name: 'app', port: 7 }] }],
        }),
      ],
      services: [a],
      endpointSlices: [aSlice],
    };
    const without = build(objs, { experimentalChannel: false });
    const withIt = build(objs, { experimentalChannel: true });
    assert.deepEqual(without.data, withIt.data);
    assert.deepEqual(Object.keys(without.config.tcp!.routers), [
      rn('tcproute-default-pg-gw-default-gw-ep-tcp-0'),
    ]);
    assert.deepEqual(parentConds(statusOf(without.statuses, 'TCPRoute', 'pg')), [
      ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
    ]);
    const listeners = statusOf(without.statuses, 'Gateway', 'gw').status['listeners'] as {
      conditions: unknown;
    }[];
    for (const l of listeners.slice(0, 2))
      assert.deepEqual(conds(l.conditions), [
        'Accepted=True/Accepted',
        'ResolvedRefs=True/ResolvedRefs',
        'Programmed=True/Programmed',
      ]);
  });

  it('refuses listeners as Traefik`s loadGatewayListeners: tls on TCP, none on TLS, HTTPS passthrough, allowedRoutes.kinds', () => {
    const { statuses } = build({
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'a', port: 9000, protocol: 'TCP', tls: { mode: 'Passthrough' } },
          { name: 'b', port: 9443, protocol: 'TLS' },
          { name: 'c', port: 9443, protocol: 'HTTPS', tls: { mode: 'Passthrough' } },
          { name: 'd', port: 9443, protocol: 'TLS', hostname: 'd.example', tls: { mode: 'Terminate' } },
          {
            name: 'e',
            port: 9000,
            protocol: 'TCP',
            allowedRoutes: { kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] },
          },
          {
            name: 'f',
            port: 9443,
            protocol: 'TLS',
            hostname: 'f.example',
            tls: { mode: 'Passthrough' },
            allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] },
          },
          // Same protocol, hostname and port as f: HostnameConflict.
          { name: 'g', port: 9443, protocol: 'TLS', hostname: 'f.example', tls: { mode: 'Passthrough' } },
        ]),
      ],
    });
    const listeners = statusOf(statuses, 'Gateway', 'gw').status['listeners'] as {
      name: string;
      supportedKinds: { kind: string }[];
      conditions: unknown;
    }[];
    assert.deepEqual(
      listeners.map((l) => [l.name, conds(l.conditions)[0], l.supportedKinds.map((k) => k.kind)]),
      [
        ['a', 'Accepted=False/InvalidTLSConfiguration', ['TCPRoute']],
        ['b', 'Accepted=False/InvalidTLSConfiguration', ['TLSRoute']],
        ['c', 'Accepted=False/UnsupportedProtocol', ['HTTPRoute', 'GRPCRoute']],
        ['d', 'ResolvedRefs=False/InvalidCertificateRef', ['TLSRoute']],
        ['e', 'ResolvedRefs=False/InvalidRouteKinds', []],
        ['f', 'Accepted=True/Accepted', ['TLSRoute']],
        ['g', 'Accepted=False/HostnameConflict', ['TLSRoute']],
      ],
    );
    assert.deepEqual(conds(listeners[6]!.conditions), [
      'Accepted=False/HostnameConflict',
      'Programmed=False/HostnameConflict',
      'Conflicted=True/HostnameConflict',
    ]);
    // No certificateRefs: that error only (Traefik v3.8's loadGatewayListeners).
    assert.deepEqual(conds(listeners[3]!.conditions), ['ResolvedRefs=False/InvalidCertificateRef']);
    assert.deepEqual(conds(listeners[0]!.conditions), ['Accepted=False/InvalidTLSConfiguration']);
  });

  it('honours crossProviderNamespaces: another provider`s TraefikService only from the namespaces listed', () => {
    const objs = {
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'int', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [{ backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'x@internal' }] }],
        }),
        tcpRouteFor('default', 'file', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [
            {
              backendRefs: [
                { group: 'traefik.io', kind: 'TraefikService', name: 'db@file', weight: 2 },
                { group: 'traefik.io', kind: 'TraefikService', name: 'db2@file' },
              ],
            },
          ],
        }),
      ],
      httpRoutes: [
        httpRouteFor('default', 'web', {
          parentRefs: [{ name: 'gw', sectionName: 'http' }],
          rules: [{ backendRefs: [{ group: 'traefik.io', kind: 'TraefikService', name: 'svc@file' }] }],
        }),
      ],
    };
    const open = build(objs);
    const intName = `${rn('tcproute-default-int-gw-default-gw-ep-tcp-0')}`;
    assert.equal(
      open.data['tcp'] &&
        (open.data['tcp'] as { routers: Record<string, { service: string }> }).routers[intName]?.service,
      'x@internal',
    );
    const web = (
      open.data['http'] as { services: Record<string, { weighted?: { services: { name: string }[] } }> }
    ).services;
    assert.deepEqual(
      Object.values(web).flatMap((s) => s.weighted?.services.map((c) => c.name) ?? []),
      ['svc@file'],
    );

    const closed = build(objs, { crossProviderNamespaces: ['trusted'] });
    const tcp = closed.data['tcp'] as { routers: Record<string, unknown>; services: Record<string, unknown> };
    assert.equal(tcp.routers[intName], undefined);
    const fileWrr = tcp.services[`${rn('tcproute-default-file-gw-default-gw-ep-tcp-0')}-wrr`] as {
      weighted: { services: { name: string; weight: number }[] };
    };
    assert.deepEqual(
      fileWrr.weighted.services.map((c) => [c.name, c.weight]),
      [
        [`${rn('tcproute-default-file-gw-default-gw-ep-tcp-0')}-err-lb`, 2],
        [`${rn('tcproute-default-file-gw-default-gw-ep-tcp-0')}-err-lb`, 1],
      ],
    );
    const reason = (kind: string, name: string) =>
      (
        statusOf(closed.statuses, kind, name).status['parents'] as {
          conditions: { reason: string; message: string }[];
        }[]
      )[0]!.conditions[1]!;
    assert.equal(reason('TCPRoute', 'int').reason, 'RefNotPermitted');
    assert.match(reason('TCPRoute', 'int').message, /namespace "default" is not in crossProviderNamespaces/);
    assert.equal(reason('TCPRoute', 'file').reason, 'RefNotPermitted');
    assert.equal(reason('HTTPRoute', 'web').reason, 'RefNotPermitted');
    // Traefik keeps the HTTP rule, the refused TraefikService a child answering 500.
    const closedWeb = (
      closed.data['http'] as { services: Record<string, { weighted?: { services: object[] } }> }
    ).services;
    // Named after its router, normalized for the `@` (Traefik's loadTCPService does so).
    const webRouter = Object.keys((closed.data['http'] as { routers: object }).routers).find((n) =>
      n.startsWith('httproute-default-web-'),
    );
    assert.deepEqual(
      Object.values(closedWeb).flatMap((s) => s.weighted?.services ?? []),
      [{ name: `${webRouter}-svc-default-svc-file-0`, weight: 1, status: 500 }],
    );

    const trusted = build(objs, { crossProviderNamespaces: ['default'] });
    assert.ok((trusted.data['tcp'] as { routers: Record<string, unknown> }).routers[intName]);
  });

  it('refuses a cross-provider TraefikService backendRef that names a namespace (traefik/traefik#13322)', () => {
    const r = build({
      gateways: [tcpGateway],
      tcpRoutes: [
        tcpRouteFor('default', 'ns', {
          parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
          rules: [
            {
              backendRefs: [
                { group: 'traefik.io', kind: 'TraefikService', name: 'db@file', namespace: 'default' },
              ],
            },
          ],
        }),
      ],
    });
    const router = rn('tcproute-default-ns-gw-default-gw-ep-tcp-0');
    const tcp = r.data['tcp'] as {
      services: Record<string, { weighted?: { services: { name: string }[] } }>;
    };
    assert.deepEqual(
      tcp.services[`${router}-wrr`]?.weighted?.services.map((c) => c.name),
      [`${router}-err-lb`],
    );
    const c = (
      statusOf(r.statuses, 'TCPRoute', 'ns').status['parents'] as {
        conditions: { reason: string; message: string }[];
      }[]
    )[0]!.conditions[1]!;
    assert.equal(c.reason, 'RefNotPermitted');
    assert.match(c.message, /namespace is not allowed with a cross-provider reference/);
  });

  it('scopes the provider as Traefik`s gateways, gatewayClasses and disableGatewayClassStatus options', () => {
    const [a, aSlice] = svc('default', 'app', 80, ['10.0.0.1'], 8080);
    const objs = {
      gatewayClasses: [gatewayClassFor(), gatewayClassFor('second')],
      gateways: [
        gatewayFor('default', 'one', [{ name: 'http', port: 8000, protocol: 'HTTP' }]),
        gatewayFor('default', 'two', [{ name: 'http', port: 8000, protocol: 'HTTP' }], 'second'),
      ],
      httpRoutes: ['one', 'two'].map((g) =>
        httpRouteFor('default', `to-${g}`, {
          parentRefs: [{ name: g }],
          hostnames: [`${g}.example`],
          rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
        }),
      ),
      services: [a],
      endpointSlices: [aSlice],
    };
    const handled = (r: ReturnType<typeof build>) =>
      r.statuses.map((u) => `${u.kind} ${u.object.metadata.name}`).sort();
    assert.deepEqual(handled(build(objs)), [
      'Gateway one',
      'Gateway two',
      'GatewayClass second',
      'GatewayClass traefik',
      'HTTPRoute to-one',
      'HTTPRoute to-two',
    ]);
    const byName = build(objs, { gateways: ['default/two'] });
    assert.deepEqual(handled(byName), [
      'Gateway two',
      'GatewayClass second',
      'GatewayClass traefik',
      'HTTPRoute to-two',
    ]);
    assert.deepEqual(
      Object.values(byName.config.http.routers).map((r) => r.rule),
      ['Host(`two.example`) && PathPrefix(`/`)'],
    );
    const byClass = build(objs, { gatewayClasses: ['traefik'], disableGatewayClassStatus: true });
    assert.deepEqual(handled(byClass), ['Gateway one', 'HTTPRoute to-one']);
  });

  it('builds Traefik`s hostSNIRule', () => {
    assert.deepEqual(hostSNIRule([]), { rule: 'HostSNI(`*`)', priority: 0 });
    assert.deepEqual(hostSNIRule(['a.b', 'a.b', '*.c.d']), {
      rule: 'HostSNI(`a.b`) || HostSNIRegexp(`^[a-z0-9-\\.]+\\.c\\.d$`)',
      priority: 4,
    });
  });
});
