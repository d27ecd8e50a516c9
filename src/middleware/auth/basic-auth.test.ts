import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import { type RequestControl, type RequestPhaseValue, SUSPEND } from '../middleware.ts';
import { build, makeRequest, testContext } from '../test-request.ts';
import { type BasicAuthMiddleware, parseBasicAuthorization } from './basic-auth.ts';
import { BcryptVerifier } from './bcrypt-verifier.ts';

// Made with htpasswd (-m, -s, -B -C 4) and openssl passwd -apr1: see htpasswd.test.ts.
const ALICE = 'alice:$apr1$RFww92E/$ZqDXbYR70GX6.uTlG.dbM0'; // p4ss word
const BOB = 'bob:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='; // secret
const CAROL = 'carol:$2y$04$vRJyFMnejKB5MZmALHlyV.LnKtHXooA67qfgPsDbEdOuv35wSfvCO'; // secret

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function req(authorization?: string): RequestHead {
  return makeRequest('http://app.test/', {
    headers: authorization === undefined ? [] : [['Authorization', authorization]],
  });
}

/** Runs onRequest with a control that resolves when the request is resumed (or at once). */
function run(
  m: BasicAuthMiddleware,
  r: RequestHead,
): { first: RequestPhaseValue; done: Promise<DirectResponse | undefined> } {
  let resolve!: (v: DirectResponse | undefined) => void;
  const done = new Promise<DirectResponse | undefined>((res) => {
    resolve = res;
  });
  const ctl: RequestControl = { resume: (resp) => resolve(resp), onEnd: () => {}, transformBody: () => {} };
  const first = m.onRequest(r, ctl);
  if (first !== SUSPEND) resolve(first);
  return { first, done };
}

function basicAuth(config: Record<string, unknown>): BasicAuthMiddleware {
  return build('basicAuth', config, testContext()).inner as BasicAuthMiddleware;
}

