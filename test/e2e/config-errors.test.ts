import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { MiddlewareView, OverviewView, RouterView, ServiceView } from '../../src/admin/views.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { launchChromium, openPage } from '../helpers/browser.ts';
import { curl } from '../helpers/curl.ts';
import { killDescendants } from '../helpers/descendants.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { escapeRegExp, positionOf } from '../helpers/text-position.ts';
import {
  Counter,
  currentGeneration,
  errorIssues,
  rejectedIssues,
  waitApplied,
  waitForLogFrom,
} from '../helpers/wait.ts';

/*
 * Configuration errors the way a Traefik user expects them, through the real proxy process: a
 * faulty object is dropped and reported while the rest applies, a file that cannot be parsed
 * rejects the update whole (the last good configuration serves), and nothing a file holds can
 * stop hot reload.
 */

async function backend(t: TestContext, name: string): Promise<Backend> {
  const b = await startBackend((_req, res) => res.end(name));
  t.after(() => b.close());
  return b;
}

function staticWith(provider: string, extra = ''): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  file:
${provider}
${extra}`;
}

/** One router `name` for `path`, to a service of its own at `url`. */
function route(name: string, path: string, url: string): string {
  return `http:
  routers:
    ${name}: { rule: "PathPrefix(\`${path}\`)", service: ${name} }
  services:
    ${name}: { loadBalancer: { servers: [{ url: "${url}" }] } }
`;
}

async function get(proxy: ProxyProcess, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The "billion laughs": nine aliases of nine aliases of … nine strings. */
const ALIAS_BOMB = `${['a: &a ["x","x","x","x","x","x","x","x","x"]']
  .concat([...'bcdefg'].map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`))
  .join('\n')}\n`;

describe('a YAML alias bomb under run', () => {
  it('is refused with a clear error, the last good configuration serves, and hot reload goes on', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': route('app', '/', a.url) },
    });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy, '/')).body, 'a');
    let generation = currentGeneration(proxy);

    const from = proxy.logs.length;
    const file = proxy.writeFile('dyn.yaml', ALIAS_BOMB);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected');
    assert.ok(
      rejectedIssues(proxy, from).some(
        (i) => i.startsWith(`${file}: `) && i.includes('YAML aliases expand too much'),
      ),
      JSON.stringify(rejectedIssues(proxy, from)),
    );
    assert.equal(currentGeneration(proxy), generation);
    assert.equal((await get(proxy, '/')).body, 'a', 'the last good configuration serves');

    proxy.writeFile('dyn.yaml', route('app', '/', b.url));
    await waitApplied(proxy, ++generation);
    assert.equal((await get(proxy, '/')).body, 'b');
  });

  it('in the static file stops run and validate with that error, not a crash', async (t) => {
    const proxy = startProxy({ config: ALIAS_BOMB, entryPoints: 0, waitForConfig: false });
    const p = await proxy;
    t.after(() => p.stop());
    assert.equal(await p.exited, 1);
    assert.ok(
      p.logs.some(
        (l) => l.level === 'raw' && /traffic\.yaml: YAML aliases expand too much/.test(String(l.msg)),
      ),
      JSON.stringify(p.logs),
    );
  });
});

/** A Go template that runs its loop 10^12 times before it writes the route (the files are templates). */
function looping(routeText: string): string {
  return `{{range 10000}}{{range 10000}}{{range 10000}}{{end}}{{end}}{{end}}${routeText}`;
}

