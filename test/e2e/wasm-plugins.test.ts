import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { requireTools } from '../helpers/tools.ts';
import { currentGeneration, waitApplied, waitForLogFrom } from '../helpers/wait.ts';
import { wasmOf } from '../helpers/wat.ts';

/*
 * Traefik's WebAssembly plugins (`runtime: wasm` in .traefik.yml, the http-wasm handler ABI)
 * through the real proxy, laid out as Traefik lays out local plugins:
 * ./plugins-local/src/<moduleName>/{.traefik.yml, plugin.wasm}. The guests are the .wat files of
 * test/fixtures/wasm, compiled by wat2wasm.
 */

const manifest = (name: string, wasmPath?: string) =>
  `displayName: ${name}
type: middleware
runtime: wasm
${wasmPath === undefined ? '' : `wasmPath: ${wasmPath}\n`}summary: a test guest
testData: {}
`;

const STATIC = `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  file: { filename: dyn.yaml, watch: true }
experimental:
  localPlugins:
    addHeader: { moduleName: example.com/add-header }
    deny: { moduleName: example.com/deny }
    rewrite: { moduleName: example.com/rewrite }
    requestBody: { moduleName: example.com/request-body }
    yaegi: { moduleName: example.com/yaegi }
    trapStart: { moduleName: example.com/trap-start }
    mountRo: { moduleName: example.com/mount-ro, settings: { mounts: ["./mnt-ro:/data:ro"] } }
    mountRw: { moduleName: example.com/mount-rw, settings: { mounts: [mnt-rw] } }
    mountBad: { moduleName: example.com/mount-bad, settings: { mounts: ["/a:/b:/c"] } }
`;

const dynamic = (backend: string, extra = '') => `http:
  routers:
    broken: { rule: "PathPrefix(\`/broken\`)", service: app, middlewares: [broken] }
    add: { rule: "PathPrefix(\`/add\`)", service: app, middlewares: [add] }
    deny: { rule: "PathPrefix(\`/deny\`)", service: app, middlewares: [deny] }
    rewrite: { rule: "PathPrefix(\`/rewrite\`)", service: app, middlewares: [rewrite] }
    body: { rule: "PathPrefix(\`/body\`)", service: app, middlewares: [body] }
    yaegi: { rule: "PathPrefix(\`/yaegi\`)", service: app, middlewares: [yaegi] }
    mountRo: { rule: "PathPrefix(\`/mount-ro\`)", service: app, middlewares: [mountRo] }
    mountRw: { rule: "PathPrefix(\`/mount-rw\`)", service: app, middlewares: [mountRw] }
    mountBad: { rule: "PathPrefix(\`/mount-bad\`)", service: app, middlewares: [mountBad] }
  middlewares:
    add:
      plugin:
        addHeader:
          headerValue: from-config
          list: [1, 2]
    deny:
      plugin:
        deny: {}
    rewrite:
      plugin:
        rewrite: {}
    body:
      plugin:
        requestBody: {}
    yaegi:
      plugin:
        yaegi: {}
    broken:
      plugin:
        trapStart: {}
    mountRo:
      plugin:
        mountRo: {}
    mountRw:
      plugin:
        mountRw: {}
    mountBad:
      plugin:
        mountBad: {}
  services:
    app: { loadBalancer: { servers: [{ url: "${backend}" }] } }
${extra}`;

