import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../../config/issues.ts';
import { consulCatalogProviderSchema } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints } from '../docker/constraints.ts';
import { updateFromData } from '../dynamic-data.ts';
import { aggregatedStatus, type CatalogEntry, catalogConfig } from './catalog-config.ts';

const entry = (id: string, name: string, port: number, tags: string[], status = 'passing'): CatalogEntry => ({
  Node: { Node: 'n1', Address: '10.0.0.9' },
  Service: { ID: id, Service: name, Tags: tags, Address: `10.0.0.${port % 10}`, Port: port },
  Checks: [{ CheckID: `service:${id}`, Status: status }],
});

function build(entries: CatalogEntry[], opts: Record<string, unknown> = {}) {
  const cfg = consulCatalogProviderSchema.parse(opts);
  const b = catalogConfig(entries, cfg, compileConstraints(cfg.constraints, 'tags') as Constraint);
  const u = updateFromData(b.data, 'consulcatalog', b.sourceOf, {}, b.issues, { quietCase: true });
  return { config: u.config!, issues: u.issues.map(formatIssue) };
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
