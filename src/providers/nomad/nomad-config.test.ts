/**
 * Nomad service instances → configuration, on the cases of Traefik's
 * pkg/provider/nomad/config_test.go (Test_defaultRule, Test_buildConfig) and nomad_test.go
 * (Test_globalConfig), with the names and addresses Traefik expects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../../config/issues.ts';
import { nomadProviderSchema } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints } from '../docker/constraints.ts';
import { updateFromData } from '../dynamic-data.ts';
import { extraConf, type NomadItem, nomadConfig, serviceNameOf, tagsToLabels } from './nomad-config.ts';

const item = (o: Partial<NomadItem> & { address: string; port: number }): NomadItem => ({
  id: 'id',
  name: 'Test',
  namespace: 'default',
  node: 'Node1',
  datacenter: 'dc1',
  tags: [],
  ...o,
});

function build(items: NomadItem[], opts: Record<string, unknown> = {}) {
  const cfg = nomadProviderSchema.parse({
    defaultRule: 'Host(`{{ normalize .Name }}.traefik.test`)',
    ...opts,
  });
  const b = nomadConfig(items, cfg, compileConstraints(cfg.constraints, 'tags') as Constraint);
  const u = updateFromData(b.data, 'nomad', b.sourceOf, {}, b.issues, { quietCase: true });
  return { data: b.data, config: u.config!, issues: u.issues.map(formatIssue) };
}

type Lb = { servers: { url?: string; address?: string }[] };
const httpServers = (c: ReturnType<typeof build>['config'], name: string): string[] => {
  const s = c.http.services[name];
  assert.ok(s?.kind === 'loadBalancer', `service ${name}`);
  return s.loadBalancer.servers.map((x) => x.url);
};
const l4Servers = (section: unknown, name: string): string[] =>
  ((section as Record<string, { loadBalancer: Lb }>)[name]?.loadBalancer.servers ?? []).map(
    (x) => x.address ?? '',
  );

describe('Nomad tags → labels (tag.go, getExtraConf)', () => {
  it('reads `<prefix>.` tags as `traefik.` labels, both sides trimmed, the prefix as written', () => {
    assert.deepEqual(
      tagsToLabels(['custom.http.routers.a.rule = Path(`/`)', 'Custom.enable=false', 'plain'], 'custom'),
      {
        'traefik.http.routers.a.rule': 'Path(`/`)',
      },
    );
  });

  it('enables as Traefik does: exposedByDefault, else `traefik.enable` equal to "true" in any case', () => {
    const cases: [string[], boolean, string, boolean][] = [
      [[], true, 'traefik', true],
      [[], false, 'traefik', false],
      [['traefik.enable=true'], true, 'traefik', true],
      [['traefik.enable=false'], true, 'traefik', false],
      [['custom.enable=true'], true, 'custom', true],
      [['custom.enable=false'], true, 'custom', false],
      [['traefik.enable=TRUE'], false, 'traefik', true],
      // strings.EqualFold(v, "true"): Go's other spellings of true do not enable.
      [['traefik.enable=1'], true, 'traefik', false],
    ];
    for (const [tags, exposedByDefault, prefix, enable] of cases) {
      assert.equal(extraConf(tags, { prefix, exposedByDefault }).enable, enable, tags.join(','));
    }
    assert.deepEqual(
      extraConf(['traefik.nomad.canary = True'], { prefix: 'traefik', exposedByDefault: true }),
      {
        enable: true,
        canary: true,
      },
    );
  });

  it("names a canary after Go's FNV-1 64 of its sorted tags", () => {
    const base = item({ address: '127.0.0.2', port: 80 });
    assert.equal(
      serviceNameOf({ ...base, tags: ['traefik.nomad.canary = true'] }, true),
      'Test-1234154071633021619',
    );
    assert.equal(
      serviceNameOf(
        {
          ...base,
          tags: [
            'traefik.nomad.canary = true',
            'traefik.tcp.routers.test-canary.rule = HostSNI(`canary.foobar`)',
          ],
        },
        true,
      ),
      'Test-8769860286750522282',
    );
    assert.equal(serviceNameOf({ ...base, name: 'dev/Test' }, false), 'dev-Test');
  });
});

describe('Nomad → configuration (config.go buildConfig)', () => {
  it('makes one service and router per Nomad service, named after it, with defaultRule over the name as registered', () => {
    const { config, issues } = build([item({ name: 'dev/Test', address: '127.0.0.1', port: 9999 })]);
    assert.deepEqual(issues, []);
    assert.deepEqual(config.http.routers['dev-Test']?.rule, 'Host(`dev-Test.traefik.test`)');
    assert.equal(config.http.routers['dev-Test']?.service, 'dev-Test');
    assert.deepEqual(httpServers(config, 'dev-Test'), ['http://127.0.0.1:9999']);
    const labelled = build(
      [item({ address: '127.0.0.1', port: 9999, tags: ['traefik.domain=example.com'] })],
      {
        defaultRule: 'Host("{{ .Name }}.{{ index .Labels "traefik.domain" }}")',
      },
    );
    assert.equal(labelled.config.http.routers['Test']?.rule, 'Host("Test.example.com")');
  });

  it('merges the instances of a service as its servers; one node-name-id is one instance (the last)', () => {
    const two = build([
      item({ id: 'id1', node: 'Node1', address: '127.0.0.1', port: 9999 }),
      item({ id: 'id2', node: 'Node2', address: '127.0.0.2', port: 9999 }),
    ]);
    assert.deepEqual(httpServers(two.config, 'Test'), ['http://127.0.0.1:9999', 'http://127.0.0.2:9999']);
    const same = build([
      item({ id: 'id1', address: '127.0.0.1', port: 9999 }),
      item({ id: 'id1', address: '127.0.0.2', port: 9999 }),
    ]);
    assert.deepEqual(httpServers(same.config, 'Test'), ['http://127.0.0.2:9999']);
  });

  it('keeps two instances whose node-name-id normalise alike (Traefik v3.7.13, #13741)', () => {
    // `Node1-web-a-b` both ways: the service `web` was lost to `web-a` before.
    const r = build([
      item({ name: 'web', id: 'a-b', address: '127.0.0.1', port: 9001 }),
      item({ name: 'web-a', id: 'b', address: '127.0.0.2', port: 9002 }),
    ]);
    assert.deepEqual(httpServers(r.config, 'web'), ['http://127.0.0.1:9001']);
    assert.deepEqual(httpServers(r.config, 'web-a'), ['http://127.0.0.2:9002']);
  });

  it('reads router and service tags, a port tag winning over the registration', () => {
    const { config, issues } = build([
      item({
        address: '127.0.0.1',
        port: 9999,
        tags: [
          'traefik.http.services.Service1.loadbalancer.passhostheader = true',
          'traefik.http.routers.Router1.rule = Host(`foo.com`)',
          'traefik.http.routers.Router1.service = Service1',
          'traefik.http.services.Service1.loadbalancer.server.port = 8080',
        ],
      }),
    ]);
    assert.deepEqual(issues, []);
    assert.deepEqual(Object.keys(config.http.routers), ['Router1']);
    assert.equal(config.http.routers['Router1']?.rule, 'Host(`foo.com`)');
    assert.deepEqual(httpServers(config, 'Service1'), ['http://127.0.0.1:8080']);
  });

  it('builds TCP and UDP routers and services from tags, without HTTP objects when no HTTP tag is there', () => {
    const tcp = build([
      item({
        address: '127.0.0.1',
        port: 9999,
        tags: [
          'traefik.tcp.routers.foo.rule = HostSNI(`foo.bar`)',
          'traefik.tcp.routers.foo.tls.options = foo',
          'traefik.tcp.services.foo.loadbalancer.server.port = 80',
        ],
      }),
    ]);
    assert.equal(tcp.config.tcp?.routers['foo']?.service, 'foo');
    assert.equal(tcp.config.tcp?.routers['foo']?.tls?.options, 'foo');
    assert.deepEqual(l4Servers(tcp.config.tcp?.services, 'foo'), ['127.0.0.1:80']);
    assert.deepEqual(Object.keys(tcp.config.http.routers), []);
    const udp = build(
      [1, 2].map((n) =>
        item({
          id: `id${n}`,
          address: `127.0.0.${n}`,
          port: 9999,
          tags: [
            'traefik.udp.routers.foo.entrypoints = mydns',
            'traefik.udp.services.foo.loadbalancer.server.port = 80',
            'traefik.http.services.Service1.loadbalancer.passhostheader = true',
          ],
        }),
      ),
    );
    assert.deepEqual(udp.config.udp?.routers['foo']?.entryPoints, ['mydns']);
    assert.deepEqual(l4Servers(udp.config.udp?.services, 'foo'), ['127.0.0.1:80', '127.0.0.2:80']);
    assert.equal(udp.config.http.routers['Test']?.service, 'Service1');
    assert.deepEqual(httpServers(udp.config, 'Service1'), ['http://127.0.0.1:9999', 'http://127.0.0.2:9999']);
  });

  it('keeps a canary in services and routers of its own', () => {
    const http = build([
      item({ id: '1', address: '127.0.0.1', port: 80 }),
      item({ id: '2', address: '127.0.0.2', port: 80, tags: ['traefik.nomad.canary = true'] }),
    ]);
    assert.deepEqual(http.issues, []);
    assert.deepEqual(httpServers(http.config, 'Test'), ['http://127.0.0.1:80']);
    assert.deepEqual(httpServers(http.config, 'Test-1234154071633021619'), ['http://127.0.0.2:80']);
    assert.equal(http.config.http.routers['Test-1234154071633021619']?.rule, 'Host(`Test.traefik.test`)');
    const tcp = build([
      item({
        id: '1',
        address: '127.0.0.1',
        port: 80,
        tags: ['traefik.tcp.routers.test.rule = HostSNI(`foobar`)'],
      }),
      item({
        id: '2',
        address: '127.0.0.2',
        port: 80,
        tags: [
          'traefik.nomad.canary = true',
          'traefik.tcp.routers.test-canary.rule = HostSNI(`canary.foobar`)',
        ],
      }),
    ]);
    // Before validation: a named HostSNI without tls is an error of ours (docs/protocols.md).
    const raw = tcp.data['tcp'] as { routers: Record<string, { service: string }>; services: unknown };
    assert.equal(raw.routers['test']?.service, 'Test');
    assert.equal(raw.routers['test-canary']?.service, 'Test-8769860286750522282');
    assert.deepEqual(l4Servers(raw.services, 'Test'), ['127.0.0.1:80']);
    assert.deepEqual(l4Servers(raw.services, 'Test-8769860286750522282'), ['127.0.0.2:80']);
  });

  it('filters on traefik.enable and Tag constraints', () => {
    const items = [
      item({ id: 'a', name: 'a', address: '127.0.0.1', port: 1, tags: ['traefik.enable=true', 'prod'] }),
      item({ id: 'b', name: 'b', address: '127.0.0.1', port: 2, tags: ['prod'] }),
      item({ id: 'c', name: 'c', address: '127.0.0.1', port: 3, tags: ['traefik.enable=true', 'dev'] }),
    ];
    const optIn = build(items, { exposedByDefault: false, constraints: 'Tag(`prod`)' });
    assert.deepEqual(Object.keys(optIn.config.http.services), ['a']);
    const all = build(items, { constraints: '!Tag(`dev`)' });
    assert.deepEqual(Object.keys(all.config.http.services).sort(), ['a', 'b']);
  });

  it('leaves out an instance without address, unless allowEmptyServices (a group scaled to zero): 503, no servers', () => {
    const zero = item({ id: 'default-job-group--Test', node: '', address: '', port: -1 });
    const refused = build([{ ...zero, port: 80 }]);
    assert.deepEqual(refused.config.http.services, {});
    assert.match(refused.issues.join('\n'), /nomad service Test: .*no IP address/);
    const kept = build([zero], { allowEmptyServices: true });
    assert.deepEqual(kept.issues, [
      'nomad service Test: warning: http.services.Test.loadBalancer.servers: the service has no servers: its requests get 503',
    ]);
    assert.deepEqual(httpServers(kept.config, 'Test'), []);
    assert.equal(kept.config.http.routers['Test']?.rule, 'Host(`Test.traefik.test`)');
  });
});
