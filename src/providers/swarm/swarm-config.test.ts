import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { swarmProviderSchema } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints } from '../docker/constraints.ts';
import { updateFromData } from '../dynamic-data.ts';
import { type SwarmState, swarmConfig } from './swarm-config.ts';

function build(state: SwarmState, opts: Record<string, unknown> = {}) {
  const cfg = swarmProviderSchema.parse(opts);
  const b = swarmConfig(state, cfg, compileConstraints(cfg.constraints) as Constraint);
  return updateFromData(b.data, 'swarm', b.sourceOf, {}, b.issues, { quietCase: true }).config!;
}

const svc = (id: string, name: string, labels: Record<string, string>, vip?: string) => ({
  ID: id,
  Spec: { Name: name, Labels: labels },
  Endpoint: {
    Ports: [{ TargetPort: 8080, Protocol: 'tcp' }],
    VirtualIPs: vip === undefined ? [] : [{ NetworkID: 'n1', Addr: vip }],
  },
});
const task = (
  id: string,
  service: string,
  addr: string | undefined,
  state = 'running',
  net = 'overlay1',
) => ({
  ID: id,
  ServiceID: service,
  NodeID: 'node1',
  Status: { State: state },
  NetworksAttachments: [
    { Network: { ID: 'n1', Spec: { Name: net } }, Addresses: addr === undefined ? [] : [addr] },
  ],
});

describe('swarm services → configuration', () => {
  it('has one server per running task at its address, the host network at its node`s address', () => {
    const config = build({
      services: [svc('s1', 'api', {}), svc('s2', 'local', {})],
      tasks: [
        task('t1', 's1', '10.0.1.5/24'),
        task('t2', 's1', '10.0.1.6/24'),
        task('t3', 's1', '10.0.1.7/24', 'shutdown'),
        task('t4', 's2', undefined, 'running', 'host'),
      ],
      networks: { n1: 'overlay1' },
      nodes: { node1: '192.168.5.5' },
    });
    const api = config.http.services['api'];
    assert.ok(api?.kind === 'loadBalancer');
    assert.deepEqual(
      api.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.1.5:8080', 'http://10.0.1.6:8080'],
    );
    const local = config.http.services['local'];
    assert.ok(local?.kind === 'loadBalancer');
    assert.deepEqual(
      local.loadBalancer.servers.map((s) => s.url),
      ['http://192.168.5.5:8080'],
    );
    assert.equal(config.http.routers['api']?.rule, 'Host(`api`)');
  });

  it("takes the Docker provider's useBindPortIP, which finds no binding on a task: the same servers (as Traefik)", () => {
    const state = {
      services: [svc('s1', 'api', {})],
      tasks: [task('t1', 's1', '10.0.1.5/24')],
      networks: { n1: 'overlay1' },
      nodes: { node1: '192.168.5.5' },
    };
    const bound = build(state, { useBindPortIP: true }).http.services['api'];
    assert.ok(bound?.kind === 'loadBalancer');
    assert.deepEqual(
      bound.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.1.5:8080'],
    );
    assert.deepEqual(bound, build(state).http.services['api']);
  });

  it('uses the virtual IP with traefik.swarm.lbswarm', () => {
    const config = build({
      services: [svc('s1', 'api', { 'traefik.swarm.lbswarm': 'true' }, '10.0.1.2/24')],
      tasks: [task('t1', 's1', '10.0.1.5/24')],
      networks: { n1: 'overlay1' },
      nodes: {},
    });
    const api = config.http.services['api'];
    assert.ok(api?.kind === 'loadBalancer');
    assert.deepEqual(
      api.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.1.2:8080'],
    );
  });
});
