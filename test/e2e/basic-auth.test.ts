/**
 * basicAuth through the real proxy with curl -u: hashes made by htpasswd (bcrypt cost 10, apr1,
 * SHA-1) and openssl passwd -apr1, users inline and in a watched usersFile.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { htpasswd, htpasswdBytes, opensslApr1 } from '../helpers/htpasswd.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';

/** "café" in ISO-8859-1 and in UTF-8. */
const LATIN1 = Buffer.from('caf\xe9', 'latin1');
const UTF8 = Buffer.from('café', 'utf8');

/** An Authorization field carrying these bytes as user:password, as a client sends them. */
function basicBytes(user: string, password: Buffer): string {
  return `Authorization: Basic ${Buffer.concat([Buffer.from(`${user}:`), password]).toString('base64')}`;
}

describe('basicAuth through the proxy', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    backend = await startBackend((req, res) => {
      res.end(
        JSON.stringify({
          user: req.headers['x-webauth-user'] ?? null,
          auth: req.headers.authorization ?? null,
        }),
      );
    });
    const users = [
      htpasswd('bcrypt-user', 'b-secret', ['-B', '-C', '10']),
      htpasswd('md5-user', 'm secret', ['-m']),
      htpasswd('sha-user', 's-secret', ['-s']),
      // Cost 14: a check long enough that other requests visibly overtake it.
      htpasswd('slow-user', 'slow', ['-B', '-C', '14']),
      `openssl-user:${opensslApr1('o-secret')}`,
      // Passwords whose bytes are ISO-8859-1 ("café" with é = 0xE9), not UTF-8.
      htpasswdBytes('latin-bcrypt', LATIN1, ['-B', '-C', '4']),
      htpasswdBytes('latin-md5', LATIN1, ['-m']),
      htpasswdBytes('latin-sha', LATIN1, ['-s']),
      htpasswdBytes('utf8-md5', UTF8, ['-m']),
    ];
    const dynamic = `http:
  middlewares:
    auth:
      basicAuth:
        realm: "Staff only"
        headerField: X-WebAuth-User
        removeHeader: true
        users:
${users.map((u) => `          - '${u}'`).join('\n')}
    file-auth:
      basicAuth:
        usersFile: users.htpasswd
    nobody:
      basicAuth: { realm: "empty" }
  routers:
    nobody: { rule: "PathPrefix(\`/nobody\`)", middlewares: [nobody], service: be }
    app: { rule: "PathPrefix(\`/app\`)", middlewares: [auth], service: be }
    files: { rule: "PathPrefix(\`/files\`)", middlewares: [file-auth], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;
    proxy = await startProxy({
      files: {
        'users.htpasswd': `# team\n${htpasswd('file-user', 'f-secret', ['-B', '-C', '5'])}\n`,
        'dyn.yaml': dynamic,
      },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
providers:
  file: { filename: dyn.yaml }
log: { level: DEBUG }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('asks for credentials with 401 and the realm', async () => {
    const r = await curl([`${base}/app`]);
    assert.equal(r.status, 401);
    assert.deepEqual(r.headers['www-authenticate'], ['Basic realm="Staff only"']);
    assert.equal(r.body.toString(), '401 Unauthorized\n');
    assert.equal((await curl(['-u', 'bcrypt-user:wrong', `${base}/app`])).status, 401);
    assert.equal((await curl(['-u', 'nobody:b-secret', `${base}/app`])).status, 401);
  });

  // Traefik v3.6.19: a basicAuth without users fails to build; its router is left out (404).
  it('leaves out the router of a basicAuth without users: 404 and an error, not 401', async () => {
    assert.equal((await curl([`${base}/nobody`])).status, 404);
    assert.ok(
      proxy.logs.some(
        (l) =>
          l.msg === 'configuration error' && String(l['issue']).includes('basicAuth needs at least one user'),
      ),
      'the error is logged',
    );
  });

  it('lets in each kind of hash, names the user and removes Authorization', async () => {
    for (const [user, password] of [
      ['bcrypt-user', 'b-secret'],
      ['md5-user', 'm secret'],
      ['sha-user', 's-secret'],
      ['openssl-user', 'o-secret'],
    ]) {
      const r = await curl(['-u', `${user}:${password}`, `${base}/app`]);
      assert.equal(r.status, 200, user);
      assert.deepEqual(JSON.parse(r.body.toString()), { user, auth: null });
    }
  });

  it("compares the password's bytes as Go does: ISO-8859-1 bytes match their hash, for each kind", async () => {
    for (const user of ['latin-bcrypt', 'latin-md5', 'latin-sha']) {
      const ok = await curl(['-H', basicBytes(user, LATIN1), `${base}/app`]);
      assert.equal(ok.status, 200, user);
      assert.deepEqual(JSON.parse(ok.body.toString()), { user, auth: null });
      // The same text in UTF-8 is other bytes: refused, as Go refuses it.
      assert.equal((await curl(['-H', basicBytes(user, UTF8), `${base}/app`])).status, 401, user);
    }
    // And the other way round: a hash of the UTF-8 bytes takes those, not the ISO-8859-1 ones.
    assert.equal((await curl(['-H', basicBytes('utf8-md5', UTF8), `${base}/app`])).status, 200);
    assert.equal((await curl(['-H', basicBytes('utf8-md5', LATIN1), `${base}/app`])).status, 401);
  });

  it('keeps serving other requests while a bcrypt check runs, then caches the check', async () => {
    const order: string[] = [];
    const slow = curl(['-u', 'slow-user:slow', `${base}/app/slow`]).then((r) => {
      order.push('bcrypt');
      return r;
    });
    // Requests that arrive after the slow one started are answered before it: the event loop is free.
    for (let i = 0; i < 3; i++) {
      assert.equal((await curl(['-u', 'sha-user:s-secret', `${base}/app/fast`])).status, 200);
      order.push('sha');
    }
    assert.equal((await slow).status, 200);
    assert.deepEqual(order, ['sha', 'sha', 'sha', 'bcrypt']);
    // Cached: the same credentials now pass on one connection, several times.
    const again = await curl(['-u', 'slow-user:slow', `${base}/app/1`, `${base}/app/2`]);
    assert.deepEqual(
      again.transfers.map((t) => t.status),
      [200, 200],
    );
  });

  it('reads users from usersFile and reloads them when the file changes', async () => {
    assert.equal((await curl(['-u', 'file-user:f-secret', `${base}/files`])).status, 200);
    const before = proxy.logs.length;
    proxy.writeFile('users.htpasswd', `${htpasswd('new-user', 'n-secret', ['-s'])}\n`);
    await proxy.waitForLog((l) => l.msg === 'usersFile reloaded' && proxy.logs.indexOf(l) >= before, 10_000);
    assert.equal((await curl(['-u', 'file-user:f-secret', `${base}/files`])).status, 401);
    assert.equal((await curl(['-u', 'new-user:n-secret', `${base}/files`])).status, 200);
  });
});

