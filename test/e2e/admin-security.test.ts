/**
 * The admin API's security model against the real proxy process, with curl as the client. A
 * "remote" client is curl bound to this machine's non-loopback address (`--interface`): the
 * proxy sees that address as the peer, while the traffic stays on this machine. Covers: what
 * `api.insecure` opens (reads, never writes, never another site's Host), failed authentications
 * (logged without the credentials, then 429), and the API sharing entry points with routers
 * (no route turned into a 404) and served by routers of the configuration (`api@internal`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type CurlResult, curl } from '../helpers/curl.ts';
import { nonLoopbackAddress } from '../helpers/local-address.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { waitApplied, waitForLogFrom } from '../helpers/wait.ts';

const REMOTE = nonLoopbackAddress();
const TOKEN = 'e2e-admin-token-0123456789';

interface Ask {
  readonly port: number;
  readonly path: string;
  readonly remote?: boolean;
  readonly host?: string;
  readonly method?: string;
  readonly json?: unknown;
  readonly headers?: readonly string[];
}

/** One request with curl; `remote` binds it to the non-loopback address. */
function ask(a: Ask): Promise<CurlResult> {
  const args = [
    ...(a.remote === true ? ['--interface', REMOTE] : []),
    ...(a.host !== undefined ? ['-H', `Host: ${a.host}`] : []),
    ...(a.method !== undefined ? ['-X', a.method] : []),
    ...(a.json !== undefined
      ? ['-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(a.json)]
      : []),
    ...(a.headers ?? []).flatMap((h) => ['-H', h]),
    `http://127.0.0.1:${a.port}${a.path}`,
  ];
  return curl(args);
}

function text(r: CurlResult): string {
  return r.body.toString('utf8');
}

function isWarn(msg: string, reason: string): (l: LogLine) => boolean {
  return (l) => l.level === 'warn' && l.msg === msg && l.reason === reason;
}

const router = { rule: 'PathPrefix(`/written`)', service: 'app@file' };

describe('admin API security (e2e)', () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend((req, res) => res.end(`backend ${req.url}`));
  });
  after(() => backend?.close());

  function dynamic(): string {
    return `http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;
  }

  describe('api.insecure without api.auth', () => {
    let proxy: ProxyProcess;
    let admin: number;
    let web: number;
    before(async () => {
      proxy = await startProxy({
        entryPoints: 2,
        config: `entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
log: { level: INFO }
api: { insecure: true }
${dynamic()}`,
      });
      // The file and the API providers start as one generation.
      await waitApplied(proxy, 1);
      admin = proxy.ports['traefik'] ?? 0;
      web = proxy.ports['web'] ?? 0;
    });
    after(() => proxy?.stop());

    it('serves reads to a remote client whose Host is an IP address', async () => {
      const ip = await ask({ port: admin, path: '/api/overview', remote: true, host: `${REMOTE}:${admin}` });
      assert.equal(ip.status, 200, text(ip));
      assert.equal(typeof (JSON.parse(text(ip)) as { generation: number }).generation, 'number');
    });

    it('serves reads to a Host named in api.allowedHosts', async (t) => {
      const p = await startProxy({
        entryPoints: 1,
        config: `entryPoints:
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true, allowedHosts: [admin.example, "*.ops.example"] }
`,
      });
      t.after(() => p.stop());
      const port = p.ports['traefik'] ?? 0;
      for (const host of ['admin.example', 'Admin.Example.:80', 'a.ops.example']) {
        const r = await ask({ port, path: '/api/http/routers', remote: true, host });
        assert.equal(r.status, 200, `${host}: ${text(r)}`);
      }
      const other = await ask({
        port,
        path: '/api/http/routers',
        remote: true,
        host: 'ops.example.attacker.example',
      });
      assert.equal(other.status, 403);
    });

    it('refuses another name in Host (DNS rebinding) with 403 and a log line', async () => {
      const from = proxy.logs.length;
      const r = await ask({
        port: admin,
        path: '/api/rawdata',
        remote: true,
        host: 'rebind.attacker.example',
      });
      assert.equal(r.status, 403);
      assert.match(text(r), /DNS rebinding/);
      const line = await waitForLogFrom(proxy, from, isWarn('admin request refused', 'host not allowed'));
      assert.equal(line.clientIp, REMOTE);
      assert.equal(line.path, '/api/rawdata');
      assert.equal(line.host, 'rebind.attacker.example');
      // A loopback client is no exception: the name is what a rebinding page sends.
      const local = await ask({ port: admin, path: '/api/overview', host: 'rebind.attacker.example' });
      assert.equal(local.status, 403);
    });

    it('refuses writes from a remote client (403), and they change nothing', async () => {
      const from = proxy.logs.length;
      const put = await ask({
        port: admin,
        path: '/api/http/routers/written',
        remote: true,
        host: REMOTE,
        method: 'PUT',
        json: router,
      });
      assert.equal(put.status, 403, text(put));
      assert.match(text(put), /api\.auth/);
      const rollback = await ask({
        port: admin,
        path: '/api/rollback',
        remote: true,
        host: REMOTE,
        method: 'POST',
      });
      assert.equal(rollback.status, 403);
      const line = await waitForLogFrom(
        proxy,
        from,
        isWarn('admin request refused', 'write without credentials'),
      );
      assert.equal(line.clientIp, REMOTE);
      assert.equal(line.method, 'PUT');
      assert.equal((await ask({ port: web, path: '/written' })).status, 404);
    });

    it('still takes writes from a loopback client with a loopback Host', async () => {
      const put = await ask({
        port: admin,
        path: '/api/http/routers/written',
        host: `localhost:${admin}`,
        method: 'PUT',
        json: router,
      });
      assert.equal(put.status, 200, text(put));
      assert.equal(text(await ask({ port: web, path: '/written/x' })), 'backend /written/x');
    });
  });

  describe('api.auth', () => {
    let proxy: ProxyProcess;
    let admin: number;
    before(async () => {
      proxy = await startProxy({
        entryPoints: 1,
        config: `entryPoints:
  traefik: { address: "127.0.0.1:0" }
