/**
 * Request fields whose name aliases another (Traefik v3.7.12 `aliasHeadersStrategy`, and the
 * deprecated `underscoreHeadersStrategy` of v3.6.20/v3.7.6): CGI-style backends read
 * `X_Auth_User` and `X.Auth.User` as `X-Auth-User`, the field forwardAuth manages only in its
 * dash form. With `delete` such fields are removed before routing, with `reject` the request is
 * a 400; `keep` (the default) forwards them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

describe('entryPoints.<name>.http.aliasHeadersStrategy', () => {
  let backend: Backend;
  let auth: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    auth = await startBackend((_req, res) => {
      res.setHeader('X-Auth-User', 'alice');
      res.end();
    });
    proxy = await startProxy({
      config: `entryPoints:
  keep:
    address: "127.0.0.1:0"
  del:
    address: "127.0.0.1:0"
    http: { aliasHeadersStrategy: delete }
  rej:
    address: "127.0.0.1:0"
    http: { aliasHeadersStrategy: reject }
  under:
    address: "127.0.0.1:0"
    http: { underscoreHeadersStrategy: delete }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, middlewares: [auth] }
  middlewares:
    auth:
      forwardAuth: { address: "${auth.url}", authResponseHeaders: [X-Auth-User] }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([backend?.close(), auth?.close()]);
  });

  const SPOOF = 'X_Auth_User: mallory\r\nX.Auth.User: mallory\r\nX~Auth~User: mallory\r\nX-Trace: 1\r\n';

  /** Sends the spoofing fields on entry point `ep`; the status and what the backend saw. */
  async function via(ep: string): Promise<{ status: number; seen: Backend['seen'][number] | undefined }> {
    const before = backend.seen.length;
    const r = await rawRequest(proxy.ports[ep]!, `GET /x HTTP/1.1\r\nHost: a.test\r\n${SPOOF}\r\n`, {
      responses: 1,
      timeoutMs: 5000,
    });
    return { status: r.responses[0]?.status ?? 0, seen: backend.seen[before] };
  }

  it('warns at startup for the entry point left without the option, as Traefik v3.7.12', () => {
    const warned = proxy.logs
      .filter((l) => l.level === 'warn' && String(l.msg).startsWith('aliasHeadersStrategy is not configured'))
      .map((l) => l.entryPointName);
    // `keep` has none set; the others chose a strategy (the deprecated one counts).
    assert.deepEqual(warned, ['keep']);
  });

  it('forwards aliasing fields by default (keep), as Traefik', async () => {
    const { status, seen } = await via('keep');
    assert.equal(status, 200);
    assert.equal(seen?.headers['x-auth-user'], 'alice');
    assert.equal(seen?.headers['x_auth_user'], 'mallory');
    assert.equal(seen?.headers['x.auth.user'], 'mallory');
  });

  it('delete: removes every field whose name holds a character other than a letter, a digit or -', async () => {
    const { status, seen } = await via('del');
    assert.equal(status, 200);
    assert.equal(seen?.headers['x-auth-user'], 'alice');
    assert.equal(seen?.headers['x-trace'], '1');
    for (const n of ['x_auth_user', 'x.auth.user', 'x~auth~user'])
      assert.equal(seen?.headers[n], undefined, n);
    const toAuth = auth.seen.at(-1)!.headers;
    assert.equal(toAuth['x_auth_user'], undefined, 'the auth server does not see them either');
  });

  it('reject: refuses such a request with 400 before routing', async () => {
    const authBefore = auth.seen.length;
    const { status, seen } = await via('rej');
    assert.equal(status, 400);
    assert.equal(seen, undefined);
    assert.equal(auth.seen.length, authBefore, 'no forwardAuth call');
    const clean = await rawRequest(
      proxy.ports['rej']!,
      'GET /x HTTP/1.1\r\nHost: a.test\r\nX-Trace: 1\r\n\r\n',
      {
        responses: 1,
        timeoutMs: 5000,
      },
    );
    assert.equal(clean.responses[0]?.status, 200);
  });

  it('applies to HTTP/2 requests too (h2c)', async () => {
    const port = proxy.ports['rej']!;
    const r = await curl([
      '--http2-prior-knowledge',
      '-H',
      'X.Auth.User: mallory',
      `http://127.0.0.1:${port}/x`,
    ]);
    assert.equal(r.status, 400);
    const before = backend.seen.length;
    const d = await curl([
      '--http2-prior-knowledge',
      '-H',
      'X_Auth_User: mallory',
      `http://127.0.0.1:${proxy.ports['del']!}/x`,
    ]);
    assert.equal(d.status, 200);
    assert.equal(backend.seen[before]?.headers['x_auth_user'], undefined);
  });

  it('underscoreHeadersStrategy (deprecated): the same for names with `_` only, with a warning', async () => {
    const { status, seen } = await via('under');
    assert.equal(status, 200);
    assert.equal(seen?.headers['x_auth_user'], undefined);
    assert.equal(seen?.headers['x.auth.user'], 'mallory');
    assert.ok(
      proxy.logs.some((l) => /underscoreHeadersStrategy.*aliasHeadersStrategy/.test(JSON.stringify(l))),
      'a deprecation warning names the replacement',
    );
  });
});
