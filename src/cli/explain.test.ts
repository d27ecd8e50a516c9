import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type ExplainOptions, runExplain } from './explain.ts';

const dynamicYaml = `http:
  routers:
    api:
      rule: Host(\`a.example\`) && PathPrefix(\`/api\`)
      service: svc
      middlewares: [both]
    site:
      rule: Host(\`a.example\`)
      service: svc
    same:
      rule: Host(\`a.exampl\`) || Host(\`a.example\`)
      priority: 17
      service: svc
    canary:
      rule: Header(\`X-Env\`, \`canary\`)
      service: svc
    elsewhere:
      rule: Host(\`b.example\`)
      service: svc
  middlewares:
    strip:
      stripPrefix: { prefixes: [/api] }
    add:
      addPrefix: { prefix: /v1 }
    both:
      chain: { middlewares: [strip, add] }
  services:
    svc:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:1
`;

async function setup(t: TestContext, dynamic = dynamicYaml, api = 'api: {}'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'traffic-explain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'static.yaml'),
    `entryPoints:
  traefik:
    address: "127.0.0.1:8081"
  web:
    address: "127.0.0.1:8080"
${api}
providers:
  file:
    filename: ${join(dir, 'dynamic.yaml')}
    watch: false
`,
  );
  await writeFile(join(dir, 'dynamic.yaml'), dynamic);
  return join(dir, 'static.yaml');
}

async function run(file: string, request: string, headers: string[] = [], options: ExplainOptions = {}) {
  let out = '';
  const code = await runExplain(
    file,
    request,
    headers,
    (s) => {
      out += s;
    },
    options,
  );
  return { code, out };
}

