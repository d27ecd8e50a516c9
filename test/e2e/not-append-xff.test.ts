/**
 * `entryPoints.<ep>.forwardedHeaders.notAppendXForwardedFor` (Traefik v3.7), through the real
 * proxy process: what X-Forwarded-For a real backend receives from trusted, untrusted and
 * `insecure` entry points, over HTTP/1.1 and HTTP/2 (h2c, both engines), and what the readers
 * that count its hops (ipAllowList's ipStrategy, forwardAuth's trustForwardHeader, the headers
 * middleware, the access log's ClientHost) make of it. Traefik's forwardedheaders middleware sets
 * a flag on the request that pkg/proxy/httputil rewriteRequestBuilder reads: the peer's address
 * is not appended, a trusted peer's field goes on as it came (its lines joined), an untrusted
 * peer's is deleted and none is sent; X-Real-Ip is set all the same.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { waitForFileLines } from '../helpers/wait.ts';

/** Every value of a field as the backend received it, in order (rawHeaders, not Node's merge). */
function rawValues(seen: Backend['seen'][number], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) {
    if (seen.rawHeaders[i]!.toLowerCase() === name) out.push(seen.rawHeaders[i + 1]!);
  }
  return out;
}

function config(backend: Backend, auth: Backend, accessLog = ''): string {
  return `entryPoints:
  plain:
    address: "127.0.0.1:0"
    forwardedHeaders: { notAppendXForwardedFor: true }
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"], notAppendXForwardedFor: true }
  insecure:
    address: "127.0.0.1:0"
    forwardedHeaders: { insecure: true, notAppendXForwardedFor: true }
  appending:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: INFO }
${accessLog}
http:
  routers:
    echo:  { rule: "Host(\`echo.test\`)", service: echo }
    allow: { rule: "Host(\`allow.test\`)", service: echo, middlewares: [depth1] }
    set:   { rule: "Host(\`set.test\`)", service: echo, middlewares: [setxff] }
    fa:    { rule: "Host(\`fa.test\`)", service: echo, middlewares: [fa] }
  middlewares:
    depth1: { ipAllowList: { sourceRange: ["198.51.100.0/24"], ipStrategy: { depth: 1 } } }
    setxff: { headers: { customRequestHeaders: { X-Forwarded-For: "192.0.2.77" } } }
    fa: { forwardAuth: { address: "${auth.url}", trustForwardHeader: true } }
  services:
    echo:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`;
}

