/**
 * What the built proxy (dist/, as users run it) loads: modules a configuration does not use are
 * not loaded (idle memory grows with the number of modules, docs/performance.md "Memory at
 * rest"), and a configuration that uses them loads them when it is built and works as before,
 * errors included. The proxy runs with a resolve hook that logs every module URL it loads.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { buildIfStale } from '../helpers/build.ts';
import { curl } from '../helpers/curl.ts';
import { ROOT, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';

const DIST_MAIN = join(ROOT, 'dist', 'main.js');
const BIN = join(ROOT, 'bin', 'traffic.js');
const HOOK = join(ROOT, 'test', 'helpers', 'module-log-hook.ts');

/** Loaded only by the configurations that need them (paths as they appear in module URLs). */
const LAZY = {
  jose: '/node_modules/jose/',
  tomlParser: '/node_modules/toml-eslint-parser/',
  jwt: '/dist/middleware/jwt/jwt.js',
  compress: '/dist/middleware/compress.js',
  breakerExpression: '/dist/resilience/circuit-breaker/expression.js',
  activeMonitor: '/dist/health/active-monitor.js',
  httpProbe: '/dist/health/probe-http.js',
  h2Client: '/dist/upstream/h2-pool.js',
  yamlWorker: '/dist/config/yaml-offload.js',
  templates: '/dist/config/template/index.js',
  validateCommand: '/dist/cli/validate.js',
  // node:tls and the certificate code: until a configuration terminates TLS or a ClientHello comes.
  tls: '/dist/tls/index.js',
  tlsFront: '/dist/listeners/tls-front.js',
  buildTls: '/dist/runtime/build-tls.js',
} as const;

/**
 * Loaded by the configuration process only (config-process/): a proxy fed by the file provider
 * parses and validates nothing itself (docs/performance.md, "Memory at rest").
 */
const CONFIG_ONLY = {
  zod: '/node_modules/zod/',
  yaml: '/node_modules/yaml/',
  tomlParser: LAZY.tomlParser,
  dynamicSchema: '/dist/config/dynamic/schema.js',
  staticSchema: '/dist/config/static/schema.js',
} as const;

