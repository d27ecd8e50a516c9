/**
 * The jwt middleware (ours) through the real proxy with curl: a JWKS served by a node:http
 * server written here, tokens signed here with jose, claims forwarded to the backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('jwt through the proxy', () => {
  let idp: Backend;
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;
  let key: Awaited<ReturnType<typeof generateKeyPair>>;

  const token = (claims: Record<string, unknown>, exp = '5m') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://idp.test')
      .setAudience('orders')
      .setExpirationTime(exp)
      .sign(key.privateKey);

  before(async () => {
    key = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    idp = await startBackend((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    backend = await startBackend((req, res) => {
      res.end(
        JSON.stringify({ sub: req.headers['x-user'] ?? null, auth: req.headers.authorization ?? null }),
      );
    });
    proxy = await startProxy({
      entryPoints: 1,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  middlewares:
    jwt:
      jwt:
        jwksUrl: "${idp.url}/.well-known/jwks.json"
        issuer: https://idp.test
        audience: orders
        requiredClaims: [sub]
        forwardHeaders: { X-User: sub }
  routers:
    api: { rule: "PathPrefix(\`/\`)", middlewares: [jwt], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await idp?.close();
  });

  it('refuses requests without a valid token with 401 and WWW-Authenticate: Bearer', async () => {
    const none = await curl([`${base}/orders`]);
    assert.equal(none.status, 401);
    assert.deepEqual(none.headers['www-authenticate'], ['Bearer realm="traefik"']);
    const expired = await curl([
      '-H',
      `Authorization: Bearer ${await token({ sub: 'a' }, '-1m')}`,
      `${base}/orders`,
    ]);
    assert.equal(expired.status, 401);
    assert.match(expired.headers['www-authenticate']![0]!, /error="invalid_token"/);
  });

  it('lets a valid token through with its claim forwarded and no Authorization', async () => {
    const r = await curl([
      '-H',
      `Authorization: Bearer ${await token({ sub: 'alice' })}`,
      '-H',
      'X-User: mallory',
      `${base}/orders`,
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), { sub: 'alice', auth: null });
    assert.equal(idp.seen.length, 1);
  });
});
