import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type LogLine, type ProxyProcess, ROOT, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { positionOf } from '../helpers/text-position.ts';
import { currentGeneration, errorIssues, waitApplied, waitForLogFrom } from '../helpers/wait.ts';

/*
 * Local TypeScript plugins through the real proxy (issue 12 §3): the example plugins at work, an
 * option error located in the file, a plugin that throws in each phase (500, a log line naming
 * it, and the next request served), reloads with new options and with a changed module.
 */

const REQUEST_ID = join(ROOT, 'examples', 'plugins', 'request-id');
const BODY_REWRITE = join(ROOT, 'examples', 'plugins', 'body-rewrite');
/** Where Traefik keeps a local plugin: ./plugins-local/src/<moduleName> in the working directory. */
const FAULTY_FILE = 'plugins-local/src/example.com/faulty/index.ts';

/**
 * A plugin that fails where the request's `x-fail` header says, written in TypeScript (run by the
 * proxy's type stripping) with a hand-written Standard Schema: a folder outside the project
 * cannot import zod.
 */
const faulty = (version: number) => `
import type { BodyFilter, BodyOutput, Middleware, Plugin, PluginRequest, StandardSchemaV1 } from 'traffic-management/plugin';

interface Options { readonly throwInCreate: boolean }

const schema: StandardSchemaV1<unknown, Options> = {
  '~standard': {
    version: 1,
    vendor: 'faulty',
    validate(v: unknown) {
      const o = (v ?? {}) as { throwInCreate?: unknown };
      if (o.throwInCreate !== undefined && typeof o.throwInCreate !== 'boolean') {
        return { issues: [{ message: 'must be true or false', path: ['throwInCreate'] }] };
      }
      return { value: { throwInCreate: o.throwInCreate === true } };
    },
  },
};

const fail = (req: PluginRequest, where: string): boolean => req.headers.get('x-fail') === where;

/** Throws at once, or (late) once it has sent bytes on: the head is gone by then. */
const breaking = (late: boolean): BodyFilter => {
  let out: BodyOutput | null = null;
  return {
    start(o) { out = o; },
    write(c) {
      if (!late) throw new Error('filter exploded');
      out!.push(c);
      return true;
    },
    end() { throw new Error('filter exploded late'); },
    destroy() {},
  };
};

export const plugin: Plugin<Options> = {
  schema,
  create(options): Middleware {
    if (options.throwInCreate) throw new Error('create exploded');
    return {
      onRequest(req) {
        if (fail(req, 'request')) throw new Error('request exploded');
        if (fail(req, 'async')) return Promise.reject(new Error('async exploded'));
        if (fail(req, 'crlf')) req.headers.set('X-Evil', 'a\\r\\nX-Smuggled: 1');
        return undefined;
      },
      onResponse(req, res) {
        if (fail(req, 'response')) throw new Error('response exploded');
        res.headers.set('X-Faulty-Version', '${version}');
      },
      onResponseBody(req) {
        if (fail(req, 'choose')) throw new Error('choose exploded');
        if (fail(req, 'filter')) return breaking(false);
        return fail(req, 'late-filter') ? breaking(true) : null;
      },
    };
  },
};
`;

function dynamic(prefix: string, extra = ''): string {
  return `http:
  routers:
    ids: { rule: "PathPrefix(\`/ids\`)", service: app, middlewares: [ids] }
    page: { rule: "PathPrefix(\`/page\`)", service: app, middlewares: [rewrite] }
    faulty: { rule: "PathPrefix(\`/faulty\`)", service: app, middlewares: [faulty] }
    create: { rule: "PathPrefix(\`/create\`)", service: app, middlewares: [faultyCreate] }
  middlewares:
    ids:
      plugin:
        requestId:
          prefix: ${prefix}
    rewrite:
      plugin:
        bodyRewrite:
          rules:
            - { from: "http://internal.example", to: "https://www.example.com" }
    faulty:
      plugin:
        faulty: {}
    faultyCreate:
      plugin:
        faulty: { throwInCreate: true }
  services:
    app: { loadBalancer: { servers: [{ url: "${backendUrl}" }] } }
${extra}`;
}

let backendUrl = '';

const STATIC = `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  file: { filename: dyn.yaml, watch: true }
experimental:
  localPlugins:
    requestId: { path: ${JSON.stringify(REQUEST_ID)} }
    bodyRewrite: { path: ${JSON.stringify(BODY_REWRITE)} }
    faulty: { moduleName: example.com/faulty }
`;

