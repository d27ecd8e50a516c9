import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import { type RequestControl, SUSPEND } from '../middleware.ts';
import { build, makeRequest, testContext } from '../test-request.ts';
import type { JwtMiddleware } from './jwt.ts';

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;

function jwt(config: Record<string, unknown>): JwtMiddleware {
  return build('jwt', config, testContext()).inner as JwtMiddleware;
}

function req(token?: string, extra: [string, string][] = []): RequestHead {
  return makeRequest('http://api.test/', {
    headers: [
      ...(token === undefined ? [] : ([['Authorization', `Bearer ${token}`]] as [string, string][])),
      ...extra,
    ],
  });
}

function verify(m: JwtMiddleware, r: RequestHead): Promise<DirectResponse | undefined> {
  return new Promise((resolve) => {
    const ctl: RequestControl = { resume: resolve, onEnd() {}, transformBody() {} };
    const first = m.onRequest(r, ctl);
    if (first !== SUSPEND) resolve(first);
  });
}

async function sign(pair: Pair, claims: Record<string, unknown>, kid?: string, exp = '5m'): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', ...(kid === undefined ? {} : { kid }) })
    .setIssuedAt()
    .setIssuer('https://idp.test')
    .setAudience('api')
    .setExpirationTime(exp)
    .sign(pair.privateKey);
}

describe('jwt', () => {
  let a: Pair;
  let b: Pair;
  let jwks: { keys: JWK[] };
  let server: Server;
  let fetches = 0;
  let url = '';

  before(async () => {
    a = await generateKeyPair('ES256', { extractable: true });
    b = await generateKeyPair('ES256', { extractable: true });
    jwks = { keys: [{ ...(await exportJWK(a.publicKey)), kid: 'a', alg: 'ES256' }] };
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('asks for a token with 401 and WWW-Authenticate: Bearer', async () => {
    const m = jwt({ signingSecret: 'x'.repeat(32) });
    const r = await verify(m, req());
    assert.equal(r?.status, 401);
    assert.deepEqual(r?.headers, [['WWW-Authenticate', 'Bearer realm="traefik"']]);
  });

  it('verifies against a public key, forwards claims and drops spoofed fields and Authorization', async () => {
    const m = jwt({
      publicKey: await exportSPKI(a.publicKey),
      issuer: 'https://idp.test',
      audience: ['api', 'other'],
      requiredClaims: ['sub'],
      forwardHeaders: { 'X-User': 'sub', 'X-Groups': 'groups' },
    });
    const r = req(await sign(a, { sub: 'alice', groups: ['ops', 'dev'] }), [['X-User', 'mallory']]);
    assert.equal(await verify(m, r), undefined);
    assert.equal(r.headers.get('x-user'), 'alice');
    assert.equal(r.headers.get('x-groups'), '["ops","dev"]');
    assert.equal(r.headers.get('authorization'), undefined);
  });

  it('refuses a wrong signature, issuer, audience, a missing claim and an expired token', async () => {
    const m = jwt({
      publicKey: await exportSPKI(a.publicKey),
      issuer: 'https://idp.test',
      audience: 'api',
      requiredClaims: ['sub'],
    });
    const cases: [string, RegExp][] = [
      [await sign(b, { sub: 'x' }), /invalid token/],
      [await sign(a, {}), /claim sub/],
      [await sign(a, { sub: 'x' }, undefined, '-1m'), /expired/],
      ['not.a.jwt', /invalid token/],
    ];
    for (const [token, reason] of cases) {
      const r = await verify(m, req(token));
      assert.equal(r?.status, 401);
      const www = r?.headers?.find(([n]) => n === 'WWW-Authenticate')?.[1] ?? '';
      assert.match(www, /^Bearer realm="traefik", error="invalid_token", error_description="/);
      assert.match(www, reason);
    }
    const wrongIss = jwt({ publicKey: await exportSPKI(a.publicKey), issuer: 'https://other.test' });
    assert.equal((await verify(wrongIss, req(await sign(a, { sub: 'x' }))))?.status, 401);
  });

  it('accepts a token just expired within the clock skew', async () => {
    const m = jwt({ publicKey: await exportSPKI(a.publicKey), clockSkew: '2m' });
    assert.equal(await verify(m, req(await sign(a, { sub: 'x' }, undefined, '-30s'))), undefined);
  });

  it('fetches the JWKS once, and again when a token names a kid it does not know', async () => {
    const m = jwt({ jwksUrl: url, audience: 'api', jwksCooldown: '0s' });
    assert.equal(await verify(m, req(await sign(a, { sub: 'x' }, 'a'))), undefined);
    assert.equal(await verify(m, req(await sign(a, { sub: 'y' }, 'a'))), undefined);
    assert.equal(fetches, 1);
    // Key rotation: b appears in the JWKS; the first token signed by b makes the set refresh.
    jwks.keys.push({ ...(await exportJWK(b.publicKey)), kid: 'b', alg: 'ES256' });
    assert.equal(await verify(m, req(await sign(b, { sub: 'z' }, 'b'))), undefined);
    assert.equal(fetches, 2);
  });

  it('takes exactly one key source', () => {
    assert.throws(() => jwt({}), /exactly one of jwksUrl, publicKey and signingSecret/);
    assert.throws(() => jwt({ signingSecret: 's', jwksUrl: url }), /exactly one/);
  });
});
