/**
 * ECS instances → configuration, on the cases of Traefik's pkg/provider/ecs/config_test.go
 * (TestDefaultRule, Test_buildConfiguration, Test_getPort) with the names and addresses Traefik
 * expects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../../config/issues.ts';
import { ecsProviderSchema } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints } from '../docker/constraints.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type EcsInstance, ecsConfig } from './ecs-config.ts';

const inst = (
  o: Partial<Omit<EcsInstance, 'machine'>> & { machine?: Partial<EcsInstance['machine']> },
): EcsInstance => ({
  name: 'Test',
  id: '',
  labels: {},
  ...o,
  machine: {
    state: 'running',
    privateIP: '127.0.0.1',
    ports: [{ containerPort: 0, hostPort: 80 }],
    healthStatus: '',
    ...o.machine,
  },
});

function build(instances: EcsInstance[], opts: Record<string, unknown> = {}) {
  const cfg = ecsProviderSchema.parse({ defaultRule: 'Host(`{{ normalize .Name }}.traefik.wtf`)', ...opts });
  const b = ecsConfig(instances, cfg, compileConstraints(cfg.constraints) as Constraint);
  const u = updateFromData(b.data, 'ecs', b.sourceOf, {}, b.issues, { quietCase: true });
  return { config: u.config!, issues: u.issues.map(formatIssue) };
}

const urls = (c: ReturnType<typeof build>['config'], name: string): string[] => {
  const s = c.http.services[name];
  assert.ok(s?.kind === 'loadBalancer', `service ${name}`);
  return s.loadBalancer.servers.map((x) => x.url);
};

describe('ECS instances → configuration (config.go buildConfiguration)', () => {
  it('default rule: `.Name` the service name, `.Labels` the docker labels (TestDefaultRule)', () => {
    const a = build([inst({ labels: { 'traefik.domain': 'foo.bar' } })], {
      defaultRule: 'Host(`{{ .Name }}.{{ index .Labels "traefik.domain" }}`)',
    });
    assert.equal(a.config.http.routers['Test']?.rule, 'Host(`Test.foo.bar`)');
    assert.deepEqual(urls(a.config, 'Test'), ['http://127.0.0.1:80']);
    // Traefik's default: Host(`{{ normalize .Name }}`).
    const d = build([inst({})], { defaultRule: undefined });
    assert.equal(d.config.http.routers['Test']?.rule, 'Host(`Test`)');
  });

  it('one service per name; two tasks of one name are replicas (two containers with same service name)', () => {
    const { config } = build([
      inst({ id: '1' }),
      inst({ id: '2', machine: { privateIP: '127.0.0.2' } }),
      inst({ name: 'Test2', id: '3', machine: { privateIP: '127.0.0.3' } }),
    ]);
    assert.deepEqual(urls(config, 'Test'), ['http://127.0.0.1:80', 'http://127.0.0.2:80']);
    assert.deepEqual(urls(config, 'Test2'), ['http://127.0.0.3:80']);
    assert.equal(config.http.routers['Test2']?.rule, 'Host(`Test2.traefik.wtf`)');
  });

  it('the name of a task group `service:web` and its container, normalised', () => {
    const { config } = build([inst({ name: 'service-web-nginx' })]);
    assert.deepEqual(Object.keys(config.http.services), ['service-web-nginx']);
  });

  it('getPort: a port label naming a container port is its host port, else as written; no label: the lowest host port', () => {
    const ports = [
      { containerPort: 80, hostPort: 32_768 },
      { containerPort: 8080, hostPort: 32_769 },
    ];
    const mapped = build([
      inst({ labels: { 'traefik.http.services.Test.loadbalancer.server.port': '8080' }, machine: { ports } }),
    ]);
    assert.deepEqual(urls(mapped.config, 'Test'), ['http://127.0.0.1:32769']);
    const asIs = build([
      inst({ labels: { 'traefik.http.services.Test.loadbalancer.server.port': '9000' }, machine: { ports } }),
    ]);
    assert.deepEqual(urls(asIs.config, 'Test'), ['http://127.0.0.1:9000']);
    const lowest = build([inst({ machine: { ports: [...ports].reverse() } })]);
    assert.deepEqual(urls(lowest.config, 'Test'), ['http://127.0.0.1:32768']);
  });

  it('filterInstance: not running, UNHEALTHY, or without an IP: left out', () => {
    const { config } = build([
      inst({ name: 'stopped', machine: { state: 'stopped' } }),
      inst({ name: 'sick', machine: { healthStatus: 'UNHEALTHY' } }),
      inst({ name: 'noip', machine: { privateIP: '' } }),
      inst({ name: 'ok', machine: { healthStatus: 'HEALTHY' } }),
    ]);
    assert.deepEqual(Object.keys(config.http.services), ['ok']);
  });

  it('exposedByDefault false: only `traefik.enable=true`; constraints on the labels', () => {
    const { config } = build(
      [inst({ name: 'off' }), inst({ name: 'on', labels: { 'traefik.enable': 'true', env: 'prod' } })],
      { exposedByDefault: false },
    );
    assert.deepEqual(Object.keys(config.http.services), ['on']);
    const c = build([inst({ name: 'a', labels: { env: 'prod' } }), inst({ name: 'b' })], {
      constraints: 'Label(`env`, `prod`)',
    });
    assert.deepEqual(Object.keys(c.config.http.services), ['a']);
  });

  it('TCP labels: a TCP service with the address, no HTTP router', () => {
    const { config } = build([
      inst({
        labels: {
          'traefik.tcp.routers.foo.rule': 'HostSNI(`foo.bar`)',
          'traefik.tcp.routers.foo.tls': 'true',
        },
      }),
    ]);
    const tcp = config.tcp?.services['Test'] as { loadBalancer: { servers: { address: string }[] } };
    assert.deepEqual(
      tcp.loadBalancer.servers.map((s) => s.address),
      ['127.0.0.1:80'],
    );
    assert.deepEqual(Object.keys(config.http.routers), []);
  });

  it('TCP and UDP port labels name container ports too (tcp/udp with label and port), replicas merge', () => {
    const ports = [{ containerPort: 80, hostPort: 8080 }];
    const { config } = build([
      inst({
        labels: {
          'traefik.tcp.routers.foo.rule': 'HostSNI(`foo.bar`)',
          'traefik.tcp.services.foo.loadbalancer.server.port': '80',
        },
        machine: { ports },
      }),
    ]);
    const tcp = config.tcp?.services['foo'] as { loadBalancer: { servers: { address: string }[] } };
    assert.deepEqual(
      tcp.loadBalancer.servers.map((s) => s.address),
      ['127.0.0.1:8080'],
    );
    const labels = {
      'traefik.udp.routers.foo.entrypoints': 'mydns',
      'traefik.udp.services.foo.loadbalancer.server.port': '8080',
      'traefik.http.services.Service1.loadbalancer.passhostheader': 'true',
    };
    const two = build([
      inst({ id: '1', labels }),
      inst({ id: '2', labels, machine: { privateIP: '127.0.0.2' } }),
    ]);
    const udp = two.config.udp?.services['foo'] as { loadBalancer: { servers: { address: string }[] } };
    assert.deepEqual(
      udp.loadBalancer.servers.map((s) => s.address),
      ['127.0.0.1:8080', '127.0.0.2:8080'],
    );
    assert.deepEqual(urls(two.config, 'Service1'), ['http://127.0.0.1:80', 'http://127.0.0.2:80']);
    assert.equal(two.config.http.routers['Test']?.service, 'Service1');
  });
});
