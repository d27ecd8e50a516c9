/**
 * stripPrefix and stripPrefixRegex refuse (400) a stripped path that normalisation would change,
 * as Traefik v3.6.19/v3.7.3 (CVE-2026-48020): `/api../admin` matches the public `/api` router,
 * and once `/api` is cut the backend would resolve `/../admin` to `/admin`, which another router
 * guards with authentication. replacePathRegex likewise (GHSA-cxjq-mrr5-89rv), and rewriteTarget
 * (GHSA-8rxv-jg7p-wvg3: the ingress-nginx rewrite-target annotation's middleware).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

describe('stripPrefix / stripPrefixRegex: a stripped path must be clean', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((req, res) => res.end(`got ${req.url}`));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    public: { rule: "PathPrefix(\`/api\`)", service: be, middlewares: [strip] }
    versioned: { rule: "PathPrefix(\`/v\`)", service: be, middlewares: [stripre] }
    admin: { rule: "PathPrefix(\`/admin\`)", service: be, middlewares: [auth] }
    rewritten: { rule: "PathPrefix(\`/rx\`)", service: be, middlewares: [rewrite] }
    targeted: { rule: "PathPrefix(\`/rt\`)", service: be, middlewares: [target] }
  middlewares:
    strip: { stripPrefix: { prefixes: ["/api"] } }
    stripre: { stripPrefixRegex: { regex: ["^/v[0-9]*"] } }
    rewrite: { replacePathRegex: { regex: "(?i)/rx(.*)", replacement: "/$1" } }
    target: { rewriteTarget: { regex: "/rt(.*)", replacement: "/$1" } }
    auth: { basicAuth: { users: ["u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="] } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = async (target: string): Promise<{ status: number; body: string }> => {
    const r = await rawRequest(proxy.port, `GET ${target} HTTP/1.1\r\nHost: a.test\r\n\r\n`, {
      responses: 1,
      timeoutMs: 5000,
    });
    const res = r.responses[0];
    return { status: res?.status ?? 0, body: res?.body.toString() ?? '' };
  };

  it('refuses /api../admin, /api./x and their %2e spellings with 400, nothing sent upstream', async () => {
    const before = backend.seen.length;
    for (const t of ['/api../admin', '/api./admin', '/api%2e%2e/admin', '/api%2E/admin']) {
      assert.deepEqual(await get(t), { status: 400, body: 'Bad Request\n' }, t);
    }
    assert.equal(backend.seen.length, before);
  });

  it('refuses the same through stripPrefixRegex', async () => {
    assert.equal((await get('/v1../admin')).status, 400);
    assert.equal((await get('/v../admin')).status, 400);
  });

  // GHSA-cxjq-mrr5-89rv (replacePathRegex) and GHSA-8rxv-jg7p-wvg3 (Traefik v3.7.8, ingress-nginx
  // rewrite-target, which the provider turns into rewriteTarget): a capture without a separator
  // before it rewrites the clean /rx../admin into /../admin.
  it('refuses a replacePathRegex or rewriteTarget result that climbs (ingress-nginx rewrite-target /api(.*) -> /$1)', async () => {
    const before = backend.seen.length;
    for (const t of [
      '/rx../admin',
      '/rx%2e%2e/admin',
      '/rx./admin',
      '/rt../admin',
      '/rt%2e%2e/admin',
      '/rt./admin',
    ]) {
      assert.equal((await get(t)).status, 400, t);
    }
    assert.equal(backend.seen.length, before);
    assert.deepEqual(await get('/rxok'), { status: 200, body: 'got /ok' });
    assert.deepEqual(await get('/rtok'), { status: 200, body: 'got /ok' });
  });

  it('still strips clean paths', async () => {
    assert.deepEqual(await get('/api/x?q=1'), { status: 200, body: 'got /x?q=1' });
    assert.deepEqual(await get('/api/'), { status: 200, body: 'got /' });
    assert.deepEqual(await get('/api'), { status: 200, body: 'got /' });
    assert.deepEqual(await get('/apiv2/x'), { status: 200, body: 'got /v2/x' });
    assert.deepEqual(await get('/v2/x'), { status: 200, body: 'got /x' });
    assert.equal((await get('/admin')).status, 401);
  });
});
