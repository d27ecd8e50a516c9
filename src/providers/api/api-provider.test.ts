import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { ConfigIssue, DynamicConfig } from '../../config/index.ts';
import type { ProviderUpdate } from '../provider.ts';
import { ApiProvider, type ApiProviderOptions } from './api-provider.ts';
import { diffConfigs, emptyRawConfig } from './config-diff.ts';
import { canonicalJson, mergePatch } from './json-values.ts';

const svc = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:8081' }] } };
const router = { rule: 'Host(`a.example`)', service: 'svc' };

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'traffic-api-provider-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A provider with a service `svc` committed. */
function withService(opts: ApiProviderOptions = {}): ApiProvider {
  const p = new ApiProvider(opts);
  const r = p.propose({ kind: 'put', section: 'services', name: 'svc', value: svc });
  assert.equal(r.ok, true, JSON.stringify(r.issues));
  p.commit(r.config);
  return p;
}

/** Collects what `watch` yields until `count` updates arrived. */
async function take(p: ApiProvider, count: number, act: () => void): Promise<ProviderUpdate[]> {
  const ac = new AbortController();
  const out: ProviderUpdate[] = [];
  const it = p.watch(ac.signal)[Symbol.asyncIterator]();
  out.push((await it.next()).value as ProviderUpdate);
  act();
  while (out.length < count) out.push((await it.next()).value as ProviderUpdate);
  ac.abort();
  await it.return?.();
  return out;
}