for (const engine of H2_ENGINES) {
  describe(`forwardedHeaders.notAppendXForwardedFor (HTTP/2 engine ${engine})`, () => {
    let backend: Backend;
    let auth: Backend;
    let proxy: ProxyProcess;

    /** Sends an HTTP/1.1 request with `fields` to entry point `ep`; returns the status and what the backend saw. */
    async function h1(
      ep: string,
      fields: string,
      host = 'echo.test',
    ): Promise<{ status: number; seen: Backend['seen'][number] | undefined }> {
      const before = backend.seen.length;
      const r = await rawRequest(proxy.ports[ep]!, `GET /x HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`, {
        responses: 1,
        timeoutMs: 5000,
      });
      const status = r.responses[0]?.status ?? 0;
      return { status, seen: backend.seen.length > before ? backend.seen[before] : undefined };
    }

    /** The X-Forwarded-For values the backend got for an HTTP/1.1 request (200 expected). */
    async function xff(ep: string, fields: string, host?: string): Promise<string[]> {
      const r = await h1(ep, fields, host);
      assert.equal(r.status, 200);
      return rawValues(r.seen!, 'x-forwarded-for');
    }

    /** The same over HTTP/2 (h2c, prior knowledge), each `-H` one field. */
    async function h2(ep: string, headers: string[]): Promise<Backend['seen'][number]> {
      const before = backend.seen.length;
      const args = ['--http2-prior-knowledge', '-H', 'Host: echo.test'];
      for (const h of headers) args.push('-H', h);
      const r = await curl([...args, `http://127.0.0.1:${proxy.ports[ep]}/h2`]);
      assert.equal(r.status, 200, r.stderr);
      assert.equal(r.transfers[0]?.info['http_version'], '2');
      assert.equal(backend.seen.length, before + 1);
      return backend.seen[before]!;
    }

    before(async () => {
      backend = await startBackend();
      auth = await startBackend((_req, res) => res.end());
      proxy = await startProxy({ config: config(backend, auth), env: engineEnv(engine) });
    });

    after(async () => {
      await proxy?.stop();
      await Promise.all([backend?.close(), auth?.close()]);
    });

    it("passes a trusted peer's X-Forwarded-For as it came, without the peer's address", async () => {
      assert.deepEqual(await xff('trusted', 'X-Forwarded-For: 203.0.113.5, 10.0.0.1\r\n'), [
        '203.0.113.5, 10.0.0.1',
      ]);
      // Several lines become one list (forwardedheaders rewrite), still nothing appended.
      assert.deepEqual(
        await xff('trusted', 'X-Forwarded-For: 203.0.113.5\r\nX-Forwarded-For: 10.0.0.1\r\n'),
        ['203.0.113.5, 10.0.0.1'],
      );
      // The proxy in front may well have put our peer last itself: it stays, once.
      assert.deepEqual(await xff('trusted', 'X-Forwarded-For: 203.0.113.5, 127.0.0.1\r\n'), [
        '203.0.113.5, 127.0.0.1',
      ]);
      // `Connection: X-Forwarded-For` cannot strip it (Traefik's removeConnectionHeaders skips
      // the X- fields it manages).
      assert.deepEqual(
        await xff('trusted', 'Connection: X-Forwarded-For\r\nX-Forwarded-For: 203.0.113.5\r\n'),
        ['203.0.113.5'],
      );
      // On an entry point without the option, the peer is appended (the default).
      assert.deepEqual(await xff('appending', 'X-Forwarded-For: 203.0.113.5\r\n'), [
        '203.0.113.5, 127.0.0.1',
      ]);
    });

    it('sends no X-Forwarded-For when a trusted peer sent none; X-Real-Ip is still the peer', async () => {
      const r = await h1('trusted', '');
      assert.equal(r.status, 200);
      assert.deepEqual(rawValues(r.seen!, 'x-forwarded-for'), []);
      assert.deepEqual(rawValues(r.seen!, 'x-real-ip'), ['127.0.0.1']);
      assert.deepEqual(rawValues(r.seen!, 'x-forwarded-proto'), ['http']);
    });

    it("drops an untrusted peer's X-Forwarded-For and sends none in its place", async () => {
      const r = await h1(
        'plain',
        'X-Forwarded-For: 6.6.6.6\r\nX-Real-Ip: 6.6.6.6\r\nX_Forwarded_For: 6.6.6.6\r\n',
      );
      assert.equal(r.status, 200);
      assert.deepEqual(rawValues(r.seen!, 'x-forwarded-for'), []);
      assert.deepEqual(rawValues(r.seen!, 'x_forwarded_for'), []);
      assert.deepEqual(rawValues(r.seen!, 'x-real-ip'), ['127.0.0.1']);
      assert.deepEqual(await xff('plain', ''), []);
    });

    it('trusts every peer with insecure: the field as it came, or none', async () => {
      assert.deepEqual(await xff('insecure', 'X-Forwarded-For: 203.0.113.5\r\n'), ['203.0.113.5']);
      assert.deepEqual(await xff('insecure', ''), []);
    });

    it('does the same over HTTP/2', async () => {
      const trusted = await h2('trusted', ['X-Forwarded-For: 203.0.113.5, 10.0.0.1']);
      assert.deepEqual(rawValues(trusted, 'x-forwarded-for'), ['203.0.113.5, 10.0.0.1']);
      const none = await h2('trusted', []);
      assert.deepEqual(rawValues(none, 'x-forwarded-for'), []);
      assert.deepEqual(rawValues(none, 'x-real-ip'), ['127.0.0.1']);
      const untrusted = await h2('plain', ['X-Forwarded-For: 6.6.6.6']);
      assert.deepEqual(rawValues(untrusted, 'x-forwarded-for'), []);
      const appending = await h2('appending', ['X-Forwarded-For: 203.0.113.5']);
      assert.deepEqual(rawValues(appending, 'x-forwarded-for'), ['203.0.113.5, 127.0.0.1']);
    });

    it("counts ipStrategy depth from the right of the field as the trusted peer sent it, as Traefik's middleware reads it", async () => {
      // depth 1: the rightmost entry the proxy in front reported, with or without the option.
      const allowed = await h1('trusted', 'X-Forwarded-For: 203.0.113.9, 198.51.100.4\r\n', 'allow.test');
      assert.equal(allowed.status, 200);
      assert.deepEqual(rawValues(allowed.seen!, 'x-forwarded-for'), ['203.0.113.9, 198.51.100.4']);
      assert.equal(
        (await h1('trusted', 'X-Forwarded-For: 198.51.100.4, 203.0.113.9\r\n', 'allow.test')).status,
        403,
      );
      assert.equal(
        (await h1('appending', 'X-Forwarded-For: 203.0.113.9, 198.51.100.4\r\n', 'allow.test')).status,
        200,
      );
      assert.equal(
        (await h1('appending', 'X-Forwarded-For: 198.51.100.4, 203.0.113.9\r\n', 'allow.test')).status,
        403,
      );
      // An untrusted peer's field is gone and none was added: no address at depth 1.
      assert.equal((await h1('plain', 'X-Forwarded-For: 198.51.100.4\r\n', 'allow.test')).status, 403);
    });

    it("sends a headers middleware's X-Forwarded-For as set, without the peer after it", async () => {
      assert.deepEqual(await xff('trusted', 'X-Forwarded-For: 203.0.113.5\r\n', 'set.test'), ['192.0.2.77']);
      assert.deepEqual(await xff('appending', 'X-Forwarded-For: 203.0.113.5\r\n', 'set.test'), [
        '192.0.2.77, 127.0.0.1',
      ]);
    });

    it("gives forwardAuth's trustForwardHeader the peer after the field all the same (forward.go appends it)", async () => {
      const before = auth.seen.length;
      assert.deepEqual(await xff('trusted', 'X-Forwarded-For: 203.0.113.5\r\n', 'fa.test'), ['203.0.113.5']);
      assert.deepEqual(rawValues(auth.seen[before]!, 'x-forwarded-for'), ['203.0.113.5, 127.0.0.1']);
    });
  });
}

