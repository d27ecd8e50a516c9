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

  it('withdraws everything when the root has no key', async () => {
    const u = await decode({});
    assert.deepEqual(u.config?.http.routers, {});
    assert.deepEqual(u.issues, []);
  });
});
