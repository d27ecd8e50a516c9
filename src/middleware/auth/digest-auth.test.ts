import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../../config/dynamic/middlewares.ts';
import { silentLogger } from '../../core/logger.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import { makeRequest } from '../test-request.ts';
import { DigestAuthMiddleware, DigestAuthState, parseDigestParams } from './digest-auth.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** RFC 7616 §3.4.1's response, as a client computes it. */
function authorization(
  o: {
    user: string;
    password: string;
    realm: string;
    nonce: string;
    opaque: string;
    uri: string;
    nc?: string;
  },
  alg: 'MD5' | 'SHA-256' = 'MD5',
  method = 'GET',
): string {
  const H = alg === 'MD5' ? md5 : sha;
  const nc = o.nc ?? '00000001';
  const ha1 = H(`${o.user}:${o.realm}:${o.password}`);
  const ha2 = H(`${method}:${o.uri}`);
  const response = H(`${ha1}:${o.nonce}:${nc}:abc123:auth:${ha2}`);
  return `Digest username="${o.user}", realm="${o.realm}", nonce="${o.nonce}", uri="${o.uri}", algorithm=${alg}, response="${response}", opaque="${o.opaque}", qop=auth, nc=${nc}, cnonce="abc123"`;
}

function setup(users: string[], now: { t: number }) {
  const config = middlewareSchemas.digestAuth.parse({ users, realm: 'traefik', headerField: 'X-User' });
  const state = new DigestAuthState(config, silentLogger, 'd@file', () => now.t);
  return { state, m: new DigestAuthMiddleware(state, config) };
}

function challengeOf(r: DirectResponse | undefined): { nonce: string; opaque: string; all: string[] } {
  assert.equal(r?.status, 401);
  const all = (r.headers ?? []).filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
  const p = parseDigestParams(all[0]!)!;
  return { nonce: p.get('nonce')!, opaque: p.get('opaque')!, all };
}

function req(auth?: string, url = 'http://app.test/a?b=1'): RequestHead {
  return makeRequest(url, { headers: auth === undefined ? [] : [['Authorization', auth]] });
}