describe('TypeScript plugins', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/page')) {
        // The URL to rewrite arrives split over two writes (and two chunks).
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', etag: '"p1"' });
        res.write('<a href="http://inter');
        setImmediate(() => res.end('nal.example/docs">docs</a>'));
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/plain',
        'x-seen-id': String(req.headers['x-request-id'] ?? ''),
      });
      res.end(`ok ${req.url}`);
    });
    backendUrl = backend.url;
    proxy = await startProxy({
      config: STATIC,
      files: { 'dyn.yaml': dynamic('edge-1-'), [FAULTY_FILE]: faulty(1) },
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  /** The `plugin failed` lines logged from `from` on. */
  const failures = (from: number): LogLine[] =>
    proxy.logs.slice(from).filter((l) => l.msg === 'plugin failed');

  it('loads the plugins, from a path and from Traefik’s plugins-local layout', () => {
    const loaded = proxy.logs.filter((l) => l.msg === 'plugin loaded').map((l) => [l.plugin, l.file]);
    assert.deepEqual(loaded.sort(), [
      ['bodyRewrite', join(BODY_REWRITE, 'index.ts')],
      ['faulty', join(proxy.dir, FAULTY_FILE)],
      ['requestId', join(REQUEST_ID, 'index.ts')],
    ]);
  });

  it('runs the request-id plugin: the backend and the client see the same id', async () => {
    const r = await curl(['-i', `${base}/ids/a`]);
    assert.equal(r.status, 200);
    const id = r.headers['x-request-id']?.[0] ?? '';
    assert.match(id, /^edge-1-[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-seen-id']?.[0], id);
    const kept = await curl(['-H', 'X-Request-Id: from-the-lb-42', `${base}/ids/b`]);
    assert.deepEqual(kept.headers['x-request-id'], ['from-the-lb-42']);
  });

  it('runs the body-rewrite plugin on a streamed body (HTTP/1.1 and h2c)', async () => {
    for (const version of ['--http1.1', '--http2-prior-knowledge']) {
      const r = await curl([version, `${base}/page`]);
      assert.equal(r.status, 200, version);
      assert.equal(r.body.toString(), '<a href="https://www.example.com/docs">docs</a>', version);
      assert.deepEqual(r.headers['etag'], ['W/"p1"'], version);
    }
  });

  it('answers 500 with a log line naming the plugin when it throws, and serves the next request', async () => {
    for (const where of ['request', 'async', 'crlf', 'response', 'choose', 'filter']) {
      const from = proxy.logs.length;
      const r = await curl(['-H', `x-fail: ${where}`, `${base}/faulty/x`]);
      assert.equal(r.status, 500, where);
      assert.equal(r.body.toString(), 'Internal Server Error', where);
      assert.equal(r.headers['x-faulty-version'], undefined, where);
      const [line] = failures(from);
      assert.equal(line?.plugin, 'faulty', where);
      assert.equal(line?.middleware, 'faulty@file', where);
      assert.equal(line?.path, '/faulty/x', where);
      const next = await curl([`${base}/faulty/ok`]);
      assert.equal(next.status, 200, `after ${where}`);
      assert.equal(next.body.toString(), 'ok /faulty/ok');
    }
    assert.ok(
      backend.seen.every((s) => s.headers['x-evil'] === undefined),
      'a CR LF header never left',
    );
  });

  it('breaks the response when its body filter throws after the head went out, and serves the next', async () => {
    const from = proxy.logs.length;
    const r = await curl(['-H', 'x-fail: late-filter', `${base}/faulty/f`]);
    // Broken, never completed: curl reports an error (an empty reply, or a body cut short).
    assert.notEqual(r.exitCode, 0, `curl exit code ${r.exitCode}`);
    assert.notEqual(r.body.toString(), 'ok /faulty/f');
    assert.equal(failures(from)[0]?.phase, 'body filter end');
    assert.equal((await curl([`${base}/faulty/ok`])).status, 200);
  });

  it('answers 500 on every request when its create throws', async () => {
    const made = proxy.logs.find((l) => l.msg === 'plugin failed' && l.phase === 'create');
    assert.match(String(made?.error), /create exploded/);
    const from = proxy.logs.length;
    assert.equal((await curl([`${base}/create`])).status, 500);
    assert.equal(failures(from)[0]?.middleware, 'faultyCreate@file');
  });

  it('reports an option its schema refuses at file:line:col, in the log and in traffic validate', async () => {
    const text = dynamic('"edge one"');
    const from = proxy.logs.length;
    let generation = currentGeneration(proxy);
    const file = proxy.writeFile('dyn.yaml', text);
    await waitApplied(proxy, ++generation);
    const where = positionOf(file, text, '"edge one"');
    const expected = `${where}: http.middlewares.ids.plugin.requestId.prefix: plugin requestId: letters, digits, \`.\`, \`_\`, \`:\` and \`-\` only (at most 64)`;
    assert.ok(errorIssues(proxy, from).includes(expected), errorIssues(proxy, from).join('\n'));
    // The middleware is left out, and so is its router; the others serve.
    assert.equal((await curl([`${base}/ids`])).status, 404);
    assert.equal((await curl([`${base}/faulty/ok`])).status, 200);

    const v = await runCli(['validate', '--config', proxy.configPath], { cwd: proxy.dir });
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.ok(v.stdout.split('\n').includes(expected), v.stdout);

    proxy.writeFile('dyn.yaml', dynamic('edge-1-'));
    await waitApplied(proxy, ++generation);
    const ok = await runCli(['validate', '--config', proxy.configPath], { cwd: proxy.dir });
    assert.equal(ok.code, 0, ok.stdout);
  });

  it('takes new options at a reload', async () => {
    let generation = currentGeneration(proxy);
    proxy.writeFile('dyn.yaml', dynamic('edge-2-'));
    await waitApplied(proxy, ++generation);
    const r = await curl([`${base}/ids`]);
    assert.match(r.headers['x-request-id']?.[0] ?? '', /^edge-2-/);
  });

  it('imports a changed plugin module with the next configuration change', async () => {
    assert.deepEqual((await curl([`${base}/faulty/v`])).headers['x-faulty-version'], ['1']);
    proxy.writeFile(FAULTY_FILE, faulty(2));
    // Saved alone, it waits for the configuration: nothing watches plugin files.
    assert.deepEqual((await curl([`${base}/faulty/v`])).headers['x-faulty-version'], ['1']);
    const from = proxy.logs.length;
    let generation = currentGeneration(proxy);
    proxy.writeFile('dyn.yaml', dynamic('edge-3-'));
    await waitApplied(proxy, ++generation);
    const reloaded = await waitForLogFrom(proxy, from, (l) => l.msg === 'plugin reloaded');
    assert.equal(reloaded.plugin, 'faulty');
    assert.deepEqual((await curl([`${base}/faulty/v`])).headers['x-faulty-version'], ['2']);
  });
});

describe('a plugin module that is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-ghost-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (abort: boolean) => `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental:
  abortOnPluginFailure: ${abort}
  localPlugins:
    ghost: { moduleName: example.com/ghost }
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s, middlewares: [g] }
  middlewares:
    g: { plugin: { ghost: {} } }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
`;
  const looked = join(dir, 'plugins-local', 'src', 'example.com', 'ghost');

  it('is a clear error naming the path looked at, in traffic validate', async () => {
    const file = join(dir, 'validate.yaml');
    writeFileSync(file, config(false));
    const r = await runCli(['validate', '--config', file], { cwd: dir });
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n');
    const at = positionOf(file, config(false), 'ghost: { moduleName');
    assert.ok(
      lines.includes(
        `${at}: experimental.localPlugins.ghost: plugin not loaded: no plugin module at ${looked} (no such file or folder); Traefik's layout: ./plugins-local/src/<moduleName> in the working directory; or set path`,
      ),
      r.stdout,
    );
    assert.ok(
      lines.some((l) =>
        l.includes('http.middlewares.g.plugin.ghost: plugin ghost is not loaded: no plugin module at'),
      ),
      r.stdout,
    );
  });

  it('stops run from starting with abortOnPluginFailure, as in Traefik', async () => {
    const file = join(dir, 'abort.yaml');
    writeFileSync(file, config(true));
    const r = await runCli(['run', '--config', file], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /"msg":"plugin not loaded","plugin":"ghost","error":"no plugin module at [^"]*example\.com\/ghost/,
    );
    assert.doesNotMatch(r.stderr, /entry point listening/);
  });

  it('without it, disables the middlewares naming the plugin and starts', async () => {
    const proxy = await startProxy({ config: config(false) });
    try {
      assert.ok(
        proxy.logs.some(
          (l) => l.msg === 'configuration error' && String(l.issue).includes('plugin ghost is not loaded'),
        ),
      );
      assert.equal((await curl([`http://127.0.0.1:${proxy.port}/`])).status, 404);
    } finally {
      await proxy.stop();
    }
  });
});