describe('a configuration process that does not answer', () => {
  it('under run: it is killed, the error is logged, the last configuration serves, and the next change applies', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': route('app', '/', a.url) },
      // Short, but each question gets it whole, the child's start on a busy machine included.
      env: { TM_CONFIG_PROCESS_TIMEOUT_MS: '5000' },
    });
    t.after(async () => {
      // A child the code under test left looping would outlive the proxy.
      if (proxy.child.pid !== undefined) killDescendants(proxy.child.pid);
      await proxy.stop();
    });
    assert.equal((await get(proxy, '/')).body, 'a');
    const generation = currentGeneration(proxy);

    const from = proxy.logs.length;
    proxy.writeFile('dyn.yaml', looping(route('app', '/', b.url)));
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected', 30_000);
    assert.deepEqual(rejectedIssues(proxy, from).slice(0, 1), [
      'cannot load the configuration (the configuration process did not answer within 5 s; killed)',
    ]);
    assert.equal(currentGeneration(proxy), generation);
    assert.equal((await get(proxy, '/')).body, 'a', 'the last configuration serves');

    proxy.writeFile('dyn.yaml', route('app', '/', b.url));
    await waitApplied(proxy, generation + 1, 30_000);
    assert.equal((await get(proxy, '/')).body, 'b');
  });

  it('at start: run stops with that error', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-fifo-'));
    // A static file that is a FIFO nobody writes: the child's read blocks.
    const fifo = join(dir, 'traffic.yaml');
    execFileSync('mkfifo', [fifo]);
    t.after(() => {
      // A child still blocked (the code under test did not kill it) reads an empty file and ends.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    });
    const r = await runCli(['run', '--config', fifo], {
      env: { TM_CONFIG_PROCESS_TIMEOUT_MS: '1000' },
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      'traffic: cannot load the configuration (the configuration process did not answer within 1 s; killed)\n',
    );
  });
});

/** A file with one faulty object of each kind, each used by a router, beside a good router. */
function faulty(good: string): string {
  return `http:
  routers:
    good: { rule: "PathPrefix(\`/\`)", service: good }
    typo: { rule: "Path(\`/typo\`)", service: nowhere }
    uses-bad: { rule: "Path(\`/mw\`)", service: good, middlewares: [bad] }
    to-bad: { rule: "Path(\`/svc\`)", service: bad }
  middlewares:
    bad: { replacePath: { path: "/a%zz" } }
  services:
    good: { loadBalancer: { servers: [{ url: "${good}" }] } }
    bad: { loadBalancer: { servers: [{ url: "http://nowhere:x1" }] } }
`;
}

