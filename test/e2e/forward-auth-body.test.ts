/**
 * forwardAuth's `forwardBody` and `maxBodySize` through the real proxy, with curl as the client:
 * the auth server (written here) decides on the request body, and the backend must then get the
 * very same bytes. Traefik's rules (pkg/middlewares/auth/forward.go): the body is read whole
 * before the auth request, and a body over maxBodySize is answered 401 without asking anyone.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('forwardAuth with forwardBody through the proxy', () => {
  let auth: Backend;
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;
  const authBodies: { sha: string; length: number; contentLength: string | undefined; method: string }[] = [];
  const backendBodies: { url: string; sha: string; length: number; contentLength: string | undefined }[] = [];

  before(async () => {
    auth = await startBackend((req, res) => {
      void readAll(req).then((body) => {
        authBodies.push({
          sha: sha(body),
          length: body.length,
          contentLength: req.headers['content-length'],
          method: req.method ?? '',
        });
        // Yes when the body starts with "allow" (or there is none on a GET).
        if (body.subarray(0, 5).toString() === 'allow' || (body.length === 0 && req.method === 'GET')) {
          res.setHeader('X-Auth-User', 'bob');
          res.end('ok');
        } else {
          res.writeHead(403, { 'Content-Type': 'text/plain' });
          res.end('body says no');
        }
      });
    });
    backend = await startBackend((req, res) => {
      void readAll(req).then((body) => {
        backendBodies.push({
          url: req.url ?? '',
          sha: sha(body),
          length: body.length,
          contentLength: req.headers['content-length'],
        });
        res.end(JSON.stringify({ user: req.headers['x-auth-user'] ?? null, length: body.length }));
      });
    });
    proxy = await startProxy({
      entryPoints: 1,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  middlewares:
    auth-body:
      forwardAuth:
        address: "${auth.url}/verify"
        forwardBody: true
        preserveRequestMethod: true
        authResponseHeaders: [X-Auth-User]
    auth-small:
      forwardAuth:
        address: "${auth.url}/verify"
        forwardBody: true
        maxBodySize: 1024
    small-buffer:
      buffering:
        maxRequestBodyBytes: 2048
  routers:
    body: { rule: "PathPrefix(\`/body\`)", middlewares: [auth-body], service: be }
    small: { rule: "PathPrefix(\`/small\`)", middlewares: [auth-small], service: be }
    both: { rule: "PathPrefix(\`/both\`)", middlewares: [auth-body, small-buffer], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.ports['web']}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await auth?.close();
  });

  it('sends the body to the auth server, then the same bytes to the backend (Content-Length)', async () => {
    const body = Buffer.concat([Buffer.from('allow'), randomBytes(3000)]);
    const r = await curl(['--data-binary', '@-', `${base}/body/cl`], { stdin: body });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(JSON.parse(r.body.toString()), { user: 'bob', length: body.length });
    const a = authBodies.at(-1)!;
    assert.equal(a.method, 'POST');
    assert.equal(a.sha, sha(body));
    assert.equal(a.contentLength, String(body.length));
    const b = backendBodies.find((x) => x.url === '/body/cl')!;
    assert.equal(b.sha, sha(body));
    assert.equal(b.contentLength, String(body.length));
  });

  it('reads a chunked body of 300 KB whole, for both', async () => {
    const body = Buffer.concat([Buffer.from('allow'), randomBytes(300 * 1024)]);
    const r = await curl(
      ['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/body/chunked`],
      {
        stdin: body,
      },
    );
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(authBodies.at(-1)!.sha, sha(body));
    const b = backendBodies.find((x) => x.url === '/body/chunked')!;
    assert.equal(b.sha, sha(body));
    assert.equal(b.length, body.length);
  });

  it('works for HTTP/2 clients too (h2c)', async () => {
    const body = Buffer.concat([Buffer.from('allow'), randomBytes(20_000)]);
    const r = await curl(['--http2-prior-knowledge', '--data-binary', '@-', `${base}/body/h2`], {
      stdin: body,
    });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(authBodies.at(-1)!.sha, sha(body));
    assert.equal(backendBodies.find((x) => x.url === '/body/h2')!.sha, sha(body));
  });

  it("relays the auth server's refusal, decided on the body, and never reaches the backend", async () => {
    const r = await curl(['--data-binary', 'deny this', `${base}/body/denied`]);
    assert.equal(r.status, 403);
    assert.equal(r.body.toString(), 'body says no');
    assert.equal(authBodies.at(-1)!.sha, sha(Buffer.from('deny this')));
    assert.equal(backendBodies.filter((x) => x.url === '/body/denied').length, 0);
  });

  it('asks with no body for a GET', async () => {
    const r = await curl([`${base}/body/get`]);
    assert.equal(r.status, 200);
    assert.equal(authBodies.at(-1)!.length, 0);
    assert.equal(authBodies.at(-1)!.method, 'GET');
  });

  it('answers 401 to a body over maxBodySize without asking the auth server (announced or chunked)', async () => {
    const asked = authBodies.length;
    const big = Buffer.concat([Buffer.from('allow'), randomBytes(2000)]);
    const announced = await curl(['--data-binary', '@-', `${base}/small/cl`], { stdin: big });
    assert.equal(announced.status, 401);
    const chunked = await curl(
      ['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/small/chunked`],
      {
        stdin: big,
      },
    );
    assert.equal(chunked.status, 401);
    // forward.go: rw.WriteHeader(http.StatusUnauthorized) and nothing else: no body, no type.
    for (const r of [announced, chunked]) {
      assert.equal(r.body.length, 0);
      assert.deepEqual(r.headers['content-length'], ['0']);
      assert.equal(r.headers['content-type'], undefined);
    }
    assert.equal(authBodies.length, asked, 'the auth server was not asked');
    assert.equal(backendBodies.filter((x) => x.url.startsWith('/small/')).length, 0);
    // At the limit, it goes through.
    const fits = Buffer.concat([Buffer.from('allow'), randomBytes(1019)]);
    const ok = await curl(['--data-binary', '@-', `${base}/small/fits`], { stdin: fits });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(backendBodies.find((x) => x.url === '/small/fits')!.sha, sha(fits));
  });

  it('lets a later buffering middleware check the body already read (413 past its own limit)', async () => {
    const fits = Buffer.concat([Buffer.from('allow'), randomBytes(1500)]);
    const ok = await curl(['--data-binary', '@-', `${base}/both/fits`], { stdin: fits });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(backendBodies.find((x) => x.url === '/both/fits')!.sha, sha(fits));
    const big = Buffer.concat([Buffer.from('allow'), randomBytes(4000)]);
    const over = await curl(['--data-binary', '@-', `${base}/both/over`], { stdin: big });
    assert.equal(over.status, 413);
    assert.equal(backendBodies.filter((x) => x.url === '/both/over').length, 0);
  });
});
