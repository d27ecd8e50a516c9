/**
 * Traefik's `api.basePath` (pkg/api/handler.go createRouter, pkg/api/dashboard Append): the API
 * under `<basePath>/api/`, the dashboard under `<basePath>/dashboard/` and `<basePath>`
 * redirecting to it, whether a router of the configuration sends `PathPrefix(<basePath>)` to
 * `api@internal` (no stripPrefix needed) or the proxy's own routers serve them on
 * `api.entryPoint`. `disableDashboardAd` is accepted (our dashboard has no ad); Traefik v3.7's
 * `dashboardName` is part of the page's titles.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('api.basePath', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
api:
  basePath: /traefik
  disableDashboardAd: true
  dashboardName: 'Prod <eu> & "west"'
http:
  routers:
    api:
      rule: "PathPrefix(\`/traefik\`)"
      service: api@internal
      entryPoints: [web]
`,
    });
  });
  after(() => proxy?.stop());

  const get = (ep: string, path: string) =>
    fetch(`http://127.0.0.1:${proxy.ports[ep]!}${path}`, { redirect: 'manual' });

  for (const ep of ['web', 'traefik']) {
    it(`serves the API under it (${ep === 'web' ? "a configuration's router" : 'the own routers'})`, async () => {
      const r = await get(ep, '/traefik/api/version');
      assert.equal(r.status, 200);
      assert.equal(typeof ((await r.json()) as { version: unknown }).version, 'string');
      assert.equal((await get(ep, '/traefik/api/http/routers')).status, 200);
    });

    it(`serves the dashboard under it, and redirects the base path there (${ep})`, async () => {
      const r = await get(ep, '/traefik');
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('location'), '/traefik/dashboard/');
      const page = await get(ep, '/traefik/dashboard/');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      // api.dashboardName, escaped: in the title, and for the script that titles each view.
      const html = await page.text();
      const escaped = 'Prod &#60;eu&#62; &#38; &#34;west&#34;';
      assert.ok(html.includes(`<title>traffic-management dashboard \u2013 ${escaped}</title>`), html);
      assert.ok(html.includes(`<meta name="dashboard-name" content="${escaped}">`), html);
    });
  }

  it('no longer serves the API at /api', async () => {
    assert.equal((await get('traefik', '/api/version')).status, 404);
    // A router's request outside the base path is not the API's either.
    assert.equal((await get('web', '/traefikapi/version')).status, 404);
  });
});
