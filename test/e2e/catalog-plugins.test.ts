import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type FakeCatalog, startFakeCatalog } from '../helpers/fake-plugin-catalog.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { requireTools } from '../helpers/tools.ts';
import { wasmOf } from '../helpers/wat.ts';
import { makeZip } from '../helpers/zip.ts';

/*
 * Traefik's catalog plugins (`experimental.plugins`: downloaded at start from plugins.traefik.io,
 * here a fake catalog with its API, found through TM_PLUGINS_URL), through the real proxy: a
 * WebAssembly plugin runs; a Go (Yaegi) plugin cannot, so the routers using it are disabled and
 * the others serve, as Traefik does with a plugin that fails; abortOnPluginFailure stops the start.
 */

const STATIC = (abort = false) => `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  file: { filename: dyn.yaml }
experimental:
  abortOnPluginFailure: ${abort}
  plugins:
    stamp: { moduleName: github.com/acme/stamp, version: v1.0.0 }
    bouncer: { moduleName: github.com/acme/bouncer, version: v0.3.1 }
`;

const dynamic = (backend: string) => `http:
  routers:
    add: { rule: "PathPrefix(\`/add\`)", service: app, middlewares: [add] }
    guard: { rule: "PathPrefix(\`/guard\`)", service: app, middlewares: [guard] }
    plain: { rule: "PathPrefix(\`/plain\`)", service: app }
  middlewares:
    add:
      plugin:
        stamp: { headerValue: from-catalog }
    guard:
      plugin:
        bouncer: { enabled: true }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend}" }] } }
`;

describe('catalog plugins (experimental.plugins)', () => {
  let catalog: FakeCatalog;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    requireTools('wat2wasm', 'curl');
    catalog = await startFakeCatalog();
    // A WebAssembly plugin as GitHub archives it; a Go plugin as a Go module zip.
    catalog.archives.set(
      'github.com/acme/stamp@v1.0.0',
      makeZip([
        {
          name: 'acme-stamp-7d1f00c/.traefik.yml',
          data: 'displayName: stamp\ntype: middleware\nruntime: wasm\n',
        },
        { name: 'acme-stamp-7d1f00c/plugin.wasm', data: wasmOf('add-header') },
      ]),
    );
    catalog.archives.set(
      'github.com/acme/bouncer@v0.3.1',
      makeZip([
        {
          name: 'github.com/acme/bouncer@v0.3.1/.traefik.yml',
          data: 'displayName: bouncer\ntype: middleware\nimport: github.com/acme/bouncer\n',
        },
        { name: 'github.com/acme/bouncer@v0.3.1/bouncer.go', data: 'package bouncer\n' },
      ]),
    );
    backend = await startBackend((req, res) => {
      res.writeHead(200, { 'x-seen-config': String(req.headers['x-wasm-config'] ?? '') });
      res.end(`${req.method} ${req.url}`);
    });
    proxy = await startProxy({
      config: STATIC(),
      files: { 'dyn.yaml': dynamic(backend.url) },
      env: { TM_PLUGINS_URL: catalog.url },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await catalog?.close();
  });

  it('installs both, runs the WebAssembly one, and says the Go one cannot run', () => {
    const installed = proxy.logs.filter((l) => l.msg === 'plugin installed').map((l) => String(l.plugin));
    assert.deepEqual(installed.sort(), ['bouncer', 'stamp']);
    assert.ok(proxy.logs.some((l) => l.msg === 'plugin loaded' && l.plugin === 'stamp'));
    const go = proxy.logs.find((l) => l.msg === 'plugin not loaded' && l.plugin === 'bouncer');
    assert.match(String(go?.['error']), /Traefik Go \(Yaegi\) plugin/);
    assert.deepEqual(catalog.seen.map((s) => s.path).sort(), [
      '/public/download/github.com/acme/bouncer/v0.3.1',
      '/public/download/github.com/acme/stamp/v1.0.0',
      '/public/validate/github.com/acme/bouncer/v0.3.1',
      '/public/validate/github.com/acme/stamp/v1.0.0',
    ]);
  });

  it("serves through the catalog's WebAssembly plugin, with the middleware's options", async () => {
    const r = await curl([`http://127.0.0.1:${proxy.port}/add/x`]);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.headers['x-seen-config']?.[0] ?? ''), { headerValue: 'from-catalog' });
  });

  it('disables the routers using the plugin that cannot run, and serves the others', async () => {
    assert.equal((await curl([`http://127.0.0.1:${proxy.port}/guard/x`])).status, 404);
    assert.equal((await curl([`http://127.0.0.1:${proxy.port}/plain/x`])).status, 200);
    assert.ok(
      proxy.logs.some(
        (l) => l.msg === 'configuration error' && String(l.issue).includes('plugin bouncer is not loaded'),
      ),
    );
  });
});

describe('catalog plugins when the catalog cannot be reached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-catalog-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stops run from starting with abortOnPluginFailure, naming the plugin and why', async () => {
    const file = join(dir, 'abort.yaml');
    writeFileSync(file, `${STATIC(true)}http:\n  routers: {}\n`);
    const url = `http://127.0.0.1:${await freePort()}/public/`;
    const r = await runCli(['run', '--config', file], { cwd: dir, env: { TM_PLUGINS_URL: url } });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /"msg":"plugin not loaded","plugin":"stamp","error":"unable to install plugin github\.com\/acme\/stamp@v1\.0\.0: failed to call service: ECONNREFUSED"/,
    );
    assert.doesNotMatch(r.stderr, /entry point listening/);
  });

  it('traffic validate downloads nothing: a warning says when they are installed', async () => {
    const file = join(dir, 'validate.yaml');
    writeFileSync(file, STATIC());
    writeFileSync(join(dir, 'dyn.yaml'), dynamic('http://127.0.0.1:1'));
    const r = await runCli(['validate', '--config', file], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /experimental\.plugins\.stamp: not installed yet: downloaded from the plugin catalog when the proxy starts/,
    );
    assert.doesNotMatch(r.stdout, /http\.middlewares\.add/);
  });
});
