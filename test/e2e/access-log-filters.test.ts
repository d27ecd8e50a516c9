import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import { waitForFileLines, within } from '../helpers/wait.ts';

/*
 * Traefik's accessLog options on the real proxy: status filters, request-header redaction, and
 * rotation (rename the file, SIGUSR1, the next line goes to a new file at the same path).
 */

async function backend(t: TestContext): Promise<Backend> {
  const be = await startBackend((req, res) => res.end(`${req.method} ${req.url}`));
  t.after(() => be.close());
  return be;
}

function config(be: Backend, accessLog: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
accessLog:
${accessLog}
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`;
}

function tempFile(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-access-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

async function start(t: TestContext, text: string): Promise<ProxyProcess> {
  const proxy = await startProxy({ config: text });
  t.after(() => proxy.stop());
  return proxy;
}

async function send(t: TestContext, proxy: ProxyProcess, head: string, status: number): Promise<void> {
  const c = await RawConn.open(proxy.port);
  t.after(() => c.destroy());
  c.write(`${head}\r\n\r\n`);
  assert.equal((await c.readResponse()).status, status);
}

/** Stops the proxy (which flushes the access log) and checks it exited cleanly. */
async function stop(proxy: ProxyProcess): Promise<void> {
  const stream = proxy.child.stdout!;
  const ended = stream.readableEnded ? Promise.resolve() : once(stream, 'end').then(() => {});
  assert.equal(await proxy.stop(), 0);
  await within(ended, 'stdout to end');
}

function records(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('access log filters, fields and rotation', () => {
  it('logs only the requests whose status matches filters.statusCodes', async (t) => {
    const be = await backend(t);
    const file = tempFile(t, 'access.json');
    const proxy = await start(
      t,
      config(be, `  format: json\n  filePath: "${file}"\n  filters: { statusCodes: ["404"] }`),
    );
    await send(t, proxy, 'GET /app/ok HTTP/1.1\r\nHost: shop.test', 200);
    await send(t, proxy, 'GET /nowhere HTTP/1.1\r\nHost: shop.test', 404);
    await send(t, proxy, 'GET /app/ok-again HTTP/1.1\r\nHost: shop.test', 200);
    await stop(proxy); // every line that was going to be written is in the file now
    assert.deepEqual(
      records(file).map((r) => [r.RequestPath, r.DownstreamStatus]),
      [['/nowhere', 404]],
    );
  });

  it("starts with statusCodes Traefik's NewHTTPCodeRanges cannot read, and filters on no status", async (t) => {
    // pkg/middlewares/accesslog/logger.go NewHandler logs "Failed to create new HTTP code ranges"
    // and goes on; the static file was refused here (`4xx`).
    const be = await backend(t);
    const file = tempFile(t, 'access.json');
    const proxy = await start(
      t,
      config(be, `  format: json\n  filePath: "${file}"\n  filters: { statusCodes: ["404", "4xx"] }`),
    );
    assert.ok(
      proxy.logs.some((l) =>
        JSON.stringify(l).includes('Failed to create new HTTP code ranges: strconv.Atoi'),
      ),
      JSON.stringify(proxy.logs),
    );
    await send(t, proxy, 'GET /app/ok HTTP/1.1\r\nHost: shop.test', 200);
    await send(t, proxy, 'GET /nowhere HTTP/1.1\r\nHost: shop.test', 404);
    await stop(proxy);
    assert.deepEqual(
      records(file).map((r) => [r.RequestPath, r.DownstreamStatus]),
      [
        ['/app/ok', 200],
        ['/nowhere', 404],
      ],
    );
  });

  it('redacts a request header named in fields.headers.names, case-insensitively, and drops the rest', async (t) => {
    const be = await backend(t);
    const file = tempFile(t, 'access.json');
    const proxy = await start(
      t,
      config(
        be,
        `  format: json\n  filePath: "${file}"\n  fields:\n    headers:\n      names: { Authorization: redact, X-Request-Id: keep }`,
      ),
    );
    await send(
      t,
      proxy,
      'GET /app/private HTTP/1.1\r\nHost: shop.test\r\nauthorization: Bearer top-secret-token\r\nx-request-id: req-42\r\nX-Other: other-value',
      200,
    );
    const lines = await waitForFileLines(file, 1);
    assert.equal(lines.length, 1);
    const r = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(r.RequestPath, '/app/private');
    assert.equal(r.request_Authorization, 'REDACTED');
    assert.equal(r['request_X-Request-Id'], 'req-42');
    assert.equal('request_X-Other' in r, false, 'headers default to drop');
    assert.doesNotMatch(lines[0]!, /top-secret-token|other-value/);
  });

  it('fields.queryParameters.defaultMode drop logs RequestPath without its query, JSON and CLF (Traefik v3.7.3)', async (t) => {
    // Traefik PR #13091: keep (the default) or drop the query string of RequestPath.
    const be = await backend(t);
    const json = tempFile(t, 'access.json');
    const proxy = await start(
      t,
      config(
        be,
        `  format: json\n  filePath: "${json}"\n  fields:\n    queryParameters: { defaultMode: drop }`,
      ),
    );
    await send(t, proxy, 'GET /app/tokens?secret=abc123&x=1 HTTP/1.1\r\nHost: shop.test', 200);
    await send(t, proxy, 'GET /app/plain HTTP/1.1\r\nHost: shop.test', 200);
    await stop(proxy);
    assert.deepEqual(
      records(json).map((r) => r.RequestPath),
      ['/app/tokens', '/app/plain'],
    );
    assert.doesNotMatch(readFileSync(json, 'utf8'), /abc123/);
    // The same from the environment (flags given with a file are ignored, as in Traefik), in the
    // common format; keep (the default) leaves it.
    const clf = tempFile(t, 'access.log');
    const cli = await startProxy({
      config: config(be, `  filePath: "${clf}"`),
      env: { TRAFFIC_ACCESSLOG_FIELDS_QUERYPARAMETERS_DEFAULTMODE: 'drop' },
    });
    t.after(() => cli.stop());
    await send(t, cli, 'GET /app/tokens?secret=abc123 HTTP/1.1\r\nHost: shop.test', 200);
    await stop(cli);
    assert.match(readFileSync(clf, 'utf8'), /"GET \/app\/tokens HTTP\/1.1" 200 /);
    const kept = tempFile(t, 'kept.json');
    const keep = await start(
      t,
      config(be, `  format: json\n  filePath: "${kept}"\n  fields: { queryParameters: {} }`),
    );
    await send(t, keep, 'GET /app/q?x=1 HTTP/1.1\r\nHost: shop.test', 200);
    await stop(keep);
    assert.deepEqual(
      records(kept).map((r) => r.RequestPath),
      ['/app/q?x=1'],
    );
  });

  it('logs the response fields as downstream_ and, when a service answered, origin_ (Traefik redactHeaders)', async (t) => {
    // Traefik's logTheRoundTrip: redactHeaders(OriginResponse, "origin_") and
    // (DownstreamResponse.headers, "downstream_"), under fields.headers' modes.
    const be = await startBackend((_req, res) => {
      res.setHeader('X-Answer', ['one', 'two']);
      res.setHeader('X-Secret', 'hidden-value');
      res.end('ok');
    });
    t.after(() => be.close());
    const file = tempFile(t, 'access.json');
    const proxy = await start(
      t,
      config(
        be,
        `  format: json\n  filePath: "${file}"\n  fields:\n    headers:\n      defaultMode: keep\n      names: { x-secret: redact, Date: drop }`,
      ),
    );
    await send(t, proxy, 'GET /app/x HTTP/1.1\r\nHost: shop.test', 200);
    await send(t, proxy, 'GET /nowhere HTTP/1.1\r\nHost: shop.test', 404);
    await stop(proxy);
    const [ok, missing] = records(file);
    assert.equal(ok!['downstream_X-Answer'], 'one,two');
    assert.equal(ok!['origin_X-Answer'], 'one,two');
    assert.equal(ok!['downstream_X-Secret'], 'REDACTED');
    assert.equal(ok!['origin_X-Secret'], 'REDACTED');
    assert.equal(ok!['downstream_Content-Length'], '2');
    assert.equal('downstream_Date' in ok!, false, 'dropped by name');
    // Hop-by-hop fields never reach Go's map (ReverseProxy removes them).
    assert.equal('downstream_Connection' in ok! || 'downstream_Keep-Alive' in ok!, false);
    // Go's key order: downstream_ after the capitals, before entryPointName; origin_ after msg,
    // before request_.
    const keys = Object.keys(ok!);
    const at = (k: string): number => keys.indexOf(k);
    assert.ok(at('StartUTC') < at('downstream_Content-Length'));
    assert.ok(at('downstream_X-Secret') < at('entryPointName'));
    assert.ok(at('msg') < at('origin_Content-Length'));
    assert.ok(at('origin_X-Secret') < at('request_X-Forwarded-Proto'));
    // The proxy's own 404 (Go's http.NotFound): the fields http.Error sets, and no origin_ (no
    // service took it).
    assert.equal(missing!['downstream_Content-Type'], 'text/plain; charset=utf-8');
    assert.equal(missing!['downstream_X-Content-Type-Options'], 'nosniff');
    assert.equal(
      Object.keys(missing!).some((k) => k.startsWith('origin_')),
      false,
    );
    assert.doesNotMatch(readFileSync(file, 'utf8'), /hidden-value/);
  });

  it('writes to a new file at the same path after a rename and SIGUSR1, losing no line', async (t) => {
    const be = await backend(t);
    const file = tempFile(t, 'access.json');
    const rotated = `${file}.1`;
    const proxy = await start(t, config(be, `  format: json\n  filePath: "${file}"`));
    await send(t, proxy, 'GET /app/before HTTP/1.1\r\nHost: shop.test', 200);
    await waitForFileLines(file, 1);
    renameSync(file, rotated); // as logrotate does, then it signals the proxy
    proxy.child.kill('SIGUSR1');
    // The signal and the reopen are asynchronous: the first request after it may still land in
    // the old file (never in both, never lost); the one after that lands in the new file.
    await send(t, proxy, 'GET /app/after HTTP/1.1\r\nHost: shop.test', 200);
    await send(t, proxy, 'GET /app/later HTTP/1.1\r\nHost: shop.test', 200);
    await waitForFileLines(file, 1);
    await stop(proxy);
    const old = records(rotated).map((r) => r.RequestPath);
    const fresh = records(file).map((r) => r.RequestPath);
    assert.equal(old[0], '/app/before');
    assert.equal(fresh.at(-1), '/app/later');
    assert.deepEqual([...old, ...fresh], ['/app/before', '/app/after', '/app/later']);
  });
});
