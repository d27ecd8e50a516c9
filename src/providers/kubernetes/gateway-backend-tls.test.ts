import assert from 'node:assert/strict';
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
import { type GatewayObjects, type GatewayOptions, gatewayConfig, gatewayUpdate } from './gateway-config.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';

const ko = (x: unknown[] | undefined): KubeObject[] => (x ?? []) as KubeObject[];

function build(objs: Partial<Record<keyof GatewayObjects, unknown[]>>, opts: Partial<GatewayOptions> = {}) {
  const b = gatewayConfig(
    {
      gatewayClasses: ko([gatewayClassFor()]),
      gateways: ko(
        objs.gateways ?? [gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }])],
      ),
      httpRoutes: ko(
        objs.httpRoutes ?? [
          httpRouteFor('default', 'app', {
            parentRefs: [{ name: 'gw' }],
            rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
          }),
        ],
      ),
      services: ko([serviceFor('default', 'secure', 8443)]),
      endpointSlices: ko([endpointSliceFor('default', 'secure', ['10.0.0.1'], 9443)]),
      secrets: ko(objs.secrets),
      backendTLSPolicies: ko(objs.backendTLSPolicies),
      configMaps: ko(objs.configMaps),
      grpcRoutes: ko(objs.grpcRoutes),
    },
    {
      allowEmptyServices: false,
      allowExternalNameServices: false,
      entryPointPorts: { web: 8000 },
      ...opts,
    },
  );
  const u = gatewayUpdate(b, 'kubernetesgateway', { knownProviders: [] });
  return { config: u.config!, issues: u.issues.map(formatIssue), statuses: b.statuses, data: b.data };
}

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function policy(name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z'): unknown {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'BackendTLSPolicy',
    metadata: { name, namespace: 'default', creationTimestamp: created, generation: 1 },
    spec,
  };
}

const caMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'ca', namespace: 'default' },
  data: { 'ca.crt': CA },
};

const target = { group: '', kind: 'Service', name: 'secure' };

/**
 * The one service of the backendRef to `secure`: Traefik's `<router>-svc-<ns>-<name>-<backendRef
 * index>` (traefik/traefik#13367), which also names its policy's serversTransport.
 */
const secureService = (data: Record<string, unknown>): string => {
  const names = Object.keys((data['http'] as { services: Record<string, unknown> }).services).filter((n) =>
    n.endsWith('-svc-default-secure-0'),
  );
  assert.equal(names.length, 1, String(names));
  return names[0]!;
};

const ancestors = (statuses: readonly StatusUpdate[], name: string): string[][] => {
  const s = statuses.find((u) => u.kind === 'BackendTLSPolicy' && u.object.metadata.name === name);
  assert.ok(s, `BackendTLSPolicy ${name} has a status`);
  assert.equal(s.path, `/apis/gateway.networking.k8s.io/v1/namespaces/default/backendtlspolicies/${name}`);
  return (
    s.status['ancestors'] as {
      ancestorRef: { name: string; sectionName: string };
      conditions: { type: string; status: string; reason: string }[];
    }[]
  ).map((a) => [
    `${a.ancestorRef.name}/${a.ancestorRef.sectionName}`,
    ...a.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
  ]);
};

