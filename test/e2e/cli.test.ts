import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackend } from '../helpers/backends.ts';
import { ROOT, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import { runCli } from '../helpers/run-cli.ts';
import { positionOf } from '../helpers/text-position.ts';

/*
 * The `traffic` command as a user runs it: `node src/main.ts …` (and once `bin/traffic.js`).
 * validate prints one line per problem, `file:line:col: key.path: message (expected …)`, and
 * exits 1; flags and environment variables override the static file in the running process.
 */

const GOOD_DYNAMIC = `http:
  routers:
    web: { rule: "PathPrefix(\`/\`)", service: app }
    api: { rule: "PathPrefix(\`/api\`)", service: app, middlewares: [strip] }
  middlewares:
    strip: { stripPrefix: { prefixes: ["/api"] } }
  services:
    app:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9" }]
`;

/** One mistake of each kind, in objects that do not depend on one another. */
const BAD_DYNAMIC = `http:
  routers:
    web:
      rule: "Host(\`example.com\`) && Pth(\`/\`)"
      service: app
    api:
      rule: "PathPrefix(\`/api\`)"
      service: app
      priorty: 10
    admin:
      rule: "PathPrefix(\`/admin\`)"
      service: nowhere
  services:
    app:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9" }]
    checked:
      loadBalancer:
        healthCheck: { path: /health }
        servers: [{ url: "http://127.0.0.1:9" }]
  middlewares:
    breaker:
      circuitBreaker: { expression: "NetworkErrorRatio() > 0.5 && LatencyAtQuantile(50.0) > 100" }
`;

const WARNING_ONLY = `http:
  routers:
    web: { rule: "PathPrefix(\`/\`)", service: app }
  services:
    app: { loadBalancer: { servers: [] } }
`;

const SYNTAX_ERROR = `http:
  routers:
    web: { rule: "PathPrefix(\`/\`)", service: app
  services: {}
`;

const BAD_STATIC = `entryPoints:
  web:
    adress: "127.0.0.1:0"
    transport:
      respondingTimeouts:
        idleTimeout: 5 minutes
log:
  maxSize: lots
`;

function staticFor(dynamicFile: string): string {
  return `entryPoints:\n  web:\n    address: "127.0.0.1:0"\nproviders:\n  file:\n    filename: ${dynamicFile}\n`;
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

describe('traffic CLI', () => {
  let dir: string;
  const path = (name: string) => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tm-e2e-cli-'));
    // The dynamic files are named by absolute path: relative ones would be read from the
    // working directory, as in Traefik, and the commands run from several.
    const files: Record<string, string> = {
      'good.yaml': staticFor(path('good-dynamic.yaml')),
      'good-dynamic.yaml': GOOD_DYNAMIC,
      'bad-dynamic-static.yaml': staticFor(path('bad-dynamic.yaml')),
      'bad-dynamic.yaml': BAD_DYNAMIC,
      'syntax-static.yaml': staticFor(path('syntax.yaml')),
      'syntax.yaml': SYNTAX_ERROR,
      'bad-static.yaml': BAD_STATIC,
      'warning-static.yaml': staticFor(path('warning.yaml')),
      'warning.yaml': WARNING_ONLY,
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path(name), text);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('validate exits 0 with the OK line for a good configuration', async () => {
    const r = await runCli(['validate', '--config', path('good.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(lines(r.stdout), ['configuration OK: 2 routers, 1 services, 1 middlewares']);
    assert.equal(r.stderr, '');
  });

  it('validate prints warnings but exits 0 when there is no error', async () => {
    const r = await runCli(['validate', '--config', path('warning-static.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const at = positionOf(path('warning.yaml'), WARNING_ONLY, '[]');
    assert.deepEqual(lines(r.stdout), [
      `${at}: warning: http.services.app.loadBalancer.servers: the service has no servers: its requests get 503`,
      'configuration OK: 1 routers, 1 services, 0 middlewares',
    ]);
  });

  it('validate lists every error of a dynamic file with file:line:col and key path, and exits 1', async () => {
    const r = await runCli(['validate', '--config', path('bad-dynamic-static.yaml')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const f = path('bad-dynamic.yaml');
    const at = (needle: string) => positionOf(f, BAD_DYNAMIC, needle);
    assert.deepEqual(lines(r.stdout), [
      `${at('Pth(')}: http.routers.web.rule: invalid rule: unknown matcher "Pth"`,
      `${at('priorty')}: http.routers.api.priorty: unknown key \`priorty\` (did you mean \`priority\`?)`,
      `${at('nowhere')}: http.routers.admin.service: service \`nowhere\` does not exist`,
      `${at('LatencyAtQuantile(')}: http.middlewares.breaker.circuitBreaker.expression: invalid expression: unknown function 'LatencyAtQuantile'; expected NetworkErrorRatio, ResponseCodeRatio or LatencyAtQuantileMS`,
      'configuration has 4 errors',
    ]);
  });

  it("validate reports a static file's checks across keys beside a refused key, in one run", async () => {
    // A traefik.toml with a typo (dashbord) and two entry point names that name none: the
    // typo hid the other two (and the log level warning) until it was fixed.
    const text = `[entryPoints.web]
  address = "127.0.0.1:0"
  [entryPoints.web.http.redirections.entryPoint]
    to = "websecur"
    scheme = "https"
[api]
  dashbord = true
[log]
  level = "VERBOSE"
[certificatesResolvers.le.acme]
  storage = "acme.json"
  [certificatesResolvers.le.acme.httpChallenge]
    entryPoint = "webb"
`;
    writeFileSync(path('cross-keys.toml'), text);
    const r = await runCli(['validate', `--configFile=${path('cross-keys.toml')}`]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const at = (needle: string) => positionOf(path('cross-keys.toml'), text, needle);
    assert.deepEqual(lines(r.stdout), [
      `${at('"websecur"')}: entryPoints.web.http.redirections.entryPoint.to: unknown entry point \`websecur\``,
      `${at('dashbord')}: api.dashbord: unknown key \`dashbord\` (did you mean \`dashboard\`?)`,
      `${at('"VERBOSE"')}: warning: log.level: invalid log level "VERBOSE": the level is ERROR, as Traefik sets it ("Unspecified or invalid log level, setting the level to default (ERROR)"); one of DEBUG, INFO, WARN, ERROR`,
      `${at('"webb"')}: certificatesResolvers.le.acme.httpChallenge.entryPoint: unknown entry point \`webb\``,
      'configuration has 3 errors',
    ]);
  });

  it('validate reads the certificate files of the dynamic files when the static file has errors', async () => {
    const dynamic = `http:
  routers:
    r: { rule: "Host(\`a.test\`)", service: s, tls: {} }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
tls:
  certificates:
    - certFile: ${path('absent.crt')}
      keyFile: ${path('absent.key')}
`;
    writeFileSync(path('certs-dynamic.yaml'), dynamic);
    const text = `entryPoints:\n  web:\n    adress: "127.0.0.1:0"\nproviders:\n  file:\n    filename: ${path('certs-dynamic.yaml')}\n`;
    writeFileSync(path('certs-static.yaml'), text);
    const r = await runCli(['validate', '--config', path('certs-static.yaml')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const at = (needle: string) => positionOf(path('certs-dynamic.yaml'), dynamic, needle);
    assert.deepEqual(lines(r.stdout), [
      `${at(path('absent.crt'))}: tls.certificates[0].certFile: unable to read CertFile: open ${path('absent.crt')}: no such file or directory (Traefik reads a path that names no file as the PEM itself, and says "unable to parse TLS certificate key pair: tls: failed to find any PEM data in certificate input")`,
      `${at(path('absent.key'))}: tls.certificates[0].keyFile: unable to read KeyFile: open ${path('absent.key')}: no such file or directory (Traefik reads a path that names no file as the PEM itself, and says "unable to parse TLS certificate key pair: tls: failed to find any PEM data in key input")`,
      `${positionOf(path('certs-static.yaml'), text, 'adress')}: entryPoints.web.adress: unknown key \`adress\` (did you mean \`address\`?)`,
      'configuration has 3 errors',
    ]);
  });

  it('validate names the key of a string left unquoted in a TOML file and shows the quotes', async () => {
    writeFileSync(path('unquoted.toml'), '[entryPoints.websecure]\n  address = :8443\n');
    const r = await runCli(['validate', `--configFile=${path('unquoted.toml')}`]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(lines(r.stdout), [
      `${path('unquoted.toml')}:2:13: entryPoints.websecure.address: TOML syntax error: Unexpected character (a string needs quotes in TOML: address = ":8443")`,
      'configuration has 1 error',
    ]);
  });

  it('takes the configuration file from -c, --configFile= or TRAFFIC_CONFIGFILE', async () => {
    const results = await Promise.all([
      runCli(['validate', '-c', path('good.yaml')]),
      runCli(['validate', `--configFile=${path('good.yaml')}`]),
      runCli(['validate'], { env: { TRAFFIC_CONFIGFILE: path('good.yaml') } }),
    ]);
    for (const r of results) {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(lines(r.stdout), ['configuration OK: 2 routers, 1 services, 1 middlewares']);
    }
  });

  it('validate reports a YAML syntax error with its position', async () => {
    const r = await runCli(['validate', '--config', path('syntax-static.yaml')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const [first, ...rest] = lines(r.stdout);
    assert.match(first ?? '', new RegExp(`^${path('syntax.yaml')}:\\d+:\\d+: YAML syntax error: .+`));
    assert.deepEqual(rest, ['configuration has 1 error']);
  });

  it('validate reports static errors with what was expected: bad duration, misspelt key, bad number', async () => {
    const r = await runCli(['validate', '--config', path('bad-static.yaml')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const f = path('bad-static.yaml');
    const at = (needle: string) => positionOf(f, BAD_STATIC, needle);
    const out = lines(r.stdout);
    const expected = [
      `${at('adress')}: entryPoints.web.adress: unknown key \`adress\` (did you mean \`address\`?)`,
      `${at('5 minutes')}: entryPoints.web.transport.respondingTimeouts.idleTimeout: invalid duration "5 minutes" (expected a duration such as 10s, 1m30s, 250ms, or a whole number of seconds)`,
      `${at('lots')}: log.maxSize: wrong type: got "lots" (expected a number)`,
    ];
    for (const e of expected) assert.ok(out.includes(e), `missing line:\n${e}\nin:\n${r.stdout}`);
    assert.equal(out.at(-1), 'configuration has 3 errors');
  });

  it('validate names the flag or environment variable that set a bad value', async () => {
    // Without a file (none where Traefik looks): the flags are the source.
    const empty = path('no-file');
    mkdirSync(empty, { recursive: true });
    const r = await runCli(['validate', '--entryPoints.web.address=nope'], {
      cwd: empty,
      env: { TRAFFIC_LOG_MAXSIZE: 'lots', TRAFFIC_CONFIGFILE: '', HOME: empty, XDG_CONFIG_HOME: '' },
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(lines(r.stdout), [
      'entryPoints.web.address: invalid address "nope" (set by --entryPoints.web.address) (expected host:port, :port or [ipv6]:port)',
      'log.maxSize: wrong type: got "lots" (set by TRAFFIC_LOG_MAXSIZE) (expected a number)',
      'configuration has 2 errors',
    ]);
  });

  it('--help, help and --version print to stdout and exit 0; an unknown command exits 2', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const [help, helpCmd, ver, unknown] = await Promise.all([
      runCli(['--help']),
      runCli(['help']),
      runCli(['--version']),
      runCli(['frobnicate']),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage:$/m);
    assert.match(help.stdout, /traffic validate \[--config FILE\]/);
    assert.match(help.stdout, /TRAFFIC_LOG_LEVEL=DEBUG/);
    assert.equal(helpCmd.stdout, help.stdout);
    assert.equal(ver.code, 0);
    assert.equal(ver.stdout, `traffic ${version} (node ${process.versions.node})\n`);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /^traffic: unknown command "frobnicate"/);
    assert.match(unknown.stderr, /Usage:/);
  });

  it('bin/traffic.js runs the same command: validate config/example.yaml', async () => {
    const r = await runCli(['validate', '--config', join(ROOT, 'config', 'example.yaml')], {
      script: join(ROOT, 'bin', 'traffic.js'),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(lines(r.stdout), ['configuration OK: 2 routers, 1 services, 1 middlewares']);
  });

  it('run refuses a bad static configuration: exit 1, every error on stderr, nothing listening', async () => {
    const r = await runCli(['run', '--config', path('bad-static.yaml')]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /bad-static\.yaml:\d+:\d+: entryPoints\.web\.transport\.respondingTimeouts\.idleTimeout: invalid duration/,
    );
    assert.doesNotMatch(r.stderr, /entry point listening/);
  });

  it('run without any entry point refuses to start instead of exiting 0 with nothing to do', async () => {
    // A folder of its own: a configuration file another test writes into `dir` would be found.
    const cwd = path('no-config-a');
    mkdirSync(cwd, { recursive: true });
    const r = await runCli(['run'], {
      cwd,
      env: { TRAFFIC_CONFIGFILE: '', HOME: path('no-home'), XDG_CONFIG_HOME: '' },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /"level":"error","msg":"no entry point is defined: nothing to listen on/);
  });

  it('run without --config says where it looked for a configuration file when there is none', async () => {
    const cwd = path('no-config-b');
    mkdirSync(cwd, { recursive: true });
    const r = await runCli(['run'], {
      cwd,
      env: { TRAFFIC_CONFIGFILE: '', HOME: path('no-home'), XDG_CONFIG_HOME: path('no-xdg') },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(
      r.stderr.includes(
        `no configuration file was found in /etc/traefik, ${path('no-xdg')}, ${path('no-home/.config')}, ${cwd} (traffic.yaml, traffic.yml, traffic.toml, traefik.toml, traefik.yaml, traefik.yml); name one with --config`,
      ),
      r.stderr,
    );
  });

  it('finds the file where Traefik looks: $XDG_CONFIG_HOME before ~/.config before the working directory, traffic.* before traefik.*', async () => {
    const xdg = path('xdg');
    const home = path('home');
    const cwd = path('work');
    for (const d of [xdg, join(home, '.config'), cwd]) mkdirSync(d, { recursive: true });
    const env = { TRAFFIC_CONFIGFILE: '', HOME: home, XDG_CONFIG_HOME: xdg };
    writeFileSync(join(cwd, 'traefik.yml'), readFileSync(path('good.yaml'), 'utf8'));
    let r = await runCli(['validate'], { cwd, env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`Configuration loaded from file: ${join(cwd, 'traefik.yml')}`));
    writeFileSync(join(cwd, 'traffic.yaml'), readFileSync(path('bad-static.yaml'), 'utf8'));
    r = await runCli(['validate'], { cwd, env });
    assert.equal(r.code, 1, 'traffic.yaml, with its errors, is read before traefik.yml');
    assert.match(r.stderr, new RegExp(`Configuration loaded from file: ${join(cwd, 'traffic.yaml')}`));
    writeFileSync(join(home, '.config', 'traefik.toml'), '[entryPoints.web]\naddress = "127.0.0.1:0"\n');
    r = await runCli(['validate'], { cwd, env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`Configuration loaded from file: ${join(home, '.config', 'traefik.toml')}`),
    );
    writeFileSync(join(xdg, 'traefik.yaml'), readFileSync(path('bad-static.yaml'), 'utf8'));
    r = await runCli(['validate'], { cwd, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Configuration loaded from file: ${join(xdg, 'traefik.yaml')}`));
    // A named file is used as named, without looking anywhere else.
    r = await runCli(['validate', '--config', path('good.yaml')], { cwd, env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /Configuration loaded from file/);
  });

  it('reads relative paths of the configuration from the working directory, as Traefik does', async () => {
    const conf = path('rel-conf');
    const work = path('rel-work');
    mkdirSync(conf, { recursive: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(join(conf, 'static.yaml'), staticFor('rel-dynamic.yaml'));
    writeFileSync(join(work, 'rel-dynamic.yaml'), GOOD_DYNAMIC);
    const ok = await runCli(['validate', '--config', join(conf, 'static.yaml')], { cwd: work });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    // Next to the static file is not where it is looked for: the error names the file it read.
    writeFileSync(join(conf, 'rel-dynamic.yaml'), GOOD_DYNAMIC);
    const elsewhere = await runCli(['validate', '--config', join(conf, 'static.yaml')], { cwd: dir });
    assert.equal(elsewhere.code, 1);
    assert.match(
      elsewhere.stdout + elsewhere.stderr,
      new RegExp(`${join(dir, 'rel-dynamic.yaml')}: cannot read the file`),
    );
  });

  it('run exits 1 when an entry point address is already in use', async (t) => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const r = await runCli(['--config', path('good.yaml')], {
      env: { TRAFFIC_ENTRYPOINTS_WEB_ADDRESS: `127.0.0.1:${port}` },
    });
    assert.equal(r.code, 1, r.stderr);
    const logged = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      logged.some((l) => l.msg === 'cannot listen' && l.entryPoint === 'web'),
      r.stderr,
    );
  });

  it('TRAFFIC_ variables win over the file, in the running process', async (t) => {
    const be = await startBackend((_req, res) => res.end('ok'));
    t.after(() => be.close());
    // 192.0.2.0/24 is TEST-NET-1: if the file's address were used, the proxy could not listen.
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "192.0.2.1:9"
log: { level: ERROR }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
      env: { TRAFFIC_LOG_LEVEL: 'DEBUG', TRAFFIC_ENTRYPOINTS_WEB_ADDRESS: '127.0.0.1:0' },
      timeoutMs: 10_000,
    });
    t.after(() => proxy.stop());
    // The INFO lines the harness waited for prove the environment beat the file's ERROR level.
    const listening = await proxy.waitForLog((l) => l.msg === 'entry point listening');
    assert.match(String(listening.address), /^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://127.0.0.1:${proxy.port}/`);
    assert.equal(await res.text(), 'ok');
    // A DEBUG-only line: a request the codec refuses (two Host fields).
    const c = await RawConn.open(proxy.port);
    t.after(() => c.destroy());
    c.write('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    assert.equal((await c.readResponse()).status, 400);
    const debug = await proxy.waitForLog((l) => l.msg === 'rejected request');
    assert.equal(debug.level, 'debug');
  });

  it('reads one source as Traefik: flags and TRAEFIK_ variables given with a file are ignored, with a warning; the source is logged at INFO', async (t) => {
    const be = await startBackend((_req, res) => res.end('ok'));
    t.after(() => be.close());
    // Were the flag or the variable read, the proxy could not listen (TEST-NET-1).
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
      args: ['--entryPoints.web.address=192.0.2.1:9', '--api.insecure', 'true'],
      env: { TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: '192.0.2.1:8' },
      timeoutMs: 10_000,
    });
    t.after(() => proxy.stop());
    assert.equal(await (await fetch(`http://127.0.0.1:${proxy.port}/`)).text(), 'ok');
    const loaded = await proxy.waitForLog((l) => String(l.msg).startsWith('Configuration loaded'));
    assert.equal(loaded.level, 'info');
    assert.equal(loaded.msg, `Configuration loaded from file: ${proxy.configPath}`);
    // At ERROR, so that the default level shows it (the ignored flags may be `--log.level`).
    const flags = await proxy.waitForLog((l) => String(l.msg).includes('command-line flags are ignored'));
    assert.equal(flags.level, 'error');
    assert.match(String(flags.msg), /\(--entryPoints\.web\.address, --api\.insecure\)/);
    assert.doesNotMatch(String(flags.msg), /192\.0\.2/, 'names, not values');
    const vars = await proxy.waitForLog((l) => String(l.msg).includes('TRAEFIK_ variables are ignored'));
    assert.equal(vars.level, 'error');
    assert.match(String(vars.msg), /\(TRAEFIK_ENTRYPOINTS_WEB_ADDRESS\)/);
  });

  it('without a file, flags are the source and TRAEFIK_ variables are ignored; without flags, the variables are', async () => {
    const empty = path('no-file-2');
    mkdirSync(empty, { recursive: true });
    const base = { TRAFFIC_CONFIGFILE: '', HOME: empty, XDG_CONFIG_HOME: '' };
    const withFlags = await runCli(['validate', '--entryPoints.web.address=127.0.0.1:0'], {
      cwd: empty,
      env: { ...base, TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: 'nope' },
    });
    assert.equal(withFlags.code, 0, withFlags.stdout + withFlags.stderr);
    assert.match(
      withFlags.stdout,
      /^warning: the TRAEFIK_ variables are ignored \(TRAEFIK_ENTRYPOINTS_WEB_ADDRESS\): the static configuration is read from the flags alone, as in Traefik/m,
    );
    const envOnly = await runCli(['validate'], {
      cwd: empty,
      env: { ...base, TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: 'nope' },
    });
    assert.equal(envOnly.code, 1, envOnly.stdout + envOnly.stderr);
    assert.match(envOnly.stdout, /invalid address "nope" \(set by TRAEFIK_ENTRYPOINTS_WEB_ADDRESS\)/);
    assert.doesNotMatch(envOnly.stdout, /ignored/);
  });
});
