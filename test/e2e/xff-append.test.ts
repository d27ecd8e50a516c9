/**
 * When the peer's address is appended to X-Forwarded-For, through the real proxy process.
 * Traefik's entry point (pkg/middlewares/forwardedheaders/forwarded_header.go rewrite) only joins
 * a trusted peer's X-Forwarded-For lines (and drops an untrusted peer's); its proxy appends the
 * peer to each request it writes upstream (pkg/proxy/httputil/proxy.go rewriteRequestBuilder,
 * skipped with `forwardedHeaders.notAppendXForwardedFor`). So routing rules see the field without
 * the peer, and every request a backend gets (HTTP/1.1, HTTP/2 to h2c servers on both engines, a
 * WebSocket handshake, a mirror's copy, each retry) carries the peer exactly once.
 */
import assert from 'node:assert/strict';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { within } from '../helpers/wait.ts';
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.ts';

/** Every X-Forwarded-For value in a raw header list (`name, value, …`), in order. */
function xffOf(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'x-forwarded-for') out.push(rawHeaders[i + 1]!);
  }
  return out;
}

/** An h2c backend that records the raw fields of each stream and answers 200. */
async function startH2c(): Promise<{ server: Http2Server; port: number; seen: string[][] }> {
  const seen: string[][] = [];
  const server = createH2Server();
  server.on('stream', (s, _h, _flags, raw) => {
    s.on('error', () => {});
    seen.push(raw);
    s.respond({ ':status': 200 });
    s.end('h2c');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

for (const engine of H2_ENGINES) {
  describe(`X-Forwarded-For: the peer appended to each upstream head, never before routing (HTTP/2 engine ${engine})`, () => {
    let echo: Backend;
    let copy: Backend;
    let flaky: Backend;
    let h2c: Awaited<ReturnType<typeof startH2c>>;
    let ws: WsBackend;
    let auth: Backend;
    let proxy: ProxyProcess;
    let copied: () => void = () => {};

    before(async () => {
      echo = await startBackend();
      copy = await startBackend((_req, res) => {
        res.end('copy');
        copied();
      });
      // Resets the first request of each pair after reading its head: a 502 the retry middleware
      // (with `status: ["502"]`, Traefik v3.7) tries again.
      let n = 0;
      flaky = await startBackend((req, res) => {
        if (n++ % 2 === 0) req.socket.resetAndDestroy();
        else res.end('second');
      });
      h2c = await startH2c();
      ws = await startWsBackend();
      auth = await startBackend((_req, res) => {
        res.setHeader('X-Forwarded-For', '192.0.2.9');
        res.end();
      });
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  plain:
    address: "127.0.0.1:0"
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
  noappend:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"], notAppendXForwardedFor: true }
log: { level: INFO }
http:
  routers:
    echo:   { rule: "Host(\`echo.test\`)", service: echo }
    exact:  { rule: 'Host(\`exact.test\`) && Header(\`X-Forwarded-For\`, \`203.0.113.5\`)', service: echo }
    regexp: { rule: 'Host(\`regexp.test\`) && HeaderRegexp(\`X-Forwarded-For\`, \`^203[.]0[.]113[.]5$\`)', service: echo }
    peer:   { rule: 'Host(\`peer.test\`) && HeaderRegexp(\`X-Forwarded-For\`, \`127[.]0[.]0[.]1\`)', service: echo }
    h2c:    { rule: "Host(\`h2c.test\`)", service: h2c }
    ws:     { rule: "Host(\`ws.test\`)", service: ws }
    mirror: { rule: "Host(\`mirror.test\`)", service: mirrored }
    retry:  { rule: "Host(\`retry.test\`)", service: flaky, middlewares: [retry] }
    nil:    { rule: "Host(\`nil.test\`)", service: echo, middlewares: [nil] }
    del:    { rule: "Host(\`del.test\`)", service: echo, middlewares: [del] }
    nilfa:  { rule: "Host(\`nilfa.test\`)", service: echo, middlewares: [nil, fa] }
    nilre:  { rule: "Host(\`nilre.test\`)", service: echo, middlewares: [nil, fare] }
  middlewares:
    retry: { retry: { attempts: 2, status: ["502"] } }
    nil: { headers: { customRequestHeaders: { X-Forwarded-For: "" } } }
    del: { headers: { customRequestHeaders: { x-forwarded-for: "" } } }
    fa: { forwardAuth: { address: "${auth.url}", trustForwardHeader: false, authResponseHeaders: [X-Forwarded-For] } }
    fare: { forwardAuth: { address: "${auth.url}", trustForwardHeader: false, authResponseHeadersRegex: "^X-Forwarded-F" } }
  services:
    echo: { loadBalancer: { servers: [{ url: "${echo.url}" }] } }
    h2c: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${h2c.port}" }] } }
    ws: { loadBalancer: { servers: [{ url: "${ws.url}" }] } }
    flaky: { loadBalancer: { servers: [{ url: "${flaky.url}" }] } }
    copy: { loadBalancer: { servers: [{ url: "${copy.url}" }] } }
    mirrored: { mirroring: { service: echo, mirrors: [{ name: copy, percent: 100 }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await Promise.all([echo?.close(), copy?.close(), flaky?.close(), ws?.close(), auth?.close()]);
      await new Promise<void>((resolve) => (h2c ? h2c.server.close(() => resolve()) : resolve()));
    });

    /** An HTTP/1.1 GET to entry point `ep` with `fields`; the status and the requests `b` got meanwhile. */
    async function h1(ep: string, host: string, fields = '', b: Backend = echo) {
      const before = b.seen.length;
      const r = await rawRequest(proxy.ports[ep]!, `GET /x HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`, {
        responses: 1,
        timeoutMs: 5000,
      });
      return {
        status: r.responses[0]?.status ?? 0,
        seen: b.seen.slice(before).map((s) => xffOf(s.rawHeaders)),
      };
    }

    it('routes on X-Forwarded-For as the client sent it: Header and HeaderRegexp rules see no peer', async () => {
      const exact = await h1('trusted', 'exact.test', 'X-Forwarded-For: 203.0.113.5\r\n');
      assert.equal(exact.status, 200);
      assert.deepEqual(exact.seen, [['203.0.113.5, 127.0.0.1']], 'the backend gets the peer after it');
      assert.equal((await h1('trusted', 'regexp.test', 'X-Forwarded-For: 203.0.113.5\r\n')).status, 200);
      // An untrusted peer's field is dropped and nothing takes its place before routing.
      assert.equal((await h1('plain', 'peer.test')).status, 404);
      assert.equal((await h1('trusted', 'peer.test')).status, 404);
      assert.equal((await h1('plain', 'regexp.test', 'X-Forwarded-For: 203.0.113.5\r\n')).status, 404);
    });

    it('appends the peer once to an HTTP/1.1 backend, its lines joined, unless notAppendXForwardedFor', async () => {
      assert.deepEqual((await h1('plain', 'echo.test', 'X-Forwarded-For: 6.6.6.6\r\n')).seen, [
        ['127.0.0.1'],
      ]);
      assert.deepEqual(
        (
          await h1(
            'trusted',
            'echo.test',
            'X-Forwarded-For: 203.0.113.5\r\nX-Forwarded-For: 198.51.100.1\r\n',
          )
        ).seen,
        [['203.0.113.5, 198.51.100.1, 127.0.0.1']],
      );
      assert.deepEqual((await h1('noappend', 'echo.test', 'X-Forwarded-For: 203.0.113.5\r\n')).seen, [
        ['203.0.113.5'],
      ]);
      assert.deepEqual((await h1('noappend', 'echo.test')).seen, [[]]);
    });

    it('appends the peer once for an HTTP/2 client, and to an h2c backend', async () => {
      const before = echo.seen.length;
      const r = await curl([
        '--http2-prior-knowledge',
        '-H',
        'Host: echo.test',
        '-H',
        'X-Forwarded-For: 203.0.113.5',
        `http://127.0.0.1:${proxy.ports['trusted']}/h2`,
      ]);
      assert.equal(r.status, 200, r.stderr);
      assert.deepEqual(xffOf(echo.seen[before]!.rawHeaders), ['203.0.113.5, 127.0.0.1']);
      const to = async (ep: string, fields: string) => {
        const n = h2c.seen.length;
        assert.equal((await h1(ep, 'h2c.test', fields)).status, 200);
        return xffOf(h2c.seen[n]!);
      };
      assert.deepEqual(
        await to('trusted', 'X-Forwarded-For: 203.0.113.5\r\nX-Forwarded-For: 198.51.100.1\r\n'),
        ['203.0.113.5, 198.51.100.1, 127.0.0.1'],
      );
      assert.deepEqual(await to('plain', 'X-Forwarded-For: 6.6.6.6\r\n'), ['127.0.0.1']);
      assert.deepEqual(await to('noappend', 'X-Forwarded-For: 203.0.113.5\r\n'), ['203.0.113.5']);
    });

    it('appends the peer once to a WebSocket handshake', async () => {
      const n = ws.handshakes.length;
      const c = new WebSocket(`ws://127.0.0.1:${proxy.ports['trusted']}/ws`, {
        headers: { Host: 'ws.test', 'X-Forwarded-For': '203.0.113.5' },
      });
      await within(
        new Promise<void>((resolve, reject) => {
          c.once('open', () => resolve());
          c.once('error', reject);
        }),
        'the WebSocket opens',
      );
      c.terminate();
      assert.deepEqual(xffOf(ws.handshakes[n]!.rawHeaders), ['203.0.113.5, 127.0.0.1']);
    });

    it("appends the peer once to a mirror's copy, as to the request itself", async () => {
      const n = copy.seen.length;
      const arrived = new Promise<void>((resolve) => {
        copied = resolve;
      });
      const r = await h1('trusted', 'mirror.test', 'X-Forwarded-For: 203.0.113.5\r\n');
      assert.equal(r.status, 200);
      assert.deepEqual(r.seen, [['203.0.113.5, 127.0.0.1']]);
      await within(arrived, 'the mirror gets its copy');
      assert.deepEqual(xffOf(copy.seen[n]!.rawHeaders), ['203.0.113.5, 127.0.0.1']);
    });

    it('appends the peer once to each try of a retried request', async () => {
      const r = await h1('trusted', 'retry.test', 'X-Forwarded-For: 203.0.113.5\r\n', flaky);
      assert.equal(r.status, 200);
      assert.deepEqual(r.seen, [['203.0.113.5, 127.0.0.1'], ['203.0.113.5, 127.0.0.1']]);
    });

    it("honours a headers middleware's nil X-Forwarded-For (no field, no peer); another spelling only removes", async () => {
      // pkg/middlewares/headers/header.go: nil under exactly `X-Forwarded-For`, Header.Del otherwise.
      assert.deepEqual((await h1('trusted', 'nil.test', 'X-Forwarded-For: 203.0.113.5\r\n')).seen, [[]]);
      assert.deepEqual((await h1('trusted', 'del.test', 'X-Forwarded-For: 203.0.113.5\r\n')).seen, [
        ['127.0.0.1'],
      ]);
    });

    it("undoes the nil field when forwardAuth's authResponseHeaders copy X-Forwarded-For onto the request", async () => {
      // forward.go ServeHTTP: Del, then the auth answer's values; the proxy appends the peer to them.
      assert.deepEqual((await h1('trusted', 'nilfa.test', 'X-Forwarded-For: 203.0.113.5\r\n')).seen, [
        ['192.0.2.9, 127.0.0.1'],
      ]);
      assert.deepEqual((await h1('trusted', 'nilre.test', 'X-Forwarded-For: 203.0.113.5\r\n')).seen, [
        ['192.0.2.9, 127.0.0.1'],
      ]);
    });
  });
}