describe('traffic explain', () => {
  it('prints the matching router, its chain and service, and why the others lose', async (t) => {
    const file = await setup(t);
    const { code, out } = await run(file, 'GET https://a.example/api/users');
    assert.equal(code, 0, out);
    assert.equal(
      out,
      [
        'GET https://a.example/api/users on entry point web',
        '  (entry point web does not terminate TLS: the request arrives there as http)',
        'matched router api@file (priority 39)',
        '  rule: Host(`a.example`) && PathPrefix(`/api`)',
        '  middlewares: strip@file -> add@file',
        '  service: svc@file (loadBalancer: http://127.0.0.1:1)',
        'other candidates:',
        '  canary@file (priority 25): rule does not match: Header(`X-Env`, `canary`)',
        '  elsewhere@file (priority 17): rule does not match: Host(`b.example`)',
        '  same@file (priority 17): matches, but has a lower priority than api@file: Host(`a.exampl`) || Host(`a.example`)',
        '  site@file (priority 17): matches, but has a lower priority than api@file: Host(`a.example`)',
        '',
      ].join('\n'),
    );
  });

  it('builds SPIFFE transports as the proxy does when static spiffe.workloadAPIAddr is set (no SVID fetched)', async (t) => {
    const dynamic = `http:
  routers:
    mesh: { rule: Host(\`m.example\`), service: mesh }
  services:
    mesh:
      loadBalancer:
        servers: [{ url: https://127.0.0.1:1 }]
        serversTransport: mesh
  serversTransports:
    mesh: { spiffe: { ids: [spiffe://example.org/web] } }
`;
    const file = await setup(t, dynamic, 'spiffe: { workloadAPIAddr: unix:///nonexistent/agent.sock }');
    const { code, out } = await run(file, 'https://m.example/');
    assert.equal(code, 0, out);
    assert.match(out, /matched router mesh@file/);
  });

  it('says when a candidate loses on name order at the same priority, and when a rule does not match', async (t) => {
    const file = await setup(t);
    const { code, out } = await run(file, 'https://a.example/other');
    assert.equal(code, 0, out);
    assert.match(out, /matched router same@file \(priority 17\)/);
    assert.match(out, /api@file \(priority 39\): rule does not match/);
    assert.match(
      out,
      /site@file \(priority 17\): matches, but same@file comes first \(same priority, name order\)/,
    );
  });

  it('routes on the headers given with -H', async (t) => {
    const file = await setup(t);
    const { code, out } = await run(file, 'GET http://c.example/', ['X-Env: canary']);
    assert.equal(code, 0, out);
    assert.match(out, /matched router canary@file/);
  });

  it('exits 1 when no router matches', async (t) => {
    const file = await setup(t);
    const { code, out } = await run(file, 'GET http://nowhere.example/');
    assert.equal(code, 1);
    assert.match(out, /no router matches/);
  });

  it('exits 2 on a malformed request or an unknown entry point', async (t) => {
    const file = await setup(t);
    assert.equal((await run(file, 'GET ftp://a.example/')).code, 2);
    assert.equal((await run(file, 'GET http://a.example/ extra')).code, 2);
    assert.equal((await run(file, 'GET http://a.example/', ['no colon'])).code, 2);
    assert.equal((await run(file, 'GET http://a.example/', [], { entryPoint: 'nope' })).code, 2);
  });

  it('explains what the proxy would serve when some objects have errors: they are disabled', async (t) => {
    const broken = await setup(
      t,
      'http:\n  routers:\n    r: { rule: "Host(`x`)", service: missing }\n    ok: { rule: "Host(`y`)", service: svc }\n  services:\n    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }\n',
    );
    const r = await run(broken, 'GET http://x/');
    assert.equal(r.code, 1);
    assert.match(r.out, /http\.routers\.r\.service: service `missing` does not exist/);
    assert.match(r.out, /disabled, as the proxy disables them/);
    assert.match(r.out, /no router matches/);
    assert.equal((await run(broken, 'GET http://y/')).code, 0);
  });

  it("checks a TCP router's rule with the TCP rule language, as the proxy does", async (t) => {
    // HostSNI is a TCP matcher: the proxy (runtime/rule-checks.ts checkRule) accepts it there.
    const file = await setup(
      t,
      `${dynamicYaml}tcp:\n  routers:\n    db: { rule: "HostSNI(\`*\`)", service: db }\n  services:\n    db: { loadBalancer: { servers: [{ address: "127.0.0.1:5432" }] } }\n`,
    );
    const r = await run(file, 'GET https://a.example/api/users');
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /HostSNI|disabled/);
  });

  it('uses the entry point asked for', async (t) => {
    const file = await setup(
      t,
      `http:
  routers:
    only-admin:
      rule: PathPrefix(\`/\`)
      entryPoints: [traefik]
      service: svc
  services:
    svc:
      loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] }
`,
    );
    assert.equal((await run(file, 'GET http://x/')).code, 1);
    const root = await run(file, 'GET http://x/', [], { entryPoint: 'traefik' });
    assert.equal(root.code, 0);
    // A router placed on `traefik` for `/` keeps it: the dashboard redirect ranks below it.
    assert.match(root.out, /matched router only-admin@file/);
  });

  it("names the proxy's own router for the API's paths on its entry point", async (t) => {
    const file = await setup(t);
    const api = await run(file, 'GET http://localhost/api/overview', [], { entryPoint: 'traefik' });
    assert.equal(api.code, 0, api.out);
    assert.match(api.out, /matched router api@internal/);
    assert.match(api.out, /service: api@internal \(served by the proxy itself\)/);
    const root = await run(file, 'GET http://localhost/', [], { entryPoint: 'traefik' });
    assert.match(root.out, /matched router dashboard-redirect@internal/);
  });

  it('includes the changes the API persisted', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'traffic-explain-api-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const persisted = join(dir, 'api.json');
    await writeFile(
      persisted,
      JSON.stringify({
        http: { routers: { fromApi: { rule: 'Host(`api.example`)', service: 'svc@file' } } },
      }),
    );
    const file = await setup(t, dynamicYaml, `api:\n  persistFile: ${persisted}`);
    const { code, out } = await run(file, 'GET http://api.example/');
    assert.equal(code, 0, out);
    assert.match(out, /matched router fromApi@api/);
    assert.match(out, /service: svc@file/);
  });

  describe('with TLS entry points and redirections', () => {
    async function tlsSetup(t: TestContext, dynamic: string): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'traffic-explain-tls-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      await writeFile(
        join(dir, 'static.yaml'),
        `entryPoints:
  web:
    address: ":80"
    http: { redirections: { entryPoint: { to: websecure } } }
  plain:
    address: ":8080"
  websecure:
    address: ":443"
    http: { tls: {} }
  alt:
    address: ":8443"
    http: { tls: {} }
providers:
  file:
    filename: ${join(dir, 'dynamic.yaml')}
    watch: false
`,
      );
      await writeFile(join(dir, 'dynamic.yaml'), dynamic);
      return join(dir, 'static.yaml');
    }

    const apps = `http:
  routers:
    app:
      rule: Host(\`a.example\`)
      service: svc
      tls: {}
    legacy:
      rule: Host(\`old.example\`)
      service: svc
      entryPoints: [plain]
      middlewares: [to-https]
  middlewares:
    to-https: { redirectScheme: { scheme: https, port: "8443", permanent: true } }
  services:
    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
`;

    it('picks the TLS entry point for an https:// URL, the one on its port when there is one', async (t) => {
      const file = await tlsSetup(t, apps);
      let r = await run(file, 'GET https://a.example/');
      assert.equal(r.code, 0, r.out);
      assert.match(
        r.out,
        /^GET https:\/\/a\.example\/ on entry point websecure\nmatched router websecure-app@file/,
      );
      r = await run(file, 'GET https://a.example:8443/');
      assert.match(r.out, /^GET https:\/\/a\.example:8443\/ on entry point alt\n/);
      r = await run(file, 'GET https://a.example/', [], { entryPoint: 'alt' });
      assert.match(r.out, /^GET https:\/\/a\.example\/ on entry point alt\nmatched router alt-app@file/);
    });

    it("shows an entry point's redirection and follows it to the entry point it names", async (t) => {
      const file = await tlsSetup(t, apps);
      const r = await run(file, 'GET http://a.example/path?q=1');
      assert.equal(r.code, 0, r.out);
      assert.equal(
        r.out,
        [
          'GET http://a.example/path?q=1 on entry point web',
          "matched router web-to-websecure@internal (the proxy's own)",
          '  redirect: 301 to https://a.example/path?q=1 (by web-to-websecure@internal)',
          'GET https://a.example/path?q=1 on entry point websecure',
          // Traefik's applyModel: the copy on an entry point with `http.tls` is `<ep>-<router>`.
          'matched router websecure-app@file (priority 17)',
          '  rule: Host(`a.example`)',
          '  middlewares: (none)',
          '  service: svc@file (loadBalancer: http://127.0.0.1:1)',
          '',
        ].join('\n'),
      );
    });

    it('shows a redirectScheme middleware and follows it by scheme and port', async (t) => {
      const file = await tlsSetup(t, apps);
      const r = await run(file, 'GET http://old.example:8080/x', [], { entryPoint: 'plain' });
      assert.equal(r.code, 1, r.out);
      assert.deepEqual(r.out.split('\n').slice(0, 7), [
        'GET http://old.example:8080/x on entry point plain',
        'matched router legacy@file (priority 19)',
        '  rule: Host(`old.example`)',
        '  middlewares: to-https@file',
        '  service: svc@file (loadBalancer: http://127.0.0.1:1)',
        '  redirect: 301 to https://old.example:8443/x (by to-https@file)',
        'GET https://old.example:8443/x on entry point alt',
      ]);
      assert.match(r.out, /no router matches\n/);
    });
  });
});