/** HS256 token, signed here with node:crypto. */
function hs256(secret: string, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('modules loaded on first use (built proxy)', () => {
  let backend: Backend;
  let dir: string;

  before(async () => {
    await buildIfStale();
    dir = mkdtempSync(join(tmpdir(), 'tm-lazy-'));
    backend = await startBackend((req, res) => res.end(req.url === '/health' ? 'ok' : 'hello'));
  });

  after(async () => {
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the built proxy with `config` (file name `name`), sends `check`, returns the modules it loaded. */
  async function modulesOf(
    name: string,
    config: string,
    check: (base: string) => Promise<void>,
    main = DIST_MAIN,
  ): Promise<string[]> {
    const log = join(dir, `${name}.modules`);
    const proxy = await startProxy({
      config,
      configName: name,
      entryPoints: 1,
      main,
      nodeArgs: ['--import', HOOK],
      env: { TM_MODULE_LOG: log },
    });
    try {
      await check(`http://127.0.0.1:${proxy.port}`);
    } finally {
      await proxy.stop();
    }
    return readFileSync(log, 'utf8').split('\n');
  }

  const loaded = (modules: readonly string[], part: string) => modules.some((m) => m.includes(part));

  it('a one-router YAML configuration serves without loading what it does not use', async () => {
    const modules = await modulesOf(
      'one-router.yaml',
      `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      async (base) => {
        const r = await curl([`${base}/x`]);
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), 'hello');
      },
    );
    // The log works: it saw the entry module and the middleware registry.
    assert.ok(loaded(modules, '/dist/main.js'));
    assert.ok(loaded(modules, '/dist/middleware/registry.js'));
    for (const [what, part] of Object.entries({ ...LAZY, ...CONFIG_ONLY })) {
      assert.ok(!loaded(modules, part), `${what} (${part}) is not loaded`);
    }
  });

  it('a first ClientHello loads TLS: the generated certificate, 404, and cleartext is served as before', async () => {
    const modules = await modulesOf(
      'one-router-hello.yaml',
      `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      async (base) => {
        assert.equal((await curl([`${base}/x`])).status, 200);
        const port = new URL(base).port;
        // Traefik's answer to a ClientHello no TLS router takes (router/tcp/manager.go).
        const r = await curl(['-k', '-v', `https://127.0.0.1:${port}/x`]);
        assert.equal(r.status, 404);
        assert.match(r.stderr, /subject: CN ?= ?TRAEFIK DEFAULT CERT/);
        assert.equal((await curl([`${base}/x`])).status, 200);
      },
    );
    for (const part of [LAZY.tls, LAZY.tlsFront, LAZY.buildTls])
      assert.ok(loaded(modules, part), `${part} is loaded`);
    for (const [what, part] of Object.entries(CONFIG_ONLY)) {
      assert.ok(!loaded(modules, part), `${what} (${part}) is not loaded`);
    }
  });

  it('a TOML configuration with jwt, circuitBreaker and a health check loads them when it is built, and they work', async () => {
    const secret = 'a-secret-of-thirty-two-bytes-000';
    const modules = await modulesOf(
      'uses-more.toml',
      `[entryPoints.web]
address = "127.0.0.1:0"

[http.middlewares.auth.jwt]
signingSecret = "${secret}"

[http.middlewares.cb.circuitBreaker]
expression = "NetworkErrorRatio() > 0.5"

[http.routers.api]
rule = "PathPrefix(\`/\`)"
middlewares = ["auth", "cb"]
service = "be"

[http.services.be.loadBalancer]
servers = [{ url = "${backend.url}" }]

[http.services.be.loadBalancer.healthCheck]
path = "/health"
interval = "1s"
`,
      async (base) => {
        assert.equal((await curl([`${base}/x`])).status, 401);
        const token = hs256(secret, { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 });
        const r = await curl(['-H', `Authorization: Bearer ${token}`, `${base}/x`]);
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), 'hello');
      },
    );
    for (const part of [LAZY.jwt, LAZY.jose, LAZY.breakerExpression, LAZY.activeMonitor, LAZY.httpProbe]) {
      assert.ok(loaded(modules, part), `${part} is loaded`);
    }
    assert.ok(!loaded(modules, LAZY.compress));
    assert.ok(!loaded(modules, LAZY.h2Client));
    // The TOML file was parsed, and its middlewares' keys checked, by the configuration process.
    for (const [what, part] of Object.entries(CONFIG_ONLY)) {
      assert.ok(!loaded(modules, part), `${what} (${part}) is not loaded`);
    }
  });

  it('`traffic validate` still reports a TOML error and an unknown middleware key with file:line:col', async () => {
    const toml = join(dir, 'broken.toml');
    writeFileSync(
      toml,
      '[entryPoints.web]\naddress = "127.0.0.1:0"\n\n[http.routers.api]\nrule = "PathPrefix(`/`)"\nservice = "be"\nmiddlewares = ["auth"\n',
    );
    const t = await runCli(['validate', '--config', toml], { script: DIST_MAIN });
    assert.equal(t.code, 1);
    assert.match(
      t.stdout,
      new RegExp(`^${toml.replaceAll('.', '\\.')}:8:1: TOML syntax error: Unterminated array$`, 'm'),
    );

    const yaml = join(dir, 'broken-jwt.yaml');
    writeFileSync(
      yaml,
      `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  middlewares:
    auth:
      jwt:
        signingSecret: s
        algorithm: HS256
  routers:
    api: { rule: "PathPrefix(\`/\`)", middlewares: [auth], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    );
    const y = await runCli(['validate', '--config', yaml], { script: DIST_MAIN });
    assert.equal(y.code, 1);
    assert.match(
      y.stdout,
      new RegExp(`^${yaml.replaceAll('.', '\\.')}:9:9: http\\.middlewares\\.auth\\.jwt\\.algorithm: `, 'm'),
    );
  });
  it('the traffic command serves without zod nor yaml, as node dist/main.js does', async () => {
    const config = `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;
    const serve = async (base: string) => assert.equal((await curl([`${base}/x`])).status, 200);
    for (const [name, main] of [
      ['direct.yaml', DIST_MAIN],
      ['via-bin.yaml', BIN],
    ] as const) {
      const modules = await modulesOf(name, config, serve, main);
      assert.ok(loaded(modules, '/dist/config-process/client.js'), 'the configuration process was asked');
      for (const [what, part] of Object.entries(CONFIG_ONLY)) {
        assert.ok(!loaded(modules, part), `${main}: ${what} (${part}) is not loaded`);
      }
    }
  });

  it("`traffic validate` loads zod's English locale only, and reports errors as node dist/main.js does", async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'entryPoints:\n  web:\n    address: 5\nhttp:\n  routers:\n    r: { rule: 7, service: s, priority: "x" }\n',
    );
    // `traffic validate` checks in its own process: the module log sees zod there.
    const logged = (name: string) => ({ NODE_OPTIONS: `--import ${HOOK}`, TM_MODULE_LOG: join(dir, name) });
    const a = await runCli(['validate', '--config', bad], { script: DIST_MAIN, env: logged('a.modules') });
    const b = await runCli(['validate', '--config', bad], { script: BIN, env: logged('b.modules') });
    const direct = readFileSync(join(dir, 'a.modules'), 'utf8').split('\n');
    const viaBin = readFileSync(join(dir, 'b.modules'), 'utf8').split('\n');
    const locale = (modules: readonly string[], name: string) =>
      loaded(modules, `/zod/v4/locales/${name}.js`);
    // Without the hook every locale is loaded: what the check below would otherwise see.
    assert.ok(locale(direct, 'en') && locale(direct, 'fr') && locale(direct, 'ja'));
    assert.ok(locale(viaBin, 'en'), 'English is loaded');
    const others = viaBin.filter((m) => m.includes('/zod/v4/locales/') && !m.endsWith('/en.js'));
    assert.deepEqual(others, [], 'no other locale');
    assert.equal(a.code, 1);
    assert.equal(b.code, a.code);
    assert.equal(b.stderr + b.stdout, a.stderr + a.stdout);
    assert.match(a.stderr + a.stdout, /priority: wrong type/);
  });
});