describe('forwardedHeaders.notAppendXForwardedFor: the access log', () => {
  let backend: Backend;
  let auth: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend();
    auth = await startBackend((_req, res) => res.end());
    proxy = await startProxy({
      config: config(backend, auth, 'accessLog: { format: json, filePath: "access.json" }'),
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), auth?.close()]);
  });

  it("logs ClientHost as the trusted peer's X-Forwarded-For, whole, and the peer when there is none", async () => {
    const send = async (ep: string, fields: string): Promise<void> => {
      const r = await rawRequest(proxy.ports[ep]!, `GET /x HTTP/1.1\r\nHost: echo.test\r\n${fields}\r\n`, {
        responses: 1,
        timeoutMs: 5000,
      });
      assert.equal(r.responses[0]?.status, 200);
    };
    await send('trusted', 'X-Forwarded-For: 203.0.113.5, 127.0.0.1\r\n');
    await send('trusted', '');
    await send('plain', 'X-Forwarded-For: 6.6.6.6\r\n');
    await send('appending', 'X-Forwarded-For: 203.0.113.5, 127.0.0.1\r\n');
    // An empty field from a trusted peer is "" to Traefik's Header.Get: the peer's address.
    await send('appending', 'X-Forwarded-For: \r\n');
    await send('trusted', 'X-Forwarded-For: \r\n');
    const lines = await waitForFileLines(join(proxy.dir, 'access.json'), 6);
    const hosts = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((r) => [r['entryPointName'], r['ClientHost']]);
    assert.deepEqual(hosts.sort(), [
      ['appending', '127.0.0.1'],
      ['appending', '203.0.113.5, 127.0.0.1'],
      ['plain', '127.0.0.1'],
      ['trusted', '127.0.0.1'],
      ['trusted', '127.0.0.1'],
      ['trusted', '203.0.113.5, 127.0.0.1'],
    ]);
  });

  it('logs ClientHost as X-Forwarded-For came to the router, before a headers middleware set it', async () => {
    // Traefik's access log reads the field at the start of its handler, in the entry point's
    // chain (accesslog/logger.go ServeHTTP), before the router's middlewares.
    const r = await rawRequest(
      proxy.ports['appending']!,
      'GET /x HTTP/1.1\r\nHost: set.test\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n',
      { responses: 1, timeoutMs: 5000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    const lines = await waitForFileLines(join(proxy.dir, 'access.json'), 7);
    const set = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['RequestHost'] === 'set.test')
      .map((l) => l['ClientHost']);
    assert.deepEqual(set, ['203.0.113.5']);
  });
});

describe('global.notAppendXForwardedFor (Traefik v3.7, read and unused there)', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      config: `global:
  notAppendXForwardedFor: true
entryPoints:
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: INFO }
http:
  routers:
    echo: { rule: "Host(\`echo.test\`)", service: echo }
  services:
    echo:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('starts, warns that it does nothing, and the peer is appended all the same', async () => {
    const warning = await proxy.waitForLog((l) =>
      JSON.stringify(l).includes('global.notAppendXForwardedFor'),
    );
    assert.match(JSON.stringify(warning), /warning: global\.notAppendXForwardedFor: .*has no effect/);
    const r = await rawRequest(
      proxy.ports['trusted']!,
      'GET /g HTTP/1.1\r\nHost: echo.test\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n',
      { responses: 1, timeoutMs: 5000 },
    );
    assert.equal(r.responses[0]?.status, 200);
    assert.deepEqual(rawValues(backend.seen.at(-1)!, 'x-forwarded-for'), ['203.0.113.5, 127.0.0.1']);
  });
});
