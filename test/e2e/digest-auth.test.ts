/**
 * digestAuth through the real proxy with curl --digest: MD5 users as htdigest writes them, and
 * SHA-256 users (RFC 7616), which curl answers with algorithm=SHA-256.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** HA1 as `openssl dgst` computes it over `user:realm:password`. */
function ha1(alg: 'md5' | 'sha256', text: string): string {
  const out = execFileSync('openssl', ['dgst', `-${alg}`, '-r'], { input: text, encoding: 'utf8' });
  return out.split(' ')[0]!;
}

describe('digestAuth through the proxy', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    backend = await startBackend((req, res) => {
      res.end(
        `${req.url} ${req.headers['x-digest-user'] ?? '-'} ${req.headers.authorization === undefined ? 'no-auth' : 'auth'}`,
      );
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  middlewares:
    md5:
      digestAuth:
        users: ["alice:traefik:${ha1('md5', 'alice:traefik:secret')}"]
        headerField: X-Digest-User
    sha:
      digestAuth:
        realm: vault
        removeHeader: true
        headerField: X-Digest-User
        users: ["bob:vault:${ha1('sha256', 'bob:vault:hunter2')}"]
  routers:
    md5: { rule: "PathPrefix(\`/md5\`)", middlewares: [md5], service: be }
    sha: { rule: "PathPrefix(\`/sha\`)", middlewares: [sha], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('challenges with a Digest nonce and refuses a wrong password', async () => {
    const r = await curl([`${base}/md5/x`]);
    assert.equal(r.status, 401);
    assert.match(
      r.headers['www-authenticate']![0]!,
      // go-http-auth's RequireAuth (Traefik's digestAuth): realm, nonce, opaque, algorithm, qop.
      /^Digest realm="traefik", nonce="[^"]+", opaque="[0-9a-f]+", algorithm=MD5, qop="auth"$/,
    );
    assert.equal((await curl(['--digest', '-u', 'alice:wrong', `${base}/md5/x`])).status, 401);
  });

  it('lets curl in with MD5, several requests on one nonce', async () => {
    const r = await curl(['--digest', '-u', 'alice:secret', `${base}/md5/a?x=1`, `${base}/md5/b`]);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [200, 200],
    );
    assert.equal(r.body.toString(), '/md5/a?x=1 alice auth/md5/b alice auth');
  });

  it("lets in a client whose uri leaves out the query (go-http-auth's path-prefix rule)", async () => {
    const challenge = (await curl([`${base}/md5/list?page=2`])).headers['www-authenticate']![0]!;
    const param = (k: string) => new RegExp(`${k}="([^"]+)"`).exec(challenge)![1]!;
    const [nonce, opaque] = [param('nonce'), param('opaque')];
    const md5 = (t: string) => createHash('md5').update(t).digest('hex');
    // The digest is over the uri sent: the path without its query, as some clients send it.
    const uri = '/md5/list';
    const ha2 = md5(`GET:${uri}`);
    const response = md5(`${ha1('md5', 'alice:traefik:secret')}:${nonce}:00000001:c0ffee:auth:${ha2}`);
    const auth = `Digest username="alice", realm="traefik", nonce="${nonce}", uri="${uri}", algorithm=MD5, response="${response}", opaque="${opaque}", qop=auth, nc=00000001, cnonce="c0ffee"`;
    const r = await curl(['-H', `Authorization: ${auth}`, `${base}/md5/list?page=2`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '/md5/list?page=2 alice auth');
  });

  it('refuses an unknown user whose response is computed with an empty secret (GHSA-5w68-77r2-r64c)', async () => {
    // Traefik before v3.7.11 looked an unknown user's secret up as "": the digest with HA1 = ""
    // (or HA1 = MD5("")) was right for any name, and the request went through as that user.
    const before = backend.seen.length;
    const md5 = (t: string) => createHash('md5').update(t).digest('hex');
    for (const secret of ['', md5('')]) {
      for (const user of ['mallory', '']) {
        const challenge = (await curl([`${base}/md5/admin`])).headers['www-authenticate']![0]!;
        const param = (k: string) => new RegExp(`${k}="([^"]+)"`).exec(challenge)![1]!;
        const [nonce, opaque] = [param('nonce'), param('opaque')];
        const response = md5(`${secret}:${nonce}:00000001:c0ffee:auth:${md5('GET:/md5/admin')}`);
        const auth = `Digest username="${user}", realm="traefik", nonce="${nonce}", uri="/md5/admin", algorithm=MD5, response="${response}", opaque="${opaque}", qop=auth, nc=00000001, cnonce="c0ffee"`;
        const r = await curl(['-H', `Authorization: ${auth}`, `${base}/md5/admin`]);
        assert.equal(r.status, 401, `user "${user}", HA1 "${secret}"`);
      }
    }
    assert.equal(backend.seen.length, before, 'nothing reached the backend');
  });

  it('lets curl in with SHA-256 and removes Authorization', async () => {
    const r = await curl(['--digest', '-u', 'bob:hunter2', `${base}/sha/z`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '/sha/z bob no-auth');
    assert.equal((await curl(['--digest', '-u', 'bob:nope', `${base}/sha/z`])).status, 401);
  });

  // go-http-auth's DigestAuth.CheckAuth (Traefik's digestAuth) looks the user up in the
  // configured realm, reads a missing cnonce as '' and nc with strconv.ParseUint(nc, 16).
  it('lets in a client that leaves out realm and cnonce and sends a short nc, as Traefik', async () => {
    const first = await fetch(`${base}/md5/short`);
    assert.equal(first.status, 401);
    const challenge = first.headers.get('www-authenticate')!;
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const opaque = /opaque="([^"]+)"/.exec(challenge)![1]!;
    const md5 = (t: string) => createHash('md5').update(t).digest('hex');
    const response = md5(`${md5('alice:traefik:secret')}:${nonce}:1::auth:${md5('GET:/md5/short')}`);
    const r = await fetch(`${base}/md5/short`, {
      headers: {
        authorization: `Digest username="alice", nonce="${nonce}", uri="/md5/short", response="${response}", opaque="${opaque}", qop=auth, nc=1`,
      },
    });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '/md5/short alice auth');
  });
});