describe('Gateway API BackendTLSPolicy (v1) → serversTransport', () => {
  it('gives the backend a serversTransport with the policy`s hostname and CA, and https servers', () => {
    const { data, statuses, issues } = build({
      configMaps: [caMap],
      backendTLSPolicies: [
        policy('tls', {
          targetRefs: [target],
          validation: {
            hostname: 'secure.internal',
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
          },
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const http = data['http'] as {
      services: Record<string, { loadBalancer: { servers: { url: string }[]; serversTransport?: string } }>;
      serversTransports: Record<string, unknown>;
    };
    // Traefik (traefik/traefik#13367): the transport is named as the service using it.
    const svc = secureService(data);
    assert.deepEqual(http.services[svc]?.loadBalancer, {
      servers: [{ url: 'https://10.0.0.1:9443' }],
      serversTransport: svc,
    });
    assert.deepEqual(Object.keys(http.serversTransports), [svc]);
    assert.deepEqual(http.serversTransports[svc], {
      serverName: 'secure.internal',
      rootCAs: [CA],
    });
    assert.deepEqual(ancestors(statuses, 'tls'), [
      ['gw/http', 'ResolvedRefs=True/ResolvedRefs', 'Accepted=True/Accepted'],
    ]);
  });

  it('records the policy`s ancestors for each listener of the route`s parent Gateway, the route attached there or not (Traefik v3.8 loadHTTPRoutes)', () => {
    const { statuses } = build({
      gateways: [
        gatewayFor('default', 'gw', [
          { name: 'http', port: 8000, protocol: 'HTTP' },
          { name: 'other', port: 8000, protocol: 'HTTP', hostname: 'other.example' },
        ]),
      ],
      httpRoutes: [
        httpRouteFor('default', 'app', {
          parentRefs: [{ name: 'gw', sectionName: 'http' }],
          rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
        }),
      ],
      configMaps: [caMap],
      backendTLSPolicies: [
        policy('tls', {
          targetRefs: [target],
          validation: {
            hostname: 'secure.internal',
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
          },
        }),
      ],
    });
    assert.deepEqual(ancestors(statuses, 'tls'), [
      ['gw/http', 'ResolvedRefs=True/ResolvedRefs', 'Accepted=True/Accepted'],
      ['gw/other', 'ResolvedRefs=True/ResolvedRefs', 'Accepted=True/Accepted'],
    ]);
  });

  it('orders the ancestors as Traefik v3.8 writes them: one recorded again goes last; then other controllers`, then ours not recorded this time', () => {
    const tls = policy('tls', {
      targetRefs: [target],
      validation: {
        hostname: 'secure.internal',
        caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
      },
    }) as { status?: unknown };
    const ref = (name: string, sectionName: string) => ({
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'default',
      name,
      sectionName,
    });
    const accepted = [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }];
    tls.status = {
      ancestors: [
        {
          ancestorRef: ref('gone', 'http'),
          controllerName: 'traefik.io/gateway-controller',
          conditions: accepted,
        },
        { ancestorRef: ref('theirs', 'http'), controllerName: 'example.com/other', conditions: accepted },
      ],
    };
    const { statuses } = build({
      gateways: [
        gatewayFor('default', 'gw', [{ name: 'http', port: 8000, protocol: 'HTTP' }]),
        gatewayFor('default', 'gw2', [{ name: 'http', port: 8000, protocol: 'HTTP' }]),
      ],
      httpRoutes: [
        // Recorded for gw then gw2, then for gw again by the second route.
        httpRouteFor('default', 'a1', {
          parentRefs: [{ name: 'gw' }, { name: 'gw2' }],
          rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
        }),
        httpRouteFor('default', 'a2', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
        }),
      ],
      configMaps: [caMap],
      backendTLSPolicies: [tls],
    });
    // status.go RecordBackendTLSPolicyStatus, client.go UpdateBackendTLSPolicyStatus.
    assert.deepEqual(
      ancestors(statuses, 'tls').map((a) => a[0]),
      ['gw2/http', 'gw/http', 'theirs/http', 'gone/http'],
    );
  });

  it('gives each route`s service of the policy`s backend its own transport, named as that service', () => {
    const route = (name: string) =>
      httpRouteFor('default', name, {
        parentRefs: [{ name: 'gw' }],
        hostnames: [`${name}.example`],
        rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
      });
    const { data, issues } = build({
      configMaps: [caMap],
      httpRoutes: [route('one'), route('two')],
      backendTLSPolicies: [
        policy('tls', {
          targetRefs: [target],
          validation: { hostname: 'secure.internal', wellKnownCACertificates: 'System' },
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const http = data['http'] as {
      services: Record<string, { loadBalancer?: { serversTransport?: string } }>;
      serversTransports: Record<string, unknown>;
    };
    const services = Object.keys(http.services)
      .filter((n) => n.endsWith('-svc-default-secure-0'))
      .sort();
    assert.equal(services.length, 2);
    assert.deepEqual(Object.keys(http.serversTransports).sort(), services);
    for (const svc of services) {
      assert.equal(http.services[svc]?.loadBalancer?.serversTransport, svc);
      assert.deepEqual(http.serversTransports[svc], { serverName: 'secure.internal' });
    }
  });

  it('names a GRPCRoute backend`s transport as its service too (Traefik`s grpcroute.go loadGRPCBackendRef)', () => {
    const { data, issues } = build({
      httpRoutes: [],
      grpcRoutes: [
        grpcRouteFor('default', 'rpc', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
        }),
      ],
      backendTLSPolicies: [
        policy('tls', {
          targetRefs: [target],
          validation: { hostname: 'secure.internal', wellKnownCACertificates: 'System' },
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const http = data['http'] as {
      services: Record<string, { loadBalancer?: { serversTransport?: string; servers: { url: string }[] } }>;
      serversTransports: Record<string, unknown>;
    };
    const svc = secureService(data);
    assert.ok(svc.startsWith('grpcroute-default-rpc-'), svc);
    assert.deepEqual(http.services[svc]?.loadBalancer, {
      servers: [{ url: 'https://10.0.0.1:9443' }],
      serversTransport: svc,
    });
    assert.deepEqual(http.serversTransports, { [svc]: { serverName: 'secure.internal' } });
  });

  it('checks subjectAltNames instead of the hostname: the transport`s peerCertSANs (Traefik #13249)', () => {
    const { data, issues } = build({
      configMaps: [caMap],
      backendTLSPolicies: [
        policy('sans', {
          targetRefs: [target],
          validation: {
            hostname: 'secure.internal',
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
            subjectAltNames: [
              { type: 'Hostname', hostname: 'backend.example' },
              { type: 'URI', uri: 'spiffe://cluster.local/ns/default/sa/secure' },
            ],
          },
        }),
      ],
    });
    assert.deepEqual(issues, []);
    const http = data['http'] as { serversTransports: Record<string, unknown> };
    assert.deepEqual(http.serversTransports[secureService(data)], {
      serverName: 'secure.internal',
      peerCertSANs: ['backend.example', 'spiffe://cluster.local/ns/default/sa/secure'],
      rootCAs: [CA],
    });
  });

  it('takes the oldest matching policy: a later one is Conflicted; another port`s is skipped', () => {
    const { data, statuses } = build({
      secrets: [secretFor('default', 'ca-secret', { 'ca.crt': CA })],
      backendTLSPolicies: [
        policy(
          'late',
          {
            targetRefs: [target],
            validation: { hostname: 'late.internal', wellKnownCACertificates: 'System' },
          },
          '2026-02-01T00:00:00Z',
        ),
        policy('early', {
          targetRefs: [target],
          validation: {
            hostname: 'early.internal',
            caCertificateRefs: [{ kind: 'Secret', name: 'ca-secret' }],
          },
        }),
        policy('otherport', {
          targetRefs: [{ ...target, sectionName: 'grpc' }],
          validation: { hostname: 'x.internal', wellKnownCACertificates: 'System' },
        }),
      ],
    });
    const st = (data['http'] as { serversTransports: Record<string, { serverName: string }> })
      .serversTransports;
    assert.equal(st[secureService(data)]?.serverName, 'early.internal');
    assert.deepEqual(ancestors(statuses, 'late'), [
      ['gw/http', 'ResolvedRefs=False/ResolvedRefs', 'Accepted=False/Conflicted'],
    ]);
    assert.equal(
      statuses.find((s) => s.object.metadata.name === 'otherport'),
      undefined,
    );
  });

  it('refuses the backend when the policy`s CA cannot be read: NoValidCACertificate, RefNotPermitted', () => {
    const { data, statuses, issues } = build({
      backendTLSPolicies: [
        policy('broken', {
          targetRefs: [target],
          validation: {
            hostname: 'secure.internal',
            caCertificateRefs: [{ kind: 'ConfigMap', name: 'missing' }],
          },
        }),
      ],
    });
    assert.equal(
      (data['http'] as { services: Record<string, unknown> }).services['default-secure-8443'],
      undefined,
    );
    assert.deepEqual(ancestors(statuses, 'broken'), [
      ['gw/http', 'ResolvedRefs=False/InvalidCACertificateRef', 'Accepted=False/NoValidCACertificate'],
    ]);
    const route = statuses.find((s) => s.kind === 'HTTPRoute');
    assert.ok(route);
    const cond = (
      route.status['parents'] as { conditions: { type: string; reason: string; message: string }[] }[]
    )[0]!.conditions[1]!;
    assert.equal(cond.reason, 'RefNotPermitted');
    assert.match(
      cond.message,
      /Cannot apply BackendTLSPolicy for Service default\/secure: getting configmap/,
    );
    assert.ok(
      issues.some((i) => /Cannot apply BackendTLSPolicy/.test(i)),
      String(issues),
    );
  });

  it('reads policies with experimentalChannel as without: it enables nothing since Traefik v3.8', () => {
    const objs = {
      configMaps: [caMap],
      backendTLSPolicies: [
        policy('tls', {
          targetRefs: [target],
          validation: {
            hostname: 'secure.internal',
            caCertificateRefs: [{ kind: 'ConfigMap', name: 'ca' }],
          },
        }),
      ],
    };
    const without = build(objs);
    const withIt = build(objs, { experimentalChannel: true });
    assert.deepEqual(withIt.data, without.data);
    assert.deepEqual(
      (without.data['http'] as { serversTransports?: Record<string, { serverName: string }> })
        .serversTransports?.[secureService(without.data)]?.serverName,
      'secure.internal',
    );
    assert.deepEqual(ancestors(without.statuses, 'tls'), ancestors(withIt.statuses, 'tls'));
  });
});
