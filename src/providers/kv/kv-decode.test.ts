import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../../config/issues.ts';
import type { KvPair } from './kv-decode.ts';
import { KvProvider, type KvStore } from './kv-provider.ts';

/** A store that holds one snapshot: what the keys decode to, as the provider yields it. */
async function decode(pairs: Record<string, string>) {
  const store: KvStore = {
    kind: 'etcd',
    async *snapshots(): AsyncGenerator<readonly KvPair[]> {
      yield Object.entries(pairs).map(([key, value]) => ({ key, value }));
    },
  };
  const p = new KvProvider('etcd', store, 'traefik', { entryPoints: ['web', 'websecure'] });
  for await (const u of p.watch(new AbortController().signal)) return u;
  throw new Error('no update');
}

describe('KV layout', () => {
  it('reads Traefik v3.7 service middlewares, on a service and on a weighted child', async () => {
    const u = await decode({
      'traefik/http/routers/web/rule': 'Host(`example.com`)',
      'traefik/http/routers/web/service': 'split',
      'traefik/http/services/split/weighted/services/0/name': 'app',
      'traefik/http/services/split/weighted/services/0/middlewares/0': 'hdr',
      'traefik/http/services/app/middlewares/0': 'hdr@etcd',
      'traefik/http/services/app/loadbalancer/servers/0/url': 'http://10.0.0.1:80',
      'traefik/http/middlewares/hdr/headers/customrequestheaders/X-Foo': 'bar',
    });
    assert.deepEqual(u.issues.map(formatIssue), []);
    assert.deepEqual(u.config?.http.services['app']?.middlewares, ['hdr@etcd']);
    const split = u.config?.http.services['split'];
    assert.ok(split?.kind === 'weighted');
    assert.deepEqual(split.weighted.services[0]?.middlewares, ['hdr']);
  });

  it("reads a failover's errors (Traefik v3.7, its KV providers read dynamic.Failover whole)", async () => {
    const u = await decode({
      'traefik/http/routers/web/rule': 'Host(`example.com`)',
      'traefik/http/routers/web/service': 'fo',
      'traefik/http/services/fo/failover/service': 'app',
      'traefik/http/services/fo/failover/fallback': 'spare',
      'traefik/http/services/fo/failover/errors/status/0': '500-504',
      'traefik/http/services/fo/failover/errors/status/1': '429',
      'traefik/http/services/fo/failover/errors/maxrequestbodybytes': '1048576',
      'traefik/http/services/app/loadbalancer/servers/0/url': 'http://10.0.0.1:80',
      'traefik/http/services/spare/loadbalancer/servers/0/url': 'http://10.0.0.2:80',
    });
    assert.deepEqual(u.issues.map(formatIssue), []);
    const fo = u.config?.http.services['fo'];
    assert.ok(fo?.kind === 'failover');
    assert.deepEqual(fo.failover.errors, {
      status: [
        { from: 500, to: 504 },
        { from: 429, to: 429 },
      ],
      maxRequestBodyBytes: 1048576,
    });
  });

  it('reads Traefik keys: lists by index, maps, numbers and booleans from text, any case', async () => {
    const u = await decode({
      'traefik/http/routers/web/rule': 'Host(`example.com`)',
      'traefik/http/routers/web/entrypoints/0': 'web',
      'traefik/http/routers/web/entrypoints/1': 'websecure',
      'traefik/http/routers/web/service': 'app',
      'traefik/http/routers/web/priority': '42',
      'traefik/http/routers/web/middlewares/0': 'hdr',
      'traefik/http/services/app/loadbalancer/servers/1/url': 'http://10.0.0.2:80',
      'traefik/http/services/app/loadbalancer/servers/0/url': 'http://10.0.0.1:80',
      'traefik/http/services/app/loadbalancer/passHostHeader': 'false',
      'traefik/http/middlewares/hdr/headers/customrequestheaders/X-Foo': 'bar',
      'traefikother/http/routers/x/rule': 'Path(`/x`)',
    });
    assert.deepEqual(u.issues.map(formatIssue), []);
    const r = u.config?.http.routers['web'];
    assert.deepEqual(r?.entryPoints, ['web', 'websecure']);
    assert.equal(r?.priority, 42);
    assert.deepEqual(r?.middlewares, ['hdr']);
    const svc = u.config?.http.services['app'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.1:80', 'http://10.0.0.2:80'],
    );
    assert.equal(svc.loadBalancer.passHostHeader, false);
    const mw = u.config?.http.middlewares['hdr'];
    assert.ok(mw?.type === 'headers');
    assert.deepEqual(mw.config.customRequestHeaders, { 'X-Foo': 'bar' });
    assert.deepEqual(Object.keys(u.config?.http.routers ?? {}), ['web'], 'traefikother/ is another root');
  });

  it("reads a child router's parentrefs (Traefik's multi-layer routing, supported by its KV providers)", async () => {
    const u = await decode({
      'traefik/http/routers/api/rule': 'PathPrefix(`/api`)',
      'traefik/http/routers/api/entrypoints/0': 'web',
      'traefik/http/routers/admin/rule': 'Header(`X-Role`, `admin`)',
      'traefik/http/routers/admin/service': 'app',
      'traefik/http/routers/admin/parentrefs/0': 'api',
      'traefik/http/services/app/loadbalancer/servers/0/url': 'http://10.0.0.1:80',
    });
    assert.deepEqual(u.issues.map(formatIssue), []);
    assert.deepEqual(u.config?.http.routers['admin']?.parentRefs, ['api']);
    assert.equal(u.config?.http.routers['api']?.service, undefined);
  });

  it('names the key of a typo and leaves only that router out', async () => {
    const u = await decode({
      'traefik/http/routers/ok/rule': 'Path(`/ok`)',
      'traefik/http/routers/ok/service': 'app',
      'traefik/http/routers/bad/rule': 'Path(`/bad`)',
      'traefik/http/routers/bad/servce': 'app',
      'traefik/http/services/app/loadbalancer/servers/0/url': 'http://10.0.0.1:80',
    });
    assert.deepEqual(Object.keys(u.config?.http.routers ?? {}), ['ok']);
    const lines = u.issues.map(formatIssue);
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith('etcd key traefik/http/routers/bad/servce: ') && l.includes('unknown key `servce`'),
      ),
      lines.join('\n'),
    );
  });

  it('merges path segments that differ only in case, as Traefik does (the first spelling names it)', async () => {
    const u = await decode({
      'traefik/HTTP/Routers/web/Rule': 'Path(`/`)',
      'traefik/http/routers/web/service': 'app',
      'traefik/http/services/app/loadBalancer/servers/0/url': 'http://10.0.0.1:80',
      'traefik/http/services/app/loadbalancer/passhostheader': 'false',
    });
    assert.deepEqual(u.issues.map(formatIssue), []);
    assert.equal(u.config?.http.routers['web']?.rule, 'Path(`/`)');
    assert.equal(u.config?.http.routers['web']?.service, 'app');
    const svc = u.config?.http.services['app'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.equal(svc.loadBalancer.passHostHeader, false);
  });

  it('reads list items as Traefik does: joined with commas (an item `a,b` is two), in the text order of the keys', async () => {
    const keys: Record<string, string> = {
      'traefik/http/routers/web/rule': 'Path(`/`)',
      'traefik/http/routers/web/service': 'app',
      'traefik/http/routers/web/entrypoints/0': 'web,websecure',
      'traefik/http/services/app/loadbalancer/servers/7/url': 'http://10.0.0.1:80',
    };
    for (let i = 0; i < 12; i++)
      keys[`traefik/http/middlewares/ips/ipallowlist/sourcerange/${i}`] = `10.0.${i}.0/24`;
    const u = await decode(keys);
    assert.deepEqual(u.issues.map(formatIssue), []);
    assert.deepEqual(u.config?.http.routers['web']?.entryPoints, ['web', 'websecure']);
    const mw = u.config?.http.middlewares['ips'];
    assert.ok(mw?.type === 'ipAllowList');
    // pkg/config/kv/kv_node.go sorts the keys as text: /10 and /11 come before /2.
    assert.deepEqual(
      mw.config.sourceRange.map((r) => r.split('.')[2]),
      ['0', '1', '10', '11', '2', '3', '4', '5', '6', '7', '8', '9'],
    );
    const svc = u.config?.http.services['app'];
    assert.ok(svc?.kind === 'loadBalancer');
    assert.deepEqual(
      svc.loadBalancer.servers.map((s) => s.url),
      ['http://10.0.0.1:80'],
      'an index only orders: /7 alone is a list of one',
    );
  });

  it('names the key of a bad list item', async () => {
    const u = await decode({
      'traefik/http/routers/web/rule': 'Path(`/`)',
      'traefik/http/routers/web/service': 'app',
      'traefik/http/routers/web/entrypoints/0': 'web',
      'traefik/http/routers/web/entrypoints/1': 'nope',
      'traefik/http/services/app/loadbalancer/servers/0/url': 'http://10.0.0.1:80',
    });
    const lines = u.issues.map(formatIssue);
    assert.ok(
      lines.some((l) => l.startsWith('etcd key traefik/http/routers/web/entrypoints/1: ')),
      lines.join('\n'),
    );
  });

  it('withdraws everything when the root has no key', async () => {
    const u = await decode({});
    assert.deepEqual(u.config?.http.routers, {});
    assert.deepEqual(u.issues, []);
  });
});
