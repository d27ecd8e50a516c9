import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonBody, startAdmin } from './test-admin.ts';

const svc = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } };
const router = { rule: 'Host(`a.example`)', service: 'svc' };

interface RouterJson {
  name: string;
  rule: string;
  priority: number;
  service: string;
  status: string;
}

describe('admin API writes', () => {
  it('creates a service and a router and serves them at the next generation', async (t) => {
    const a = await startAdmin(t);
    const s = await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const r = await a.json('/api/http/routers/web', jsonBody('PUT', router));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const written = r.body as { generation: number; etag: string };
    assert.equal(written.generation, a.ref.current.generation);
    assert.equal(written.etag, a.api.etag);
    assert.equal(r.headers.get('etag'), `"${a.api.etag}"`);
    const routers = (await a.json('/api/http/routers')).body as RouterJson[];
    assert.deepEqual(
      routers.map((x) => [x.name, x.service, x.status]),
      [['web@api', 'svc@api', 'enabled']],
    );
    const services = (await a.json('/api/http/services')).body as { name: string; status: string }[];
    assert.deepEqual(
      services.map((x) => [x.name, x.status]),
      [['svc@api', 'enabled']],
    );
  });

  it('rejects an invalid write with its issues and changes nothing', async (t) => {
    const a = await startAdmin(t);
    const generation = a.ref.current.generation;
    const etag = a.api.etag;
    const r = await a.json('/api/http/routers/web', jsonBody('PUT', router));
    assert.equal(r.status, 400);
    const body = r.body as { error: string; issues: string[] };
    assert.match(body.issues.join('\n'), /http\.routers\.web\.service: .*svc.* does not exist/);
    assert.equal(a.ref.current.generation, generation);
    assert.equal(a.api.etag, etag);
    assert.deepEqual((await a.json('/api/http/routers')).body, []);
  });

  it('rejects a body that fails the schema with the offending path', async (t) => {
    const a = await startAdmin(t);
    const r = await a.json('/api/http/services/svc', jsonBody('PUT', { loadBalancer: { servers: 'x' } }));
    assert.equal(r.status, 400);
    assert.match(
      (r.body as { issues: string[] }).issues.join('\n'),
      /http\.services\.svc\.loadBalancer\.servers/,
    );
  });

  it('answers 400 and keeps the previous configuration when the watcher rejects the build', async (t) => {
    // Without a merged check, a reference to another provider is only found by the build.
    const a = await startAdmin(t, { validateMerged: false });
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    const etag = a.api.etag;
    const generation = a.ref.current.generation;
    const r = await a.json('/api/http/routers/web', jsonBody('PUT', { ...router, service: 'gone@file' }));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match((r.body as { issues: string[] }).issues.join('\n'), /unknown service gone@file/);
    assert.equal(a.watcher.status.rejected, 1);
    assert.equal(a.api.etag, etag);
    assert.deepEqual(a.api.config.http.routers, {});
    assert.equal(a.ref.current.generation, generation);
    // The provider is usable afterwards: the next write is judged against the kept configuration.
    const ok = await a.json('/api/http/routers/web', jsonBody('PUT', router));
    assert.equal(ok.status, 200);
  });

  it('finds a missing reference across providers before committing when it checks the merge', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    const r = await a.json('/api/http/routers/web', jsonBody('PUT', { ...router, service: 'gone@file' }));
    assert.equal(r.status, 400);
    assert.equal(a.watcher.status.rejected, 0);
  });

  it('returns the diff of a dry run without applying it', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    const etag = a.api.etag;
    const generation = a.ref.current.generation;
    const r = await a.json('/api/http/routers/web?dryRun=true', jsonBody('PUT', router));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { issues: [], diff: [{ op: 'add', path: 'http.routers.web', after: router }] });
    assert.equal(a.api.etag, etag);
    assert.equal(a.ref.current.generation, generation);
    assert.deepEqual((await a.json('/api/http/routers')).body, []);
  });

  it('refuses a write whose If-Match is stale with 412, and accepts the current one', async (t) => {
    const a = await startAdmin(t);
    const stale = a.api.etag;
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    const r = await a.json('/api/http/routers/web', jsonBody('PUT', router, { 'if-match': `"${stale}"` }));
    assert.equal(r.status, 412);
    assert.equal((r.body as { etag: string }).etag, a.api.etag);
    assert.deepEqual(a.api.config.http.routers, {});
    const current = (await a.request('/api/config')).headers.get('etag')!;
    const ok = await a.json('/api/http/routers/web', jsonBody('PUT', router, { 'if-match': current }));
    assert.equal(ok.status, 200);
  });

  it('serves its own configuration with an ETag and answers 304 to If-None-Match', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    const r = await a.json('/api/config');
    assert.deepEqual((r.body as { http: { services: unknown } }).http.services, { svc });
    const etag = r.headers.get('etag')!;
    const again = await a.request('/api/config', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  it('rolls back to the previous routing', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    await a.json('/api/http/routers/web', jsonBody('PUT', router));
    await a.json('/api/http/routers/web', jsonBody('PUT', { ...router, rule: 'Host(`b.example`)' }));
    const before = a.ref.current.generation;
    const r = await a.json('/api/rollback', { method: 'POST' });
    assert.equal(r.status, 200);
    assert.equal((r.body as { generation: number }).generation, before + 1);
    const routers = (await a.json('/api/http/routers')).body as RouterJson[];
    assert.equal(routers[0]?.rule, 'Host(`a.example`)');
  });

  it('answers 409 when there is nothing to roll back to', async (t) => {
    const a = await startAdmin(t);
    const r = await a.json('/api/rollback', { method: 'POST' });
    assert.equal(r.status, 409);
  });

  it('patches an object with a JSON merge patch', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    await a.json('/api/http/routers/web', jsonBody('PUT', router));
    const patch = {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ priority: 7 }),
    };
    const r = await a.json('/api/http/routers/web@api', patch);
    assert.equal(r.status, 200);
    const got = (await a.json('/api/http/routers/web@api')).body as RouterJson;
    assert.equal(got.priority, 7);
  });

  it('deletes an object, and answers 404 for one that does not exist', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    assert.equal((await a.json('/api/http/services/svc', { method: 'DELETE' })).status, 200);
    assert.deepEqual((await a.json('/api/http/services')).body, []);
    assert.equal((await a.json('/api/http/services/svc', { method: 'DELETE' })).status, 404);
    assert.equal((await a.json('/api/http/routers/x', jsonBody('PATCH', {}))).status, 404);
  });

  it('replaces its whole configuration with PUT /api/config', async (t) => {
    const a = await startAdmin(t);
    const config = { http: { services: { svc }, routers: { web: router } } };
    const r = await a.json('/api/config', jsonBody('PUT', config));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(((await a.json('/api/http/routers')).body as RouterJson[]).length, 1);
  });

  it('answers a write that changes nothing without a new generation', async (t) => {
    const a = await startAdmin(t);
    await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    const generation = a.ref.current.generation;
    const r = await a.json('/api/http/services/svc', jsonBody('PUT', svc));
    assert.equal(r.status, 200);
    assert.equal((r.body as { generation: number }).generation, generation);
    assert.equal(a.api.historyLength, 1);
  });

  it('serialises concurrent writers so that If-Match sees settled state', async (t) => {
    const a = await startAdmin(t);
    const etag = `"${a.api.etag}"`;
    const [x, y] = await Promise.all([
      a.json('/api/http/services/a', jsonBody('PUT', svc, { 'if-match': etag })),
      a.json('/api/http/services/b', jsonBody('PUT', svc, { 'if-match': etag })),
    ]);
    assert.deepEqual([x.status, y.status].sort(), [200, 412]);
  });

  it('refuses to change objects of another provider', async (t) => {
    const a = await startAdmin(t);
    const r = await a.json('/api/http/routers/web@file', jsonBody('PUT', router));
    assert.equal(r.status, 405);
  });

  it('wants a JSON body: 415 for another type, 400 for malformed JSON', async (t) => {
    const a = await startAdmin(t);
    const text = await a.json('/api/http/services/svc', { method: 'PUT', body: 'x' });
    assert.equal(text.status, 415);
    const bad = await a.json('/api/http/services/svc', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    assert.equal(bad.status, 400);
  });

  it('answers 405 to writes when read-only or without the API provider', async (t) => {
    const ro = await startAdmin(t, { server: { readOnly: true } });
    const r = await ro.json('/api/http/services/svc', jsonBody('PUT', svc));
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    assert.equal((await ro.json('/api/rollback', { method: 'POST' })).status, 405);
    assert.equal((await ro.json('/api/http/services/svc', { method: 'DELETE' })).status, 405);
    const none = await startAdmin(t, { server: { api: null } });
    assert.equal((await none.json('/api/http/services/svc', jsonBody('PUT', svc))).status, 405);
    assert.equal((await none.json('/api/config')).status, 404);
  });

  it('refuses cross-origin writes', async (t) => {
    const a = await startAdmin(t);
    const r = await a.json('/api/rollback', { method: 'POST', headers: { origin: 'http://evil.example' } });
    assert.equal(r.status, 403);
  });
});