/*
 * Hashes Traefik loads and never matches (go-http-auth's CheckSecret knows bcrypt, MD5-crypt and
 * {SHA}; any other `$magic$salt$hash` is computed as MD5-crypt, so a SHA-crypt `$6$` never
 * matches): a migrating user who pastes `openssl passwd -6` or a plain password gets 401 with the
 * right password, as in Traefik, and `traffic validate` warns at the line. `openssl passwd -1`
 * (`$1$`) is MD5-crypt and lets in.
 */
describe('basicAuth hashes Traefik never matches', () => {
  it('answers 401 for them with the right password, and validate names each line', async (t) => {
    const backend = await startBackend((_req, res) => res.end('ok'));
    t.after(() => backend.close());
    const passwd = (flag: string, password: string) =>
      execFileSync('openssl', ['passwd', flag, password], { encoding: 'utf8' }).trim();
    const proxy = await startProxy({
      files: {
        'dyn.yaml': `http:
  middlewares:
    auth:
      basicAuth:
        users:
          - 'md5crypt:${passwd('-1', 'one')}'
          - 'sha512crypt:${passwd('-6', 'six')}'
          - 'plain:text'
          - 'escaped:${passwd('-apr1', 'two').replaceAll('$', '$$$$')}'
  routers:
    app: { rule: "PathPrefix(\`/\`)", middlewares: [auth], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
providers:
  file: { filename: dyn.yaml }
`,
    });
    t.after(() => proxy.stop());
    const base = `http://127.0.0.1:${proxy.port}/`;
    assert.equal((await curl(['-u', 'md5crypt:one', base])).status, 200);
    assert.equal((await curl(['-u', 'sha512crypt:six', base])).status, 401);
    assert.equal((await curl(['-u', 'plain:text', base])).status, 401);
    // docker compose's `$$` copied out of a compose file: nothing unescapes it, as in Traefik.
    assert.equal((await curl(['-u', 'escaped:two', base])).status, 401);

    const v = await runCli(['validate', '--config', proxy.configPath], { cwd: proxy.dir });
    assert.equal(v.code, 0, v.stdout);
    const dyn = join(proxy.dir, 'dyn.yaml');
    assert.match(
      v.stdout,
      new RegExp(
        `${dyn}:7:13: warning: http\\.middlewares\\.auth\\.basicAuth\\.users\\[1\\]: user \`sha512crypt\` never authenticates`,
      ),
    );
    assert.match(
      v.stdout,
      new RegExp(
        `${dyn}:8:13: warning: http\\.middlewares\\.auth\\.basicAuth\\.users\\[2\\]: user \`plain\` never authenticates`,
      ),
    );
    assert.ok(
      v.stdout.includes(
        `${dyn}:9:13: warning: http.middlewares.auth.basicAuth.users[3]: user \`escaped\` never authenticates, as in Traefik: its password is not a hash Traefik checks (bcrypt \`$2y$\`, \`$apr1$\`, \`$1$\` or \`{SHA}\`, as \`htpasswd -nB user\` makes); \`$$\` is docker compose's escape of \`$\`: outside a compose file, write each \`$$\` as \`$\``,
      ),
      v.stdout,
    );
    assert.ok(
      proxy.logs.some(
        (l) =>
          l.user === 'escaped' &&
          String(l.msg).endsWith(
            "; `$$` is docker compose's escape of `$`: outside a compose file, write each `$$` as `$`",
          ),
      ),
      'the middleware says it at start too',
    );
    assert.doesNotMatch(v.stdout, /md5crypt/);
  });
});