describe('one faulty router, service or middleware', () => {
  it('is dropped and reported in the log, the API, the dashboard and the metrics, and the rest applies', async (t) => {
    const a = await backend(t, 'a');
    const text = faulty(a.url);
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { dashboard: true }
metrics: { prometheus: {} }
providers:
  file:
    filename: dyn.yaml
`,
      files: { 'dyn.yaml': text },
      entryPoints: 2,
    });
    t.after(() => proxy.stop());
    const file = join(proxy.dir, 'dyn.yaml');
    const applied = await waitApplied(proxy, 1);
    assert.equal(applied.disabled, 5, JSON.stringify(applied));

    // The rest applies.
    assert.deepEqual(await get(proxy, '/'), { status: 200, body: 'a' });
    assert.equal((await get(proxy, '/typo')).body, 'a', 'the catch-all router serves what typo would have');

    // The log: each cause with its position, each dependant naming what it needs.
    const logged = errorIssues(proxy, 0);
    for (const expected of [
      `${positionOf(file, text, 'nowhere')}: http.routers.typo.service: service \`nowhere\` does not exist`,
      `${positionOf(file, text, '"http://nowhere:x1')}: http.services.bad.loadBalancer.servers[0].url: invalid URL`,
      `${positionOf(file, text, '{ replacePath')}: http.middlewares.bad: replacePath: invalid percent-encoding`,
      `${positionOf(file, text, 'bad] }')}: http.routers.uses-bad.middlewares[0]: middleware \`bad@file\` is disabled because of its own errors`,
      `${positionOf(file, text, 'bad }')}: http.routers.to-bad.service: service \`bad\` is disabled because of its own errors`,
    ]) {
      assert.ok(
        logged.some((l) => l.startsWith(expected)),
        `no logged issue starts with ${expected}: ${JSON.stringify(logged, null, 1)}`,
      );
    }

    // The API.
    const admin = `http://127.0.0.1:${proxy.ports['traefik']}`;
    const api = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${admin}/api/${path}`)).json()) as T;
    const routers = await api<RouterView[]>('http/routers');
    assert.deepEqual(
      routers.map((r) => [r.name, r.status]),
      [
        ['good@file', 'enabled'],
        // Traefik's internal provider's router for metrics.prometheus (internal.go).
        ['prometheus@internal', 'enabled'],
        ['to-bad@file', 'disabled'],
        ['typo@file', 'disabled'],
        ['uses-bad@file', 'disabled'],
      ],
    );
    const typo = routers.find((r) => r.name === 'typo@file')!;
    assert.equal(typo.rule, 'Path(`/typo`)');
    assert.equal(typo.service, 'nowhere@file');
    assert.match(typo.issues.join('\n'), /service `nowhere` does not exist/);
    // Traefik's words beside ours (pkg/server/service/service.go BuildHTTP).
    assert.deepEqual(typo.error, ['the service "nowhere@file" does not exist']);
    assert.match(
      routers.find((r) => r.name === 'to-bad@file')!.issues.join('\n'),
      /service `bad` is disabled because of its own errors/,
    );
    const services = await api<ServiceView[]>('http/services');
    assert.deepEqual(
      services.map((x) => [x.name, x.type, x.status]),
      [
        ['api@internal', undefined, 'enabled'],
        ['bad@file', 'loadbalancer', 'disabled'],
        ['dashboard@internal', undefined, 'enabled'],
        ['good@file', 'loadbalancer', 'enabled'],
        ['noop@internal', undefined, 'enabled'],
        ['prometheus@internal', undefined, 'enabled'],
      ],
    );
    const middlewares = await api<MiddlewareView[]>('http/middlewares');
    assert.deepEqual(
      middlewares.map((m) => [m.name, m.type, m.status, m.config]),
      [['bad@file', 'replacepath', 'disabled', { path: '/a%zz' }]],
    );
    assert.match(middlewares[0]!.issues.join('\n'), /invalid percent-encoding/);
    const one = await api<RouterView>('http/routers/typo');
    assert.equal(one.status, 'disabled');
    const overview = await api<OverviewView>('overview');
    assert.deepEqual(overview.http.routers, { total: 5, warnings: 0, errors: 3 });
    assert.deepEqual(overview.http.services, { total: 6, warnings: 0, errors: 1 });
    assert.deepEqual(overview.http.middlewares, { total: 1, warnings: 0, errors: 1 });

    // The metrics.
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    for (const [section, n] of [
      ['routers', 3],
      ['services', 1],
      ['middlewares', 1],
      ['serversTransports', 0],
    ] as const) {
      assert.match(
        metrics,
        new RegExp(`^traffic_config_disabled_objects\\{section="${section}"\\} ${n}$`, 'm'),
      );
    }
    assert.match(metrics, /^traffic_config_errors 5$/m);

    // The dashboard.
    const browser = await launchChromium();
    t.after(() => browser.close());
    const { page, errors, close } = await openPage(browser, `${admin}/dashboard/`);
    t.after(close);
    page.setDefaultTimeout(15_000);
    const row = page.locator('[data-testid="router-row"][data-name="typo@file"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'error');
    assert.match((await row.getByTestId('issues').textContent()) ?? '', /service `nowhere` does not exist/);
    assert.equal(await page.getByTestId('count-routers').getByTestId('errors').textContent(), '3');
    assert.deepEqual(errors, []);

    // Fixed: everything is enabled again, and the metrics say so.
    proxy.writeFile(
      'dyn.yaml',
      faulty(a.url).replace('nowhere', 'good').replace('/a%zz', '/a').replace('http://nowhere:x1', a.url),
    );
    await waitApplied(proxy, 2);
    const after = await api<RouterView[]>('http/routers');
    assert.ok(
      after.every((r) => r.status === 'enabled'),
      JSON.stringify(after),
    );
    // Start-up (the file and the API providers) was one generation, the fix another.
    assert.deepEqual(
      proxy.logs.filter((l) => l.msg === 'configuration applied').map((l) => l.generation),
      [1, 2],
    );
    assert.match(await (await fetch(`${admin}/metrics`)).text(), /^traffic_config_errors 0$/m);
  });
});

// Traefik logs "Router uses a nonexistent certificate resolver" (cmd/traefik/traefik.go
// setupServer) and serves the router with the store's certificates.
describe('a certResolver that names no resolver', () => {
  it('serves its router with the default certificate, with a located line at ERROR, as Traefik', async (t) => {
    const a = await backend(t, 'a');
    const text = `http:
  routers:
    secure: { rule: "Host(\`secure.test\`)", service: app, tls: { certResolver: letsencrypt } }
    other: { rule: "Host(\`other.test\`)", service: app, tls: {} }
  services:
    app: { loadBalancer: { servers: [{ url: "${a.url}" }] } }
`;
    const proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: INFO }
providers:
  file:
    filename: dyn.yaml
`,
      files: { 'dyn.yaml': text },
    });
    t.after(() => proxy.stop());
    const file = join(proxy.dir, 'dyn.yaml');
    const applied = await waitApplied(proxy, 1);
    assert.equal(applied.disabled, undefined);
    // Logged at ERROR as Traefik's log.Error() there, the router still served (not disabled).
    assert.deepEqual(errorIssues(proxy, 0), [
      `${positionOf(file, text, 'letsencrypt')}: http.routers.secure.tls.certResolver: certificate resolver \`letsencrypt\` does not exist (certificatesResolvers of the static configuration): nothing is ordered, and the router is served with the store's certificates, as in Traefik`,
    ]);
    assert.equal(proxy.logs.find((l) => l.msg === 'configuration error')?.level, 'error');
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: proxy.port,
            servername: host,
            headers: { host },
            rejectUnauthorized: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status('other.test'), 200);
    assert.equal(await status('secure.test'), 200, 'served, over the default certificate');
  });

  it('on an entry point: the proxy starts, with a located warning, and its routers are served', async (t) => {
    const a = await backend(t, 'a');
    const proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: { certResolver: letsencrypt } }
log: { level: INFO }
providers:
  file:
    filename: dyn.yaml
`,
      files: {
        'dyn.yaml': `http:\n  routers:\n    r: { rule: "Host(\`r.test\`)", service: app }\n  services:\n    app: { loadBalancer: { servers: [{ url: "${a.url}" }] } }\n`,
      },
    });
    t.after(() => proxy.stop());
    // At ERROR, as Traefik logs "Router uses a nonexistent certificate resolver".
    const raw = proxy.logs.filter((l) => l.level === 'error').map((l) => String(l.msg));
    assert.ok(
      raw.some((m) =>
        /:\d+:\d+: entryPoints\.websecure\.http\.tls\.certResolver: certificate resolver `letsencrypt` does not exist/.test(
          m,
        ),
      ),
      JSON.stringify(raw),
    );
    await waitApplied(proxy, 1);
    const r = await curl([
      '-k',
      '--resolve',
      `r.test:${proxy.port}:127.0.0.1`,
      `https://r.test:${proxy.port}/`,
    ]);
    assert.equal(r.status, 200, r.stderr);
  });
});