describe('WebAssembly plugins (http-wasm)', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    requireTools('wat2wasm', 'curl');
    backend = await startBackend((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'text/plain',
          'x-remove-me': 'upstream',
          'x-seen-config': String(req.headers['x-wasm-config'] ?? ''),
          'x-seen-body-header': String(req.headers['x-request-body'] ?? ''),
          'x-seen-file': String(req.headers['x-file'] ?? ''),
          'x-seen-preopen': String(req.headers['x-preopen'] ?? ''),
          'x-seen-escape': String(req.headers['x-escape'] ?? ''),
          'x-seen-link': String(req.headers['x-link'] ?? ''),
          'x-seen-write': String(req.headers['x-write'] ?? ''),
        });
        res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      });
    });
    const dir = 'plugins-local/src/example.com';
    proxy = await startProxy({
      config: STATIC,
      files: {
        'dyn.yaml': dynamic(backend.url),
        [`${dir}/add-header/.traefik.yml`]: manifest('add header'),
        [`${dir}/add-header/plugin.wasm`]: wasmOf('add-header'),
        [`${dir}/deny/.traefik.yml`]: manifest('deny'),
        [`${dir}/deny/plugin.wasm`]: wasmOf('deny'),
        // Traefik's wasmPath: the binary elsewhere in the folder.
        [`${dir}/rewrite/.traefik.yml`]: manifest('rewrite', 'build/guest.wasm'),
        [`${dir}/rewrite/build/guest.wasm`]: wasmOf('rewrite'),
        [`${dir}/request-body/.traefik.yml`]: manifest('request body'),
        [`${dir}/request-body/plugin.wasm`]: wasmOf('request-body'),
        [`${dir}/trap-start/.traefik.yml`]: manifest('traps as it starts'),
        [`${dir}/trap-start/plugin.wasm`]: wasmOf('trap-start'),
        [`${dir}/mount-ro/.traefik.yml`]: manifest('mount, read-only'),
        [`${dir}/mount-ro/plugin.wasm`]: wasmOf('mount-read'),
        [`${dir}/mount-rw/.traefik.yml`]: manifest('mount, writable'),
        [`${dir}/mount-rw/plugin.wasm`]: wasmOf('mount-read'),
        [`${dir}/mount-bad/.traefik.yml`]: manifest('mount, invalid entry'),
        [`${dir}/mount-bad/plugin.wasm`]: wasmOf('mount-read'),
        'mnt-ro/greeting.txt': 'hello from the read-only mount',
        'mnt-rw/greeting.txt': 'hello from the writable mount',
        'outside.txt': 'outside the mounts',
        [`${dir}/yaegi/.traefik.yml`]: 'displayName: go\ntype: middleware\nimport: example.com/yaegi\n',
      },
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('loads the wasm plugins from plugins-local/src/<moduleName>, and says a Yaegi one cannot run', () => {
    const loaded = proxy.logs.filter((l) => l.msg === 'plugin loaded').map((l) => String(l.plugin));
    assert.deepEqual(loaded.sort(), [
      'addHeader',
      'deny',
      'mountBad',
      'mountRo',
      'mountRw',
      'requestBody',
      'rewrite',
      'trapStart',
    ]);
    const yaegi = proxy.logs.find((l) => l.msg === 'plugin not loaded' && l.plugin === 'yaegi');
    assert.match(String(yaegi?.['error']), /Traefik Go \(Yaegi\) plugin/);
  });

  it('passes the middleware options to the guest as JSON (get_config), which sets a request header', async () => {
    const r = await curl([`${base}/add/x?y=1`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'GET /add/x?y=1 ');
    assert.deepEqual(JSON.parse(r.headers['x-seen-config']?.[0] ?? ''), {
      headerValue: 'from-config',
      list: [1, 2],
    });
    assert.deepEqual(r.headers['x-wasm-early'], ['set-before-next']);
    assert.ok(proxy.logs.some((l) => l.msg === 'add-header ran' && l.plugin === 'addHeader'));
  });

  it('answers by itself without calling next (403, its headers and body), else goes on', async () => {
    const before = backend.seen.length;
    const r = await curl([`${base}/deny/secret`]);
    assert.equal(r.status, 403);
    assert.equal(r.body.toString(), 'forbidden by wasm\n');
    assert.deepEqual(r.headers['x-denied-by'], ['deny.wat']);
    assert.deepEqual(r.headers['content-type'], ['text/plain']);
    assert.equal(backend.seen.length, before);
    const ok = await curl(['-H', 'X-Token: t', `${base}/deny/secret`]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'GET /deny/secret ');
  });

  it('buffer_response: rewrites the whole response body, its status and headers (HTTP/1.1 and h2c)', async () => {
    for (const version of ['--http1.1', '--http2-prior-knowledge']) {
      const r = await curl([version, `${base}/rewrite/page`]);
      assert.equal(r.status, 202, version);
      assert.equal(r.body.toString(), '[GET /rewrite/page ]', version);
      assert.deepEqual(r.headers['x-rewritten'], ['yes'], version);
      assert.deepEqual(r.headers['x-upstream-status-ok'], ['yes'], version);
      assert.equal(r.headers['x-remove-me'], undefined, version);
      assert.deepEqual(r.headers['content-length'], [String(r.body.length)], version);
    }
  });

  it('buffer_request: the guest reads the request body and the server still gets it', async () => {
    const r = await curl(['--data-binary', 'hello-body', `${base}/body/post`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'POST /body/post hello-body');
    assert.deepEqual(r.headers['x-seen-body-header'], ['hello-body']);
  });

  it('a guest that traps costs its request a 500 and a log line, and the next request is served', async () => {
    // The deny guest's answer with an invalid uri is not reachable; a header with a LF is: the
    // request-body guest copies the body into a header, and a LF in it makes the host trap.
    const from = proxy.logs.length;
    const r = await curl(['--data-binary', 'a\nb', `${base}/body/post`]);
    assert.equal(r.status, 500);
    const line = await proxy.waitForLog((l) => l.msg === 'plugin failed' && l.plugin === 'requestBody');
    assert.match(String(line['error']), /CR, LF or NUL/);
    assert.ok(proxy.logs.indexOf(line) >= from);
    const ok = await curl(['--data-binary', 'again', `${base}/body/post`]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'POST /body/post again');
  });

  it('a guest that traps as it starts makes its middleware a configuration error (router disabled)', async () => {
    const issue = proxy.logs.find(
      (l) =>
        l.msg === 'configuration error' &&
        String(l['issue']).includes('http.middlewares.broken.plugin.trapStart'),
    );
    assert.match(String(issue?.['issue']), /building Wasm middleware: .*unreachable/);
    assert.equal((await curl([`${base}/broken`])).status, 404);
  });

  it('settings.mounts: the guest reads a file of its mount (WASI preopen) into a request header, confined', async () => {
    // A link in the mount leading out of it.
    symlinkSync(join(proxy.dir, 'outside.txt'), join(proxy.dir, 'mnt-ro', 'link.txt'));
    const ro = await curl([`${base}/mount-ro/x`]);
    assert.equal(ro.status, 200);
    assert.deepEqual(ro.headers['x-seen-preopen'], ['/data']);
    assert.deepEqual(ro.headers['x-seen-file'], ['hello from the read-only mount']);
    assert.deepEqual(ro.headers['x-seen-escape'], ['notcapable']);
    assert.deepEqual(ro.headers['x-seen-link'], ['notcapable']);
    // `:ro`: wazero's read-only mount answers EROFS to an open for writing.
    assert.deepEqual(ro.headers['x-seen-write'], ['rofs']);
    assert.equal(existsSync(join(proxy.dir, 'mnt-ro', 'out.txt')), false);

    // One part: the host path is also the guest's name; without `:ro` the mount is writable.
    const rw = await curl([`${base}/mount-rw/x`]);
    assert.equal(rw.status, 200);
    assert.deepEqual(rw.headers['x-seen-preopen'], ['mnt-rw']);
    assert.deepEqual(rw.headers['x-seen-file'], ['hello from the writable mount']);
    assert.deepEqual(rw.headers['x-seen-escape'], ['notcapable']);
    assert.deepEqual(rw.headers['x-seen-link'], ['noent']);
    assert.deepEqual(rw.headers['x-seen-write'], ['opened']);
    assert.equal(readFileSync(join(proxy.dir, 'mnt-rw', 'out.txt'), 'utf8'), 'from-guest');
  });

  it('settings.mounts: an entry of more than host:guest makes the middleware a configuration error', async () => {
    const issue = proxy.logs.find(
      (l) =>
        l.msg === 'configuration error' &&
        String(l['issue']).includes('http.middlewares.mountBad.plugin.mountBad'),
    );
    assert.match(String(issue?.['issue']), /building Wasm middleware: invalid directory "\/a:\/b:\/c"/);
    assert.equal((await curl([`${base}/mount-bad`])).status, 404);
  });

  it('compiles a changed binary again with the next configuration change', async () => {
    assert.equal((await curl([`${base}/deny/x`])).status, 403);
    const file = join(proxy.dir, 'plugins-local/src/example.com/deny/plugin.wasm');
    writeFileSync(`${file}.tmp`, wasmOf('add-header'));
    renameSync(`${file}.tmp`, file);
    const from = proxy.logs.length;
    let generation = currentGeneration(proxy);
    proxy.writeFile(
      'dyn.yaml',
      dynamic(backend.url, '    other: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n'),
    );
    await waitApplied(proxy, ++generation);
    const reloaded = await waitForLogFrom(proxy, from, (l) => l.msg === 'plugin reloaded');
    assert.equal(reloaded.plugin, 'deny');
    const r = await curl([`${base}/deny/x`]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers['x-wasm-early'], ['set-before-next']);
  });
});