log: { level: INFO }
api: { insecure: true, auth: { bearerTokens: ["${TOKEN}"] } }
${dynamic()}`,
      });
      // The file and the API providers start as one generation.
      await waitApplied(proxy, 1);
      admin = proxy.ports['traefik'] ?? 0;
    });
    after(() => proxy?.stop());

    it('logs failed authentications without the credentials, then answers 429 to that client only', async () => {
      const from = proxy.logs.length;
      const guess = (i: number) =>
        ask({
          port: admin,
          path: '/api/overview',
          remote: true,
          host: 'anything.example',
          headers: [`Authorization: Bearer wrong-guess-number-${i}`],
        });
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await guess(i)).status);
      assert.deepEqual(statuses, Array(10).fill(401));
      const refused = await guess(10);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers['retry-after']?.[0]) >= 1, JSON.stringify(refused.headers));
      // While refused, even the right token is not checked: guessing on gains nothing.
      const right = [`Authorization: Bearer ${TOKEN}`];
      const blocked = await ask({ port: admin, path: '/api/overview', remote: true, headers: right });
      assert.equal(blocked.status, 429);
      // Another client (loopback here) is not slowed down.
      const other = await ask({ port: admin, path: '/api/overview', headers: right });
      assert.equal(other.status, 200, text(other));

      const failed = await waitForLogFrom(
        proxy,
        from,
        isWarn('admin authentication failed', 'wrong bearer credentials'),
      );
      assert.equal(failed.clientIp, REMOTE);
      assert.equal(failed.path, '/api/overview');
      await waitForLogFrom(proxy, from, (l) => l.msg === 'admin authentication throttled');
      const logged = JSON.stringify(proxy.logs.slice(from));
      assert.doesNotMatch(logged, /wrong-guess-number/);
      assert.ok(!logged.includes(TOKEN));
      // A few lines, not one per guess.
      assert.ok(proxy.logs.slice(from).filter((l) => l.level === 'warn').length <= 4, logged);
    });
  });

  describe('the API beside routers', () => {
    let proxy: ProxyProcess;
    let web: number;
    let traefik: number;
    let pub: number;
    before(async () => {
      proxy = await startProxy({
        entryPoints: 3,
        config: `entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
  public: { address: "127.0.0.1:0" }
log: { level: INFO }
api: { entryPoint: web }
ping: { entryPoint: traefik }
metrics:
  prometheus: { entryPoint: traefik }