describe('a tls.certificates entry the schema refuses', () => {
  // Traefik's tlsmanager UpdateConfigs (pkg/tls/tlsmanager.go) logs "Unable to append
  // certificate" for a certificate it cannot load and applies the rest: one entry without a
  // keyFile must not take the file's routers down, and validate reports it with the file's
  // other problems in one run.
  it('is left out with a located error, the rest of the file applies, and validate reports the rest too', async (t) => {
    const a = await backend(t, 'a');
    const text = `http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
    typo: { rule: "PathPrefix(/x)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${a.url}" }] } }
tls:
  certificates:
    - certFile: missing-key.crt
`;
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': text },
    });
    t.after(() => proxy.stop());
    const file = join(proxy.dir, 'dyn.yaml');
    await waitApplied(proxy, 1);
    assert.deepEqual(await get(proxy, '/'), { status: 200, body: 'a' });
    const keyFile = `${positionOf(file, text, 'certFile')}: tls.certificates[0].keyFile: required key \`keyFile\` is missing (expected a string)`;
    assert.ok(
      errorIssues(proxy, 0).includes(keyFile),
      `${keyFile} in ${JSON.stringify(errorIssues(proxy, 0))}`,
    );
    const v = await runCli(['validate', '--config', proxy.configPath], { cwd: proxy.dir });
    assert.equal(v.code, 1, v.stdout);
    assert.ok(v.stdout.includes(`${keyFile}\n`), v.stdout);
    assert.match(
      v.stdout,
      new RegExp(`${escapeRegExp(file)}:4:\\d+: http\\.routers\\.typo\\.rule: invalid rule`),
    );
  });
});

