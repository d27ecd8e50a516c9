import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../../config/issues.ts';
import { consulCatalogProviderSchema } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints } from '../docker/constraints.ts';
import { updateFromData } from '../dynamic-data.ts';
import { aggregatedStatus, type CatalogEntry, type CatalogService, catalogConfig } from './catalog-config.ts';
import type { ConnectCerts } from './connect-certs.ts';

const entry = (id: string, name: string, port: number, tags: string[], status = 'passing'): CatalogEntry => ({
  Node: { Node: 'n1', Address: '10.0.0.9' },
  Service: { ID: id, Service: name, Tags: tags, Address: `10.0.0.${port % 10}`, Port: port },
  Checks: [{ CheckID: `service:${id}`, Status: status }],
});

/** The entries grouped by service, as the provider reads them. */
function byService(entries: readonly CatalogEntry[]): CatalogService[] {
  const out = new Map<string, CatalogEntry[]>();
  for (const e of entries) {
    const name = e.Service!.Service!;
    out.set(name, [...(out.get(name) ?? []), e]);
  }
  return [...out].map(([name, list]) => ({ name, entries: list }));
}

function build(entries: CatalogEntry[], opts: Record<string, unknown> = {}, certs?: ConnectCerts) {
  const cfg = consulCatalogProviderSchema.parse(opts);
  const b = catalogConfig(
    byService(entries),
    cfg,
    compileConstraints(cfg.constraints, 'tags') as Constraint,
    certs,
  );
  const u = updateFromData(b.data, 'consulcatalog', b.sourceOf, {}, b.issues, { quietCase: true });
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

/** The servers of a load balancer: URLs (HTTP) or addresses (TCP, UDP). */
function serversOf(svc: unknown): string[] {
  type Lb = { servers: { url?: string; address?: string }[] };
  const lb = (svc as { loadBalancer?: Lb } | undefined)?.loadBalancer;
  return (lb?.servers ?? []).map((s) => s.url ?? s.address ?? '');
}

describe('Consul Catalog → configuration', () => {
  it('makes one service per Consul service with its healthy instances, tags as labels, and the default rule', () => {
    const { config, issues } = build([
      entry('web-1', 'web', 8081, ['traefik.http.routers.web.entrypoints=web', 'v1']),
      entry('web-2', 'web', 8082, ['traefik.http.routers.web.entrypoints=web', 'v1']),
      entry('web-3', 'web', 8083, ['traefik.http.routers.web.entrypoints=web', 'v1'], 'critical'),
    ]);
    assert.deepEqual(issues, []);
    assert.equal(config.http.routers['web']?.rule, 'Host(`web`)');
    const lb = config.http.services['web'];
    assert.ok(lb?.kind === 'loadBalancer');
    assert.deepEqual(
      lb.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.1:8081', 'http://10.0.0.2:8082'],
    );
  });

  it('honours strictChecks, exposedByDefault with traefik.enable, and Tag constraints', () => {
    const entries = [
      entry('a', 'a', 9001, ['traefik.enable=true', 'prod'], 'warning'),
      entry('b', 'b', 9002, ['prod']),
      entry('c', 'c', 9003, ['traefik.enable=true', 'dev']),
    ];
    const strict = build(entries, { strictChecks: ['passing'] });
    assert.deepEqual(Object.keys(strict.config.http.services).sort(), ['b', 'c']);
    const optIn = build(entries, { exposedByDefault: false, constraints: 'Tag(`prod`)' });
    assert.deepEqual(Object.keys(optIn.config.http.services), ['a']);
  });

  // Traefik's consulcatalog config.go: getName (a canary: normalize(<name>-<FNV-1 64 of its sorted
  // tags>)) and the defaultRule model's Name, the Consul service as registered.
  it('keeps a canary (traefik.consulcatalog.canary) apart, and renders .Name as registered', () => {
    const { config, issues } = build(
      [
        entry('web-1', 'my_web', 8081, []),
        entry('web-2', 'my_web', 8082, ['traefik.consulcatalog.canary=true']),
        entry('web-3', 'my_web', 8083, ['traefik.consulcatalog.canary=maybe']),
      ],
      { defaultRule: 'PathPrefix(`/{{ .Name }}`)' },
    );
    assert.deepEqual(issues, ['consul service my_web: traefik.consulcatalog.canary: not a boolean: "maybe"']);
    assert.deepEqual(Object.keys(config.http.services).sort(), ['my-web', 'my-web-2239221661092776965']);
    assert.equal(config.http.routers['my-web']?.rule, 'PathPrefix(`/my_web`)');
    assert.deepEqual(serversOf(config.http.services['my-web-2239221661092776965']), ['http://10.0.0.2:8082']);
  });

  it('builds TCP and UDP routers and services from tags, as Docker labels', () => {
    const { config, issues } = build([
      entry('db-1', 'db', 5432, [
        'traefik.tcp.routers.db.rule=HostSNI(`*`)',
        'traefik.tcp.routers.db.entrypoints=pg',
      ]),
      entry('db-2', 'db', 5433, [
        'traefik.tcp.routers.db.rule=HostSNI(`*`)',
        'traefik.tcp.routers.db.entrypoints=pg',
      ]),
      entry('dns-1', 'dns', 53, ['traefik.udp.routers.dns.entrypoints=dns']),
    ]);
    assert.deepEqual(issues, []);
    assert.equal(config.tcp?.routers['db']?.service, 'db');
    assert.deepEqual(serversOf(config.tcp?.services['db']), ['10.0.0.2:5432', '10.0.0.3:5433']);
    assert.deepEqual(serversOf(config.udp?.services['dns']), ['10.0.0.3:53']);
    assert.deepEqual(Object.keys(config.http.routers), [], 'TCP and UDP tags only: no HTTP router');
  });

  it('reports a tag typo with the service and the tag', () => {
    const { issues } = build([entry('w', 'w', 9000, ['traefik.http.routers.w.rul=Path(`/`)'])]);
    assert.ok(
      issues.some(
        (i) => i.startsWith('consul service w label traefik.http.routers.w.rul') && i.includes('unknown key'),
      ),
      issues.join('\n'),
    );
  });

  it('aggregates checks as Consul does', () => {
    assert.equal(aggregatedStatus([{ Status: 'passing' }, { Status: 'warning' }]), 'warning');
    assert.equal(aggregatedStatus([{ Status: 'critical' }, { Status: 'warning' }]), 'critical');
    assert.equal(aggregatedStatus([{ CheckID: '_node_maintenance', Status: 'critical' }]), 'maintenance');
  });
});

describe('Consul Connect → configuration', () => {
  const certs: ConnectCerts = {
    roots: ['-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n'],
    trustDomain: '7a3b.consul',
    leafCert: '-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n',
    leafKey: '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n',
  };
  /** A sidecar of `name` as /v1/health/connect answers (the tags are the service's, inherited). */
  const sidecar = (name: string, port: number, tags: string[], ns?: string): CatalogEntry => ({
    Node: { Node: 'n1', Address: '10.0.0.9', Datacenter: 'dc1' },
    Service: {
      ID: `${name}-sidecar-proxy`,
      Service: name,
      Tags: tags,
      Address: '10.0.1.1',
      Port: port,
      ...(ns === undefined ? {} : { Namespace: ns }),
    },
    Checks: [{ CheckID: 'c', Status: 'passing' }],
  });

  it('reaches a Connect service over https through its own transport, and a plain one as before', () => {
    const { config, issues } = build(
      [sidecar('web', 21000, ['traefik.consulcatalog.connect=true']), entry('api-1', 'api', 8080, [])],
      { connectAware: true },
      certs,
    );
    assert.deepEqual(issues, []);
    const web = config.http.services['web'];
    assert.ok(web?.kind === 'loadBalancer');
    assert.deepEqual(
      web.loadBalancer.servers.map((s) => s.url),
      ['https://10.0.1.1:21000'],
    );
    assert.equal(web.loadBalancer.serversTransport, 'tls-default-dc1-web');
    const t = config.http.serversTransports['tls-default-dc1-web'];
    assert.deepEqual(
      {
        serverName: t?.serverName,
        insecureSkipVerify: t?.insecureSkipVerify,
        rootCAs: t?.rootCAs,
        certificates: t?.certificates,
        peerCertURI: t?.peerCertURI,
      },
      {
        serverName: 'default-dc1-web',
        insecureSkipVerify: true,
        rootCAs: certs.roots,
        certificates: [{ certFile: certs.leafCert, keyFile: certs.leafKey }],
        peerCertURI: 'spiffe://7a3b.consul/ns/default/dc/dc1/svc/web',
      },
    );
    const api = config.http.services['api'];
    assert.ok(api?.kind === 'loadBalancer');
    assert.deepEqual(
      api.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.0:8080'],
    );
    assert.equal(api.loadBalancer.serversTransport, undefined);
    assert.deepEqual(Object.keys(config.http.serversTransports), ['tls-default-dc1-web']);
  });

  it('leaves Connect services out without connectAware; connectByDefault makes every service one unless tagged false', () => {
    const entries = [
      sidecar('web', 21000, ['traefik.consulcatalog.connect=true']),
      entry('api-1', 'api', 8080, []),
      entry('old-1', 'old', 8081, ['traefik.consulcatalog.connect=false']),
    ];
    const off = build(entries, {}, certs);
    assert.deepEqual(Object.keys(off.config.http.services).sort(), ['api', 'old']);
    const all = build(entries, { connectAware: true, connectByDefault: true }, certs);
    const lbOf = (n: string) => {
      const s = all.config.http.services[n];
      assert.ok(s?.kind === 'loadBalancer');
      return s.loadBalancer;
    };
    assert.equal(
      lbOf('api').serversTransport,
      'tls-default-api',
      'no datacenter in the entry: normalised away',
    );
    assert.match(lbOf('api').servers[0]!.url, /^https:/);
    assert.equal(lbOf('old').serversTransport, undefined);
    assert.match(lbOf('old').servers[0]!.url, /^http:/);
  });

  it('names the transport after the namespace, keeps a transport a tag defines, and reports a bad connect tag', () => {
    const { config, issues } = build(
      [
        sidecar('pay', 21001, ['traefik.consulcatalog.connect=true'], 'team-a'),
        sidecar('own', 21002, [
          'traefik.consulcatalog.connect=true',
          'traefik.http.serversTransports.tls-default-dc1-own.maxIdleConnsPerHost=7',
        ]),
        sidecar('bad', 21003, ['traefik.consulcatalog.connect=maybe']),
      ],
      { connectAware: true },
      certs,
    );
    assert.deepEqual(issues, ['consul service bad: traefik.consulcatalog.connect: not a boolean: "maybe"']);
    assert.equal(
      config.http.serversTransports['tls-team-a-dc1-pay']?.peerCertURI,
      'spiffe://7a3b.consul/ns/team-a/dc/dc1/svc/pay',
    );
    const own = config.http.serversTransports['tls-default-dc1-own'];
    assert.equal(own?.maxIdleConnsPerHost, 7);
    assert.equal(own?.peerCertURI, undefined, 'the tag defines the whole transport');
    assert.equal(config.http.services['bad'], undefined);
  });

  it('reaches a Connect service with TCP tags over TLS through its TCP transport (SPIFFE ID as peerCertURI)', () => {
    const { config, issues } = build(
      [
        sidecar('db', 21000, [
          'traefik.consulcatalog.connect=true',
          'traefik.tcp.routers.db.rule=HostSNI(`*`)',
        ]),
      ],
      { connectAware: true },
      certs,
    );
    assert.deepEqual(issues, []);
    const db = config.tcp?.services['db'];
    assert.ok(db?.kind === 'loadBalancer');
    assert.deepEqual(db.loadBalancer.servers, [{ address: '10.0.1.1:21000', tls: true }]);
    assert.equal(db.loadBalancer.serversTransport, 'tls-default-dc1-db');
    const t = config.tcp?.serversTransports['tls-default-dc1-db'];
    assert.deepEqual(
      {
        serverName: t?.tls?.serverName,
        insecureSkipVerify: t?.tls?.insecureSkipVerify,
        rootCAs: t?.tls?.rootCAs,
        certificates: t?.tls?.certificates,
        peerCertURI: t?.tls?.peerCertURI,
      },
      {
        serverName: 'default-dc1-db',
        insecureSkipVerify: true,
        rootCAs: certs.roots,
        certificates: [{ certFile: certs.leafCert, keyFile: certs.leafKey }],
        peerCertURI: 'spiffe://7a3b.consul/ns/default/dc/dc1/svc/db',
      },
    );
    // TCP only: no HTTP objects for it (Traefik's rule).
    assert.deepEqual(config.http.services, {});
  });

  it('leaves Connect services out, with an error, while the certificates are not there', () => {
    const { config, issues } = build([sidecar('web', 21000, ['traefik.consulcatalog.connect=true'])], {
      connectAware: true,
    });
    assert.deepEqual(config.http.services, {});
    assert.match(issues.join('\n'), /consul service web: .*Connect certificates are not ready/);
  });
});
