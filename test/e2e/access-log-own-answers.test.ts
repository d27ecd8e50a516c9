import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';

/*
 * The proxy's own answers, on the wire and in the access log's downstream_ fields. Traefik logs
 * its handler's header map (rw.Header(), pkg/middlewares/accesslog/logger.go), which holds only
 * the fields its code set: Go's http.Error sets Content-Type and X-Content-Type-Options (404,
 * 503 "no available server"), goauth sets `text/plain` (basicAuth's 401), while the redirect
 * middlewares' moveHandler and the proxy's error handler (502, 504) set none, and Go's server
 * writes none on the wire either: Traefik's entry point turns its sniffing off
 * (contenttype.DisableAutoDetection).
 */

const TEXT = 'text/plain; charset=utf-8';

describe('access log downstream_ fields of our own answers (Traefik: its handler header map)', () => {
  let proxy: ProxyProcess;
  let dir: string;
  let file: string;
  const wire = new Map<string, { status: number; headers: ReadonlyMap<string, string> }>();
  const logged = new Map<string, Record<string, unknown>>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-own-answers-'));
    file = join(dir, 'access.json');
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog: { format: json, filePath: "${file}", fields: { headers: { defaultMode: keep } } }
log: { level: INFO }
http:
  routers:
    r502: { rule: "Path(\`/502\`)", service: refused }
    r503: { rule: "Path(\`/503\`)", service: empty }
    redir: { rule: "Path(\`/redir\`)", service: refused, middlewares: [toHttps] }
    regex: { rule: "Path(\`/regex\`)", service: refused, middlewares: [rx] }
    auth: { rule: "Path(\`/auth\`)", service: refused, middlewares: [ba] }
  middlewares:
    toHttps: { redirectScheme: { scheme: https } }
    rx: { redirectRegex: { regex: ".*", replacement: "http://x.test/" } }
    ba: { basicAuth: { users: ["u:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"] } }
  services:
    refused: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
    empty: { loadBalancer: { servers: [] } }
`,
    });
    for (const path of ['/nothing', '/502', '/503', '/redir', '/regex', '/auth']) {
      const c = await RawConn.open(proxy.ports['web']!);
      c.write(`GET ${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
      wire.set(path, await c.readResponse());
      c.destroy();
    }
    await proxy.stop(); // every line is in the file now
    for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
      const r = JSON.parse(line) as Record<string, unknown>;
      logged.set(String(r.RequestPath), r);
    }
  });
  after(async () => {
    await proxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a redirect: no Content-Type on the wire nor in the log (moveHandler sets Location only)', () => {
    for (const path of ['/redir', '/regex']) {
      assert.equal(wire.get(path)?.status, 302, path);
      assert.equal(wire.get(path)?.headers.get('content-type'), undefined, path);
      const r = logged.get(path)!;
      assert.equal(typeof r.downstream_Location, 'string', path);
      assert.equal('downstream_Content-Type' in r, false, `${path}: ${JSON.stringify(r)}`);
    }
  });

  it("http.Error's answers (404, 503): both fields on the wire and in the log", () => {
    for (const path of ['/nothing', '/503']) {
      assert.equal(wire.get(path)?.headers.get('content-type'), TEXT, path);
      assert.equal(wire.get(path)?.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(logged.get(path)!['downstream_Content-Type'], TEXT, path);
      assert.equal(logged.get(path)!['downstream_X-Content-Type-Options'], 'nosniff', path);
    }
  });

  it("the proxy's 502: no Content-Type on the wire nor in the log (Traefik's error handler sets none)", () => {
    assert.equal(wire.get('/502')?.status, 502);
    assert.equal(wire.get('/502')?.headers.get('content-type'), undefined);
    assert.equal('downstream_Content-Type' in logged.get('/502')!, false);
  });

  it("basicAuth's 401: goauth's text/plain, on the wire and in the log", () => {
    assert.equal(wire.get('/auth')?.status, 401);
    assert.equal(wire.get('/auth')?.headers.get('content-type'), 'text/plain');
    assert.equal(logged.get('/auth')!['downstream_Content-Type'], 'text/plain');
  });
});