describe('the file provider under a busy folder', () => {
  it('reloads a change while another file of the folder is rewritten every 10 ms', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': route('app', '/', a.url) },
    });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy, '/')).body, 'a');
    // Another program's file in the same folder (a log, a lock, a state file), rewritten faster
    // than the debounce: the bound itself (a change waits at most the debounce plus one period)
    // is checked on virtual time in coalescer.test.ts.
    const writes = new Counter();
    const noise = setInterval(() => {
      writeFileSync(join(proxy.dir, 'state.json'), `{"n":${writes.value}}\n`);
      writes.inc();
    }, 10);
    t.after(() => clearInterval(noise));
    await writes.reach(4, 'the noise to start');
    proxy.writeFile('dyn.yaml', route('app', '/', b.url));
    // A quiet-time debounce never fires while the noise goes on (it runs until the test ends);
    // the deadline is only a guard.
    await waitApplied(proxy, 2);
    assert.equal((await get(proxy, '/')).body, 'b');
  });
});

describe('a directory of files, one of them broken', () => {
  it('rejects the folder whole while a file cannot be parsed (Traefik loadFileConfigFromDirectory), and applies it once fixed', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-confd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      return file;
    };
    write('one.yaml', route('one', '/one', a.url));
    write('two.yaml', route('two', '/two', a.url));
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
providers:
  file:
    directory: "${dir}"
`,
      entryPoints: 2,
    });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy, '/two')).body, 'a');
    const admin = `http://127.0.0.1:${proxy.ports['traefik']}`;
    const overviewIssues = async () =>
      ((await (await fetch(`${admin}/api/overview`)).json()) as OverviewView).issues;

    const generation = currentGeneration(proxy);
    let from = proxy.logs.length;
    const two = write('two.yaml', `${route('two', '/two', b.url)}  oops: [\n`);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected');
    assert.match(
      rejectedIssues(proxy, from).join('\n'),
      new RegExp(`^${escapeRegExp(two)}:\\d+:\\d+: YAML syntax error`, 'm'),
    );
    assert.equal((await get(proxy, '/two')).body, 'a', 'the last good configuration serves');
    const rejection = async () =>
      ((await (await fetch(`${admin}/api/overview`)).json()) as OverviewView).reloads.lastRejection;
    assert.ok((await rejection())?.issues.some((i) => i.startsWith(`${two}:`)));

    // Another file changes while two.yaml is still broken (differently): rejected whole again,
    // one.yaml's change waits with it, as Traefik's directory load fails at its first bad file.
    from = proxy.logs.length;
    write('one.yaml', route('one', '/one', b.url));
    write('two.yaml', `${route('two', '/two', b.url)}  oops: {\n`);
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'configuration rejected' && String(l.issue).startsWith(`${two}:`),
    );
    assert.equal((await get(proxy, '/one')).body, 'a');
    assert.equal((await get(proxy, '/two')).body, 'a');
    assert.equal(currentGeneration(proxy), generation);

    from = proxy.logs.length;
    write('two.yaml', route('two', '/two', b.url));
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration applied');
    assert.equal((await get(proxy, '/two')).body, 'b');
    assert.deepEqual(await overviewIssues(), []);
  });
});