http:
  routers:
    site: { rule: "PathPrefix(\`/\`)", service: app }
    shop: { rule: "PathPrefix(\`/shop\`)", service: app, entryPoints: [web] }
    on-admin: { rule: "PathPrefix(\`/app\`)", service: app, entryPoints: [traefik] }
    console: { rule: "Host(\`console.example\`)", service: api@internal, entryPoints: [public] }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
      await waitApplied(proxy, 1);
      web = proxy.ports['web'] ?? 0;
      traefik = proxy.ports['traefik'] ?? 0;
      pub = proxy.ports['public'] ?? 0;
    });
    after(() => proxy?.stop());

    it('routes every other path of api.entryPoint to its routers', async () => {
      assert.equal(text(await ask({ port: web, path: '/shop/cart' })), 'backend /shop/cart');
      assert.equal(text(await ask({ port: web, path: '/' })), 'backend /', 'no redirect to the dashboard');
      assert.equal(text(await ask({ port: web, path: '/apiary' })), 'backend /apiary');
      const api = await ask({ port: web, path: '/api/version' });
      assert.equal(api.status, 200);
      assert.match(text(api), /"version"/);
      const dash = await ask({ port: web, path: '/dashboard/' });
      assert.equal(dash.status, 200);
      assert.match(dash.headers['content-type']?.[0] ?? '', /text\/html/);
    });

    it('serves a router placed on the admin entry point beside /ping and /metrics', async () => {
      assert.equal(text(await ask({ port: traefik, path: '/app/x' })), 'backend /app/x');
      assert.equal(text(await ask({ port: traefik, path: '/ping' })), 'OK');
      const metrics = await ask({ port: traefik, path: '/metrics' });
      assert.equal(metrics.status, 200);
      assert.match(text(metrics), /^# (HELP|TYPE) /m);
      // Routers without entryPoints are not on `traefik` (Traefik's default entry points).
      assert.equal((await ask({ port: traefik, path: '/shop' })).status, 404);
    });

    it('serves api@internal through a router of the configuration: reads to anyone it admits, writes not', async () => {
      const read = await ask({ port: pub, path: '/api/overview', remote: true, host: 'console.example' });
      assert.equal(read.status, 200, text(read));
      const dash = await ask({ port: pub, path: '/dashboard/', remote: true, host: 'console.example' });
      assert.equal(dash.status, 200, 'api@internal serves the dashboard too, as in Traefik');
      const put = await ask({
        port: pub,
        path: '/api/http/routers/written',
        remote: true,
        host: 'console.example',
        method: 'PUT',
        json: router,
      });
      assert.equal(put.status, 403);
      // Another Host does not match the router: the request goes to the site, not the API.
      const other = await ask({ port: pub, path: '/api/overview', host: 'other.example' });
      assert.equal(text(other), 'backend /api/overview');
      // The client cannot pose as the proxy: a forged identity header is replaced.
      const forged = await ask({
        port: pub,
        path: '/api/http/routers/written',
        remote: true,
        host: 'console.example',
        method: 'PUT',
        json: router,
        headers: ['X-Traffic-Internal: x api entrypoint 127.0.0.1'],
      });
      assert.equal(forged.status, 403);
    });
  });

  it('traffic validate accepts the API beside routers and names the static key an internal service needs', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-admin-sec-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const shared = join(dir, 'shared.yaml');
    writeFileSync(
      shared,
      `entryPoints:
  web: { address: ":8080" }
api: { entryPoint: web }
http:
  routers:
    site: { rule: "PathPrefix(\`/\`)", service: api@internal, entryPoints: [web] }
    app-api: { rule: "PathPrefix(\`/api/v1\`)", service: api@internal }
`,
    );
    const ok = await runCli(['validate', '--config', shared]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /configuration OK: 2 routers/);
    // Not silent either: a router whose paths the API takes first on its entry point is named.
    assert.ok(
      ok.stdout.includes(
        `${shared}:7:22: warning: http.routers.app-api.rule: the rule asks for \`/api/v1\` on entry point \`web\`, where \`api@internal\` answers \`/api\` first`,
      ),
      ok.stdout,
    );

    const missing = join(dir, 'missing.yaml');
    writeFileSync(
      missing,
      `entryPoints:
  web: { address: ":8080" }
http:
  routers:
    scrape: { rule: "Path(\`/metrics\`)", service: prometheus@internal }
`,
    );
    const bad = await runCli(['validate', '--config', missing]);
    assert.equal(bad.code, 1);
    assert.ok(
      bad.stdout.includes(
        `${missing}:5:50: http.routers.scrape.service: service \`prometheus@internal\` is not enabled: it needs the \`metrics.prometheus\` section in the static configuration`,
      ),
      bad.stdout,
    );
  });
});