describe('basicAuth', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('asks for credentials with 401 and the realm when there are none or they are wrong', () => {
    const m = basicAuth({ users: [ALICE], realm: 'staff' });
    for (const auth of [
      undefined,
      basic('alice', 'nope'),
      basic('mallory', 'p4ss word'),
      'Bearer x',
      'Basic !!!',
    ]) {
      const r = m.onRequest(req(auth), { resume() {}, onEnd() {}, transformBody() {} });
      assert.ok(r !== undefined && r !== SUSPEND);
      assert.equal(r.status, 401);
      assert.deepEqual(r.headers, [
        ['Content-Type', 'text/plain'],
        ['WWW-Authenticate', 'Basic realm="staff"'],
      ]);
      assert.equal(r.body, '401 Unauthorized\n');
    }
  });

  it('uses the realm "traefik" when the configured one is empty, as Traefik does', () => {
    const m = basicAuth({ users: [ALICE], realm: '' });
    const r = m.onRequest(req(), { resume() {}, onEnd() {}, transformBody() {} });
    assert.ok(r !== undefined && r !== SUSPEND);
    assert.deepEqual(r.headers, [
      ['Content-Type', 'text/plain'],
      ['WWW-Authenticate', 'Basic realm="traefik"'],
    ]);
  });

  it('lets apr1 and SHA-1 users in at once, sets headerField and removes Authorization on request', () => {
    const m = basicAuth({ users: [ALICE, BOB], headerField: 'X-WebAuth-User', removeHeader: true });
    const r = req(basic('alice', 'p4ss word'));
    assert.equal(m.onRequest(r, { resume() {}, onEnd() {}, transformBody() {} }), undefined);
    assert.equal(r.headers.get('x-webauth-user'), 'alice');
    assert.equal(r.headers.get('authorization'), undefined);
    const b = req(basic('bob', 'secret'));
    assert.equal(m.onRequest(b, { resume() {}, onEnd() {}, transformBody() {} }), undefined);
    assert.equal(b.headers.get('x-webauth-user'), 'bob');
    const kept = basicAuth({ users: [BOB] });
    const k = req(basic('bob', 'secret'));
    assert.equal(kept.onRequest(k, { resume() {}, onEnd() {}, transformBody() {} }), undefined);
    assert.equal(k.headers.get('authorization'), basic('bob', 'secret'));
  });

  it("replaces the client's own field whatever the case headerField is written in (GHSA-qr99-7898-vr7c)", () => {
    // Traefik before v3.6.11 wrote a non-canonical headerField as a second field beside the
    // client's canonical one, which most backends read first. Field names here are case-blind.
    const m = basicAuth({ users: [BOB], headerField: 'x-webauth-user' });
    const r = req(basic('bob', 'secret'));
    r.headers.append('X-WebAuth-User', 'admin');
    r.headers.append('X-WEBAUTH-USER', 'root');
    assert.equal(m.onRequest(r, { resume() {}, onEnd() {}, transformBody() {} }), undefined);
    assert.deepEqual(r.headers.getAll('x-webauth-user'), ['bob']);
  });

  it('checks bcrypt on a worker thread, then serves the same credentials from the cache', async () => {
    const m = basicAuth({ users: [CAROL], headerField: 'X-User' });
    const r1 = req(basic('carol', 'secret'));
    const a = run(m, r1);
    assert.equal(a.first, SUSPEND);
    assert.equal(await a.done, undefined);
    assert.equal(r1.headers.get('x-user'), 'carol');
    assert.equal(m.state.verifier.runs, 1);
    const r2 = req(basic('carol', 'secret'));
    assert.equal(m.onRequest(r2, { resume() {}, onEnd() {}, transformBody() {} }), undefined);
    assert.equal(r2.headers.get('x-user'), 'carol');
    assert.equal(m.state.verifier.runs, 1);
    const wrong = run(m, req(basic('carol', 'secreT')));
    assert.equal(wrong.first, SUSPEND);
    assert.equal((await wrong.done)?.status, 401);
    m.state.verifier.close();
  });

  it('checks an unknown user`s password as a known one`s, then refuses it (GHSA-6x2q-h3cr-8j2h)', async () => {
    // Answered at once, an unknown name told itself apart from a known one with a wrong password
    // (a bcrypt check) by the time taken. Now it costs the same check, against a decoy hash.
    const m = basicAuth({ users: [CAROL], headerField: 'X-User' });
    for (const [user, password] of [
      ['mallory', 'secret'],
      ['carol\n', 'secret'],
      ['', ''],
    ] as const) {
      const before = m.state.verifier.runs;
      const r = req(basic(user, password));
      const x = run(m, r);
      assert.equal(x.first, SUSPEND, `${JSON.stringify(user)} waits for a bcrypt check`);
      assert.equal((await x.done)?.status, 401);
      assert.equal(m.state.verifier.runs, before + 1);
      assert.equal(r.headers.get('x-user'), undefined);
    }
    // The decoy's check is never shared with the real user's: carol still gets in.
    assert.equal(await run(m, req(basic('carol', 'secret'))).done, undefined);
    m.state.verifier.close();
  });

  it('runs one bcrypt check for identical credentials in flight', async () => {
    const m = basicAuth({ users: [CAROL] });
    const runs = [run(m, req(basic('carol', 'secret'))), run(m, req(basic('carol', 'secret')))];
    assert.deepEqual(await Promise.all(runs.map((x) => x.done)), [undefined, undefined]);
    assert.equal(m.state.verifier.runs, 1);
    m.state.verifier.close();
  });

  // Traefik v3.7.13 (#13816) keys its singleflight on the submitted user and password: before,
  // the stored secret was in the key, and two users sharing a hash shared one call. Ours has
  // always keyed on the whole Authorization value (user and password): no sharing across users.
  it('never shares a bcrypt check between two users with the same hash and password', async () => {
    const dave = `dave:${CAROL.slice(CAROL.indexOf(':') + 1)}`;
    const m = basicAuth({ users: [CAROL, dave], headerField: 'X-User' });
    const rc = req(basic('carol', 'secret'));
    const rd = req(basic('dave', 'secret'));
    const runs = [run(m, rc), run(m, rd)];
    assert.deepEqual(await Promise.all(runs.map((x) => x.done)), [undefined, undefined]);
    assert.equal(m.state.verifier.runs, 2);
    assert.equal(rc.headers.get('x-user'), 'carol');
    assert.equal(rd.headers.get('x-user'), 'dave');
    m.state.verifier.close();
  });

  it('refuses new checks past its bound, and fails waiting ones when closed', async () => {
    const v = new BcryptVerifier(1);
    const outcomes: (boolean | null)[] = [];
    const hash = CAROL.slice(6);
    assert.equal(v.verify('a', 'secret', hash, { onBcrypt: (ok) => outcomes.push(ok) }), true);
    assert.equal(v.verify('b', 'other', hash, { onBcrypt: (ok) => outcomes.push(ok) }), false);
    v.close();
    assert.deepEqual(outcomes, [null]);
  });

  it('reads usersFile before users, and reloads it when it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basic-auth-'));
    dirs.push(dir);
    const file = join(dir, 'users');
    writeFileSync(file, `# staff\n\n  ${ALICE}  \n${BOB}\n`);
    const m = basicAuth({ usersFile: file, users: ['bob:{SHA}nope'] });
    const ok = { resume() {}, onEnd() {}, transformBody() {} };
    assert.equal(m.onRequest(req(basic('alice', 'p4ss word')), ok), undefined);
    // The inline line for bob came later and wins.
    assert.equal((m.onRequest(req(basic('bob', 'secret')), ok) as DirectResponse).status, 401);
    m.state.start();
    const reloaded = new Promise<void>((resolve) => {
      m.state.onReload = resolve;
    });
    writeFileSync(`${file}.tmp`, `${BOB.replace('bob', 'dave')}\n`);
    renameSync(`${file}.tmp`, file);
    await reloaded;
    m.state.close();
    assert.equal((m.onRequest(req(basic('alice', 'p4ss word')), ok) as DirectResponse).status, 401);
    assert.equal(m.onRequest(req(basic('dave', 'secret')), ok), undefined);
  });

  it('does not build when usersFile cannot be read or a line is malformed', () => {
    assert.throws(() => basicAuth({ usersFile: '/nonexistent/users' }), /cannot read usersFile.*ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'basic-auth-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'u'), 'no-colon-here\n');
    assert.throws(() => basicAuth({ usersFile: join(dir, 'u') }), /name:hashed-password/);
  });

  it('reads Authorization as Go does: case-insensitive scheme, strict base64, first colon', () => {
    assert.deepEqual(parseBasicAuthorization(`bAsIc ${Buffer.from('a:b:c').toString('base64')}`), [
      'a',
      'b:c',
    ]);
    assert.equal(parseBasicAuthorization('Basic YWJj'), undefined); // "abc": no colon
    assert.equal(parseBasicAuthorization('Basic YTpi='), undefined); // bad padding
    assert.equal(parseBasicAuthorization('Basic'), undefined);
  });
});