describe('ApiProvider', () => {
  it('starts empty without a persist file', () => {
    const p = new ApiProvider();
    assert.deepEqual(p.config, emptyRawConfig());
    assert.equal(p.historyLength, 0);
  });

  it('accepts a valid router and service and reports them as additions', () => {
    const p = withService();
    const r = p.propose({ kind: 'put', section: 'routers', name: 'web', value: router });
    assert.equal(r.ok, true);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.diff, [{ op: 'add', path: 'http.routers.web', after: router }]);
    assert.deepEqual(r.config.http.routers, { web: router });
  });

  it('rejects a schema error with the path of the offending key', () => {
    const p = new ApiProvider();
    const r = p.propose({
      kind: 'put',
      section: 'routers',
      name: 'web',
      value: { rule: 'Host(`a`)', service: 'svc', priority: 'high' },
    });
    assert.equal(r.ok, false);
    assert.ok(
      r.issues.some((i) => i.path.join('.') === 'http.routers.web.priority'),
      JSON.stringify(r.issues),
    );
  });

  it('rejects a router whose service does not exist', () => {
    const p = new ApiProvider();
    const r = p.propose({ kind: 'put', section: 'routers', name: 'web', value: router });
    assert.equal(r.ok, false);
    assert.match(r.issues.map((i) => i.message).join('\n'), /does not exist/);
  });

  it('lets a router refer to a known provider and refuses an unknown one', () => {
    const p = new ApiProvider({ knownProviders: ['file'] });
    const ok = p.propose({
      kind: 'put',
      section: 'routers',
      name: 'a',
      value: { ...router, service: 's@file' },
    });
    assert.equal(ok.ok, true);
    const bad = p.propose({
      kind: 'put',
      section: 'routers',
      name: 'a',
      value: { ...router, service: 's@k8s' },
    });
    assert.equal(bad.ok, false);
  });

  it('checks rules and entry points with what it is given', () => {
    const p = withService({
      entryPoints: ['web'],
      checkRule: (rule) => (rule.includes('Bad') ? { message: 'bad rule', offset: 0 } : undefined),
    });
    const rule = p.propose({
      kind: 'put',
      section: 'routers',
      name: 'r',
      value: { ...router, rule: 'Bad()' },
    });
    assert.equal(rule.ok, false);
    assert.match(JSON.stringify(rule.issues), /bad rule/);
    const ep = p.propose({
      kind: 'put',
      section: 'routers',
      name: 'r',
      value: { ...router, entryPoints: ['nope'] },
    });
    assert.equal(ep.ok, false);
  });

  it('asks validateMerged only once its own checks pass, and rejects on its errors', () => {
    const seen: DynamicConfig[] = [];
    const mergedIssue: ConfigIssue = { severity: 'error', message: 'conflicts', path: ['http'] };
    const p = withService({
      validateMerged: (c) => {
        seen.push(c);
        return Object.keys(c.http.routers).includes('clash') ? [mergedIssue] : [];
      },
    });
    seen.length = 0;
    assert.equal(p.propose({ kind: 'put', section: 'routers', name: 'clash', value: router }).ok, false);
    assert.equal(seen.length, 1);
    assert.equal(p.propose({ kind: 'put', section: 'routers', name: 'x', value: { rule: '' } }).ok, false);
    assert.equal(seen.length, 1);
  });

  it('patches with JSON merge patch and reports a replacement', () => {
    const p = withService();
    p.commit(p.propose({ kind: 'put', section: 'routers', name: 'web', value: router }).config);
    const r = p.propose({ kind: 'patch', section: 'routers', name: 'web@api', patch: { priority: 5 } });
    assert.equal(r.ok, true);
    assert.deepEqual(r.config.http.routers['web'], { ...router, priority: 5 });
    assert.deepEqual(r.diff, [
      { op: 'replace', path: 'http.routers.web', before: router, after: { ...router, priority: 5 } },
    ]);
  });

  it('reports patching or deleting a missing object as missing', () => {
    const p = new ApiProvider();
    const patch = p.propose({ kind: 'patch', section: 'routers', name: 'nope', patch: {} });
    assert.equal(patch.ok, false);
    assert.equal(patch.missing, true);
    assert.equal(p.propose({ kind: 'delete', section: 'services', name: 'nope' }).missing, true);
  });

  it('refuses to delete a service a router still uses', () => {
    const p = withService();
    p.commit(p.propose({ kind: 'put', section: 'routers', name: 'web', value: router }).config);
    const r = p.propose({ kind: 'delete', section: 'services', name: 'svc' });
    assert.equal(r.ok, false);
    assert.deepEqual(r.diff, [{ op: 'remove', path: 'http.services.svc', before: svc }]);
  });

  it('replaces the whole configuration and rejects unknown sections', () => {
    const p = new ApiProvider();
    const config = { http: { services: { svc }, routers: { web: router } } };
    const r = p.propose({ kind: 'replace', config });
    assert.equal(r.ok, true);
    assert.deepEqual(r.config.http.middlewares, {});
    assert.equal(p.propose({ kind: 'replace', config: { smtp: {} } }).ok, false);
    assert.equal(p.propose({ kind: 'replace', config: [] }).ok, false);
  });

  it('changes nothing until commit', () => {
    const p = new ApiProvider();
    const before = p.etag;
    p.propose({ kind: 'put', section: 'services', name: 'svc', value: svc });
    assert.equal(p.etag, before);
    assert.deepEqual(p.config, emptyRawConfig());
  });

  it('refuses to commit a configuration that does not validate', () => {
    const p = new ApiProvider();
    const bad = { http: { ...emptyRawConfig().http, routers: { web: router } } };
    assert.throws(() => p.commit(bad), /does not validate/);
    assert.deepEqual(p.config, emptyRawConfig());
  });

  it('derives the etag from the canonical JSON, whatever the key order', () => {
    const a = new ApiProvider();
    const b = new ApiProvider();
    a.commit(a.propose({ kind: 'put', section: 'services', name: 's', value: svc }).config);
    const reordered = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:8081' }] } };
    b.commit(b.propose({ kind: 'put', section: 'services', name: 's', value: reordered }).config);
    assert.equal(a.etag, b.etag);
    assert.notEqual(a.etag, new ApiProvider().etag);
    assert.match(a.etag, /^[0-9a-f]{32}$/);
  });

  it('rolls back to the previous configurations one at a time', () => {
    const p = withService();
    const afterService = p.etag;
    p.commit(p.propose({ kind: 'put', section: 'routers', name: 'web', value: router }).config);
    assert.equal(p.rollback(), true);
    assert.equal(p.etag, afterService);
    assert.deepEqual(p.config.http.routers, {});
    assert.equal(p.rollback(), true);
    assert.deepEqual(p.config, emptyRawConfig());
    assert.equal(p.rollback(), false);
  });

  it('keeps ten previous configurations', () => {
    const p = new ApiProvider();
    for (let i = 0; i < 12; i++) {
      p.commit(p.propose({ kind: 'put', section: 'services', name: `s${i}`, value: svc }).config);
    }
    assert.equal(p.historyLength, 10);
    let n = 0;
    while (p.rollback()) n++;
    assert.equal(n, 10);
    assert.deepEqual(Object.keys(p.config.http.services), ['s0', 's1']);
  });

  it('reverts an unapplied commit without yielding', async () => {
    const p = withService();
    const etag = p.etag;
    const updates = await take(p, 2, () => {
      p.commit(p.propose({ kind: 'put', section: 'routers', name: 'web', value: router }).config);
      p.revertUnapplied();
    });
    assert.equal(p.etag, etag);
    assert.equal(p.historyLength, 1);
    assert.equal(updates.length, 2);
  });

  it('yields its full configuration at start and after each commit and rollback', async () => {
    const p = new ApiProvider();
    const updates = await take(p, 3, () => {
      p.commit(p.propose({ kind: 'put', section: 'services', name: 'svc', value: svc }).config);
      p.rollback();
    });
    assert.deepEqual(
      updates.map((u) => Object.keys(u.config?.http.services ?? {})),
      [[], ['svc'], []],
    );
    const lb = updates[1]!.config!.http.services['svc'];
    assert.equal(lb?.kind, 'loadBalancer');
  });

  it('ends its watch when the signal aborts', async () => {
    const p = new ApiProvider();
    const ac = new AbortController();
    const it = p.watch(ac.signal)[Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    ac.abort();
    assert.deepEqual(await pending, { done: true, value: undefined });
  });

  it('persists commits with mode 0600 and loads them back', async (t) => {
    const file = join(await tempDir(t), 'api.json');
    const p = withService({ persistFile: file });
    p.commit(p.propose({ kind: 'put', section: 'routers', name: 'web', value: router }).config);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = new ApiProvider({ persistFile: file });
    assert.deepEqual(again.config, p.config);
    assert.equal(again.etag, p.etag);
    p.rollback();
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).http.routers, {});
  });

  it('refuses writes while the persisted file cannot be read, and leaves it alone', async (t) => {
    const file = join(await tempDir(t), 'api.json');
    await writeFile(file, '{ not json');
    const p = new ApiProvider({ persistFile: file });
    const r = p.propose({ kind: 'put', section: 'services', name: 'svc', value: svc });
    assert.equal(r.ok, false);
    assert.match(r.issues[0]!.message, /fix or remove/);
    assert.equal(readFileSync(file, 'utf8'), '{ not json');
    const [first] = await take(p, 1, () => {});
    assert.equal(first!.config, undefined);
  });

  it('changes nothing when the persist file cannot be written', async (t) => {
    const file = join(await tempDir(t), 'missing-dir', 'api.json');
    const p = new ApiProvider({ persistFile: file });
    const r = p.propose({ kind: 'put', section: 'services', name: 'svc', value: svc });
    assert.throws(() => p.commit(r.config), /ENOENT/);
    assert.deepEqual(p.config, emptyRawConfig());
    assert.equal(p.historyLength, 0);
  });
});

describe('API configuration helpers', () => {
  it('merge patch removes null members, merges objects and replaces arrays', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { a: null, b: { c: 4 }, e: [3] }), {
      b: { c: 4, d: 3 },
      e: [3],
    });
    assert.equal(mergePatch({ a: 1 }, 'x'), 'x');
  });

  it('canonical JSON sorts keys at every level', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [{ f: 1, e: 2 }], c: 0 } }),
      '{"a":{"c":0,"d":[{"e":2,"f":1}]},"b":1}',
    );
  });

  it('diffs object by object in section order', () => {
    const a = { http: { ...emptyRawConfig().http, routers: { x: { rule: 'a' } }, services: { s: 1 } } };
    const b = { http: { ...emptyRawConfig().http, routers: { x: { rule: 'b' }, y: {} } } };
    assert.deepEqual(
      diffConfigs(a, b).map((d) => `${d.op} ${d.path}`),
      ['replace http.routers.x', 'add http.routers.y', 'remove http.services.s'],
    );
  });
});