describe('a file of the folder with an empty section (`middlewares: {}`)', () => {
  it('rejects the folder whole, as Traefik\'s decoder refuses the file (paerser: "cannot be a standalone element"), and applies it once a key is under it', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-standalone-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      return file;
    };
    write('one.yaml', route('one', '/one', a.url));
    const proxy = await startProxy({ config: staticWith(`    directory: "${dir}"`) });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy, '/one')).body, 'a');
    const generation = currentGeneration(proxy);

    // As Advokat-Babayki/docker-homelab-core's dynamic.yml (test/corpus/traefik): Traefik logs
    // "middlewares cannot be a standalone element (type map[string]*dynamic.Middleware)" and
    // applies nothing of the folder; one.yaml's change waits with it.
    let from = proxy.logs.length;
    const two = write('two.yaml', 'http:\n  middlewares: {}\n');
    write('one.yaml', route('one', '/one', b.url));
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'configuration rejected' && String(l.issue).startsWith(`${two}:`),
    );
    assert.match(
      rejectedIssues(proxy, from).join('\n'),
      /http\.middlewares: `middlewares` cannot be a standalone element/,
    );
    assert.equal((await get(proxy, '/one')).body, 'a', 'the last good configuration serves');
    assert.equal(currentGeneration(proxy), generation);

    from = proxy.logs.length;
    write('two.yaml', 'http:\n  middlewares:\n    gz:\n      compress: {}\n');
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration applied');
    assert.equal((await get(proxy, '/one')).body, 'b');
  });
});

describe('a nested struct left empty (`forwardingTimeouts: {}`, `ipStrategy: {}`)', () => {
  it('rejects the file whole for one Traefik does not tag allowEmpty, and loads one it does', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-nested-standalone-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (text: string): string => {
      const file = join(dir, 'one.yaml');
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      return file;
    };
    write(route('one', '/one', a.url));
    const proxy = await startProxy({ config: staticWith(`    directory: "${dir}"`) });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy, '/one')).body, 'a');
    const generation = currentGeneration(proxy);

    // ServersTransport.ForwardingTimeouts has no allowEmpty tag (pkg/config/dynamic/http_config.go):
    // Traefik's decoder refuses the file, and the router's change waits with it.
    let from = proxy.logs.length;
    const one = write(
      `${route('one', '/one', b.url)}  serversTransports:\n    slow:\n      forwardingTimeouts: {}\n`,
    );
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'configuration rejected' && String(l.issue).startsWith(`${one}:`),
    );
    assert.match(
      rejectedIssues(proxy, from).join('\n'),
      /http\.serversTransports\.slow\.forwardingTimeouts: `forwardingTimeouts` cannot be a standalone element/,
    );
    assert.equal((await get(proxy, '/one')).body, 'a', 'the last good configuration serves');
    assert.equal(currentGeneration(proxy), generation);

    // IPAllowList.IPStrategy is tagged allowEmpty (middlewares.go): read as the remote address.
    from = proxy.logs.length;
    write(`http:
  routers:
    one: { rule: "PathPrefix(\`/one\`)", service: one, middlewares: [lan] }
  middlewares:
    lan: { ipAllowList: { sourceRange: ["127.0.0.0/8"], ipStrategy: {} } }
  services:
    one: { loadBalancer: { servers: [{ url: "${b.url}" }] } }
`);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration applied');
    assert.equal((await get(proxy, '/one')).body, 'b');
  });
});

describe('a providers.file with neither filename nor directory', () => {
  it('starts without the file provider, with a warning, as Traefik starts without it', async (t) => {
    // Traefik's file provider fails in Provide ("neither filename nor directory is defined"), its
    // aggregator logs "Cannot start the provider" and Traefik serves on without it.
    const proxy = await startProxy({
      config: 'entryPoints:\n  web:\n    address: "127.0.0.1:0"\nproviders:\n  file: { watch: true }\n',
      waitForConfig: false,
    });
    t.after(() => proxy.stop());
    await proxy.waitForLog((l) =>
      /the file provider does not start: neither `filename` nor `directory`/.test(l.msg ?? ''),
    );
    const res = await fetch(`http://127.0.0.1:${proxy.port}/`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    const v = await runCli(['validate', '--config', proxy.configPath], { cwd: proxy.dir });
    assert.equal(v.code, 0, v.stdout);
    assert.match(v.stdout, /warning: providers\.file: the file provider does not start/);
  });
});