describe('digestAuth', () => {
  const alice = `alice:traefik:${md5('alice:traefik:secret')}`;
  const bob = `bob:traefik:${sha('bob:traefik:hunter2')}`;

  it('lets a UTF-8 user name in (the header carries its bytes) and names it with those bytes', () => {
    const now = { t: 0 };
    const jose = `josé:traefik:${md5('josé:traefik:pw')}`;
    const { m } = setup([jose], now);
    const c = challengeOf(m.onRequest(req()));
    // What the parser hands over: one char per byte of what the client sent.
    const wire = Buffer.from(
      authorization({ user: 'josé', password: 'pw', realm: 'traefik', uri: '/a?b=1', ...c }),
      'utf8',
    ).toString('latin1');
    const r = req(wire);
    assert.equal(m.onRequest(r), undefined);
    assert.equal(r.headers.get('x-user'), Buffer.from('josé', 'utf8').toString('latin1'), 'C3 A9 once');
    // Bytes that are not UTF-8 match no user.
    const c2 = challengeOf(m.onRequest(req()));
    const bad = authorization({ user: 'jos\u00e9', password: 'pw', realm: 'traefik', uri: '/a?b=1', ...c2 });
    assert.equal(m.onRequest(req(bad))?.status, 401);
  });

  it("hashes the bytes the client sent (a cnonce that is not ASCII), as go-http-auth's H does", () => {
    const now = { t: 0 };
    const { m } = setup([alice], now);
    const c = challengeOf(m.onRequest(req()));
    const cnonce = Buffer.from('ç-1', 'utf8'); // C3 A7 2D 31: the client hashes these bytes
    const bytesMd5 = (...parts: (string | Buffer)[]) => {
      const hash = createHash('md5');
      for (const p of parts) hash.update(p);
      return hash.digest('hex');
    };
    const ha1 = md5('alice:traefik:secret');
    const ha2 = md5('GET:/a?b=1');
    const response = bytesMd5(`${ha1}:${c.nonce}:00000001:`, cnonce, `:auth:${ha2}`);
    const wire = `Digest username="alice", realm="traefik", nonce="${c.nonce}", uri="/a?b=1", algorithm=MD5, response="${response}", opaque="${c.opaque}", qop=auth, nc=00000001, cnonce="${cnonce.toString('latin1')}"`;
    assert.equal(m.onRequest(req(wire)), undefined);
  });

  it('uses the realm "traefik" when the configured one is empty, and lets its users in', () => {
    const config = middlewareSchemas.digestAuth.parse({ users: [alice], realm: '' });
    const m = new DigestAuthMiddleware(new DigestAuthState(config, silentLogger, 'd@file'), config);
    const c = challengeOf(m.onRequest(req()));
    assert.match(c.all[0]!, /^Digest realm="traefik", /);
    const auth = authorization({ user: 'alice', password: 'secret', realm: 'traefik', uri: '/a?b=1', ...c });
    assert.equal(m.onRequest(req(auth)), undefined);
  });

  it('challenges with the algorithms its users have, SHA-256 first', () => {
    const now = { t: 0 };
    assert.deepEqual(
      challengeOf(setup([alice], now).m.onRequest(req())).all.map((v) => /algorithm=([^,]+)/.exec(v)?.[1]),
      ['MD5'],
    );
    const both = challengeOf(setup([alice, bob], now).m.onRequest(req())).all;
    assert.deepEqual(
      both.map((v) => /algorithm=([^,]+)/.exec(v)?.[1]),
      ['SHA-256', 'MD5'],
    );
    assert.match(
      both[0]!,
      /^Digest realm="traefik", nonce="[^"]+", opaque="[0-9a-f]+", algorithm=SHA-256, qop="auth"$/,
    );
  });

  it('accepts a right MD5 or SHA-256 response and names the user', () => {
    const now = { t: 0 };
    const { m } = setup([alice, bob], now);
    const c = challengeOf(m.onRequest(req()));
    const r1 = req(
      authorization({ user: 'alice', password: 'secret', realm: 'traefik', uri: '/a?b=1', ...c }),
    );
    assert.equal(m.onRequest(r1), undefined);
    assert.equal(r1.headers.get('x-user'), 'alice');
    const r2 = req(
      authorization(
        { user: 'bob', password: 'hunter2', realm: 'traefik', uri: '/a?b=1', nc: '00000002', ...c },
        'SHA-256',
      ),
    );
    assert.equal(m.onRequest(r2), undefined);
    assert.equal(r2.headers.get('x-user'), 'bob');
  });

  it('refuses a wrong password, another URI, a foreign nonce and a wrong algorithm', () => {
    const now = { t: 0 };
    const { m } = setup([alice, bob], now);
    const c = challengeOf(m.onRequest(req()));
    const base = { user: 'alice', realm: 'traefik', uri: '/a?b=1', ...c };
    assert.equal(m.onRequest(req(authorization({ ...base, password: 'nope' })))?.status, 401);
    assert.equal(
      m.onRequest(req(authorization({ ...base, password: 'secret', uri: '/other' })))?.status,
      401,
    );
    const foreign = { ...base, password: 'secret', nonce: Buffer.alloc(32, 7).toString('base64url') };
    const r = m.onRequest(req(authorization(foreign)));
    assert.equal(r?.status, 401);
    assert.ok(!challengeOf(r).all[0]!.includes('stale'));
    // alice has an MD5 hash: a SHA-256 answer cannot be checked.
    assert.equal(m.onRequest(req(authorization({ ...base, password: 'secret' }, 'SHA-256')))?.status, 401);
  });

  it("accepts a uri without the query, or a path prefix of the request's, as go-http-auth does", () => {
    const now = { t: 0 };
    const { m } = setup([alice], now);
    const c = challengeOf(m.onRequest(req(undefined, 'http://app.test/a/b%20c?x=1')));
    const base = { user: 'alice', password: 'secret', realm: 'traefik', ...c };
    const at = (uri: string, nc: string) =>
      m.onRequest(req(authorization({ ...base, uri, nc }), 'http://app.test/a/b%20c?x=1'));
    assert.equal(at('/a/b%20c?x=1', '00000001'), undefined);
    assert.equal(at('/a/b%20c', '00000002'), undefined, 'the query left out');
    assert.equal(at('/a/b c', '00000003'), undefined, 'compared decoded, as Go does');
    assert.equal(at('/a/', '00000004'), undefined, 'a path prefix');
    assert.equal(at('http://app.test/a/b%20c', '00000005'), undefined, 'absolute form');
    assert.equal(at('/a/b%20cd', '00000006')?.status, 401, 'longer than the path');
    assert.equal(at('/b', '00000007')?.status, 401, 'another path');
    assert.equal(at('/a/%zz', '00000008')?.status, 401, 'does not parse');
  });

  it('answers stale=true to an expired nonce or an out-of-order count, a plain challenge to a replay', () => {
    const now = { t: 1000 };
    const { m } = setup([alice], now);
    const c = challengeOf(m.onRequest(req()));
    const ok = { user: 'alice', password: 'secret', realm: 'traefik', uri: '/a?b=1', ...c };
    assert.equal(m.onRequest(req(authorization({ ...ok, nc: '00000002' }))), undefined);
    // The same count again: a replay (Traefik: RequireAuth, not stale).
    const replay = m.onRequest(req(authorization({ ...ok, nc: '00000002' })));
    assert.ok(!challengeOf(replay).all[0]!.includes('stale'));
    // A lower count: requests that crossed (Traefik: RequireAuthStale).
    const crossed = m.onRequest(req(authorization({ ...ok, nc: '00000001' })));
    assert.match(challengeOf(crossed).all[0]!, /, stale=true$/);
    now.t += 300_001;
    assert.match(
      challengeOf(m.onRequest(req(authorization({ ...ok, nc: '00000003' })))).all[0]!,
      /stale=true/,
    );
  });

  it('parses quoted and token parameters, and refuses garbage', () => {
    const p = parseDigestParams('Digest username="a\\"b", nc=00000001, qop=auth');
    assert.equal(p?.get('username'), 'a"b');
    assert.equal(p?.get('nc'), '00000001');
    assert.equal(parseDigestParams('Basic abc'), undefined);
    assert.equal(parseDigestParams('Digest =x'), undefined);
  });

  it("accepts what go-http-auth's CheckAuth accepts: no realm or cnonce, a short nc", () => {
    const now = { t: 1_000 };
    const { m } = setup([`alice:traefik:${md5('alice:traefik:secret')}`], now);
    const { nonce, opaque } = challengeOf(m.onRequest(makeRequest('http://a.test/x')));
    const ha1 = md5('alice:traefik:secret');
    const ha2 = md5('GET:/x');
    // cnonce absent: the empty string in the digest; nc "1", not zero-padded.
    const response = md5(`${ha1}:${nonce}:1::auth:${ha2}`);
    const auth = `Digest username="alice", nonce="${nonce}", uri="/x", response="${response}", opaque="${opaque}", qop=auth, nc=1`;
    const req = makeRequest('http://a.test/x', { headers: [['Authorization', auth]] });
    assert.equal(m.onRequest(req), undefined);
    assert.equal(req.headers.get('x-user'), 'alice');
    // Another realm named by the client: the configured one is what counts.
    const r2 = md5(`${ha1}:${nonce}:2:c:auth:${ha2}`);
    const other = `Digest username="alice", realm="elsewhere", nonce="${nonce}", uri="/x", response="${r2}", opaque="${opaque}", qop=auth, nc=2, cnonce="c"`;
    assert.equal(
      m.onRequest(makeRequest('http://a.test/x', { headers: [['Authorization', other]] })),
      undefined,
    );
  });
});
