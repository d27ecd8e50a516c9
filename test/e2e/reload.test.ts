import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type LoadRun, startLoad, summary } from '../helpers/load.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import { escapeRegExp, positionOf } from '../helpers/text-position.ts';
import {
  Counter,
  currentGeneration,
  errorIssues,
  gate,
  rejectedIssues,
  waitApplied,
  waitForLogFrom,
  within,
} from '../helpers/wait.ts';

/*
 * Hot reload through the file provider with the real proxy process: zero failed requests while
 * the configuration changes under load (edge-rules §4.2 row 10); a faulty object is disabled and
 * reported while the rest applies, and what cannot be read keeps the last good version serving
 * (§0 rule 7, §4.2 row 9).
 */

const CONCURRENCY = 8;
const CHANGES = 20;

/** Two backends that answer with their name. */
async function twoBackends(t: TestContext): Promise<{ a: Backend; b: Backend }> {
  const a = await startBackend((_req, res) => res.end('a'));
  const b = await startBackend((_req, res) => res.end('b'));
  t.after(() => Promise.all([a.close(), b.close()]));
  return { a, b };
}

/** A dynamic configuration whose only service is `svc-<to>`: a switch closes the other pool. */
function routeTo(to: 'a' | 'b', backends: { a: Backend; b: Backend }, extraRouters = ''): string {
  return `http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: svc-${to} }
${extraRouters}  services:
    svc-${to}:
      loadBalancer:
        servers: [{ url: "${backends[to].url}" }]
`;
}

function staticWith(provider: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  file:
${provider}
`;
}

function load(t: TestContext, proxy: ProxyProcess): LoadRun {
  const run = startLoad({
    url: `http://127.0.0.1:${proxy.port}/load`,
    concurrency: CONCURRENCY,
    maxRequests: 1_000_000,
    // A bound for a test that fails, not a pace: 20 reloads under load took over 30 s on a CI
    // host shared with a soak (each step has its own 10 s wait besides).
    maxDurationMs: 90_000,
  });
  t.after(() => run.stop());
  return run;
}

/** Waits until `body` was answered more times than requests could have been in flight before. */
function servedBy(run: LoadRun, body: string): Promise<void> {
  return within(run.waitForBody(body, CONCURRENCY + 1), `backend ${body} to serve the load`);
}

function assertNoFailures(run: LoadRun, proxy: ProxyProcess): void {
  const s = run.stats;
  const info = JSON.stringify(summary(s));
  assert.equal(s.errors, 0, `connection errors: ${info}`);
  assert.equal(s.non2xx, 0, `non-2xx responses: ${info}`);
  assert.equal(s.timeouts, 0, `timeouts: ${info}`);
  assert.equal(s.ok, s.requests, info);
  if (process.env.E2E_VERBOSE) console.log(info);
  assert.equal(s.connections, CONCURRENCY, `keep-alive connections were closed and reopened: ${info}`);
  const errors = proxy.logs.filter(
    (l) =>
      (l.level === 'error' || l.level === 'raw') &&
      l.msg !== 'configuration rejected' &&
      l.msg !== 'configuration error',
  );
  assert.deepEqual(errors, [], 'the proxy logged errors');
}

async function bodies(proxy: ProxyProcess, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${proxy.port}/check`);
    assert.equal(res.status, 200);
    out.push(await res.text());
  }
  return out;
}

describe('hot reload with providers.file.filename', () => {
  it(`serves every request while the file changes ${CHANGES} times under load`, async (t) => {
    const be = await twoBackends(t);
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': routeTo('a', be) },
    });
    t.after(() => proxy.stop());
    let generation = currentGeneration(proxy);
    assert.equal(generation, 1);

    const run = load(t, proxy);
    await servedBy(run, 'a');
    for (let i = 1; i <= CHANGES; i++) {
      const to = i % 2 === 1 ? 'b' : 'a';
      proxy.writeFile('dyn.yaml', routeTo(to, be));
      generation++;
      await waitApplied(proxy, generation);
      await servedBy(run, to);
    }
    await run.stop();

    assertNoFailures(run, proxy);
    assert.ok(be.a.seen.length > 0 && be.b.seen.length > 0, 'both backends received traffic');
    assert.equal(currentGeneration(proxy), 1 + CHANGES, 'one generation per change');
  });

  it('lets a request in flight finish on the old configuration after its pool was retired', async (t) => {
    const arrived = new Counter();
    const release = gate();
    const upstreamSockets: Socket[] = [];
    const a = await startBackend((req, res) => {
      upstreamSockets.push(req.socket);
      arrived.inc();
      void release.promise.then(() => res.end('slow a'));
    });
    const b = await startBackend((_req, res) => res.end('b'));
    t.after(async () => {
      release.open();
      await Promise.all([a.close(), b.close()]);
    });
    const be = { a, b };
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': routeTo('a', be) },
    });
    t.after(() => proxy.stop());

    const c = await RawConn.open(proxy.port);
    t.after(() => c.destroy());
    c.write('GET /slow HTTP/1.1\r\nHost: test.local\r\n\r\n');
    await arrived.reach(1, 'the slow request to reach backend a');
    const upstreamClosed = new Promise<void>((resolve) => upstreamSockets[0]!.once('close', () => resolve()));

    // The new generation no longer has a's service: its pool is retired while the request runs.
    proxy.writeFile('dyn.yaml', routeTo('b', be));
    await waitApplied(proxy, 2);
    assert.deepEqual(await bodies(proxy, 2), ['b', 'b'], 'new requests use the new configuration');

    release.open();
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.body, 'slow a', 'the request finished where it started');
    // A retired pool closes its connection once the response is through, not before.
    await within(upstreamClosed, "the retired pool's connection to close");
    // The same client connection carries on, now with the new generation.
    c.write('GET /next HTTP/1.1\r\nHost: test.local\r\n\r\n');
    assert.equal((await c.readResponse()).body, 'b');
    assert.equal(arrived.value, 1);
  });

  it('applies a file but its faulty object, and rejects a syntax error and a missing file whole (the last good config serves)', async (t) => {
    const be = await twoBackends(t);
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': routeTo('a', be) },
    });
    t.after(() => proxy.stop());
    const file = join(proxy.dir, 'dyn.yaml');
    assert.deepEqual(await bodies(proxy, 2), ['a', 'a']);
    let generation = currentGeneration(proxy);

    // Each faulty file routes everything to b and is broken in one extra object: that object is
    // disabled and reported with its position, and the rest of the file applies (as Traefik does).
    const extra = (line: string) => routeTo('b', be, `    extra: ${line}\n`);
    const unknownKey = extra('{ rule: "Path(`/x`)", service: svc-b, colour: blue }');
    const missing = extra('{ rule: "Path(`/x`)", service: nowhere }');
    const badRule = extra('{ rule: "Path(`/x`", service: svc-b }');
    const faulty: { name: string; text: string; at: string; issue: RegExp }[] = [
      {
        name: 'unknown key',
        text: unknownKey,
        at: escapeRegExp(positionOf(file, unknownKey, 'colour')),
        issue: /http\.routers\.extra\.colour: unknown key `colour`/,
      },
      {
        name: 'router to a missing service',
        text: missing,
        at: escapeRegExp(positionOf(file, missing, 'nowhere')),
        issue: /http\.routers\.extra\.service: service `nowhere` does not exist/,
      },
      {
        name: 'bad rule',
        text: badRule,
        // The column of the parenthesis that is never closed, inside the rule string.
        at: escapeRegExp(positionOf(file, badRule, '(`/x`"')),
        issue: /http\.routers\.extra\.rule: invalid rule: unbalanced parenthesis/,
      },
    ];
    for (const f of faulty) {
      const from = proxy.logs.length;
      proxy.writeFile('dyn.yaml', f.text);
      const applied = await waitApplied(proxy, ++generation);
      assert.equal(applied.disabled, 1, f.name);
      const issues = errorIssues(proxy, from);
      const where = new RegExp(`^${f.at}: `);
      assert.ok(
        issues.some((i) => where.test(i) && f.issue.test(i)),
        `${f.name}: no issue at ${f.at} matching ${f.issue}: ${JSON.stringify(issues)}`,
      );
      assert.deepEqual(await bodies(proxy, 2), ['b', 'b'], `${f.name}: the rest of the file applies`);
      proxy.writeFile('dyn.yaml', routeTo('a', be));
      await waitApplied(proxy, ++generation);
      assert.deepEqual(await bodies(proxy, 2), ['a', 'a']);
    }

    // A syntax error: the update is rejected whole, as Traefik's file provider sends nothing
    // (pkg/provider/file/file.go): the last good config keeps serving, and the error is reported.
    let from = proxy.logs.length;
    const syntax = `${routeTo('b', be)}  middlewares: [\n`;
    proxy.writeFile('dyn.yaml', syntax);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected');
    const issues = rejectedIssues(proxy, from);
    assert.ok(
      issues.some((i) => new RegExp(`^${escapeRegExp(file)}:\\d+:\\d+: YAML syntax error`).test(i)),
      JSON.stringify(issues),
    );
    assert.deepEqual(await bodies(proxy, 3), ['a', 'a', 'a'], 'the last good config serves');
    assert.equal(currentGeneration(proxy), generation);

    // A file that disappears is unreadable, not empty: the update is rejected whole.
    from = proxy.logs.length;
    rmSync(file);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected');
    assert.ok(
      rejectedIssues(proxy, from).some((i) => i.startsWith(`${file}: `) && i.includes('ENOENT')),
      JSON.stringify(rejectedIssues(proxy, from)),
    );
    assert.deepEqual(
      await bodies(proxy, 3),
      ['a', 'a', 'a'],
      'a removed file: the last good config keeps serving',
    );
    assert.equal(currentGeneration(proxy), generation);

    proxy.writeFile('dyn.yaml', routeTo('b', be));
    await waitApplied(proxy, generation + 1);
    assert.deepEqual(await bodies(proxy, 2), ['b', 'b']);
  });

  it('follows a symlink swap of the folder the file lives in (Kubernetes ConfigMap volumes)', async (t) => {
    const be = await twoBackends(t);
    // A ConfigMap volume: dyn.yaml -> ..data/dyn.yaml, ..data -> ..v1; an update writes ..v2
    // and atomically renames a new ..data symlink over the old one. dyn.yaml itself never changes.
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-configmap-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // ..v1b is ..v1 and a probe router: a first swap to it proves the provider has settled (no
    // rescan pending) before the swap to ..v2 that changes the answers.
    const probe = '    probe: { rule: "Path(`/probe`)", service: svc-a }\n';
    for (const [version, text] of [
      ['..v1', routeTo('a', be)],
      ['..v1b', routeTo('a', be, probe)],
      ['..v2', routeTo('b', be)],
    ] as const) {
      mkdirSync(join(dir, version));
      writeFileSync(join(dir, version, 'dyn.yaml'), text);
    }
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'dyn.yaml'), join(dir, 'dyn.yaml'));
    const proxy = await startProxy({ config: staticWith(`    filename: "${join(dir, 'dyn.yaml')}"`) });
    t.after(() => proxy.stop());
    assert.deepEqual(await bodies(proxy, 2), ['a', 'a']);
    const swap = (to: string): void => {
      symlinkSync(to, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    swap('..v1b');
    await waitApplied(proxy, 2, 5_000);
    swap('..v2');
    await waitApplied(proxy, 3, 5_000);
    assert.deepEqual(await bodies(proxy, 2), ['b', 'b']);
  });
});

describe('hot reload with providers.file.directory', () => {
  it('follows added, removed and renamed files under load, and disables a broken router alone', async (t) => {
    const be = await twoBackends(t);
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-conf-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): void => {
      // Atomic, as editors and `mv` do: the dot-less temporary name is not a YAML file.
      const tmp = join(dir, `${name}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(dir, name));
    };
    write(
      'services.yaml',
      `http:
  services:
    svc-a: { loadBalancer: { servers: [{ url: "${be.a.url}" }] } }
    svc-b: { loadBalancer: { servers: [{ url: "${be.b.url}" }] } }
`,
    );
    const router = (to: string) =>
      `http:\n  routers:\n    all: { rule: "PathPrefix(\`/\`)", service: svc-${to} }\n`;
    write('router.yaml', router('a'));

    const proxy = await startProxy({ config: staticWith(`    directory: "${dir}"`) });
    t.after(() => proxy.stop());
    let generation = currentGeneration(proxy);
    assert.equal(generation, 1);
    const run = load(t, proxy);
    await servedBy(run, 'a');

    const override = `http:\n  routers:\n    over: { rule: "PathPrefix(\`/\`)", priority: 1000, service: svc-b }\n`;
    const steps: { what: string; change: () => void; to: 'a' | 'b' }[] = [
      { what: 'add a file', change: () => write('override.yaml', override), to: 'b' },
      { what: 'remove a file', change: () => rmSync(join(dir, 'override.yaml')), to: 'a' },
      { what: 'rename over a file', change: () => write('router.yaml', router('b')), to: 'b' },
      { what: 'rename over it again', change: () => write('router.yaml', router('a')), to: 'a' },
    ];
    for (let round = 0; round < 2; round++) {
      for (const s of steps) {
        s.change();
        generation++;
        await waitApplied(proxy, generation);
        await servedBy(run, s.to);
      }
    }

    // A broken router among good ones: it is disabled and reported, everything else applies.
    const from = proxy.logs.length;
    const broken = 'http:\n  routers:\n    broken: { rule: "Host(`x`", service: svc-b, priority: 2000 }\n';
    write('broken.yaml', broken);
    await waitApplied(proxy, ++generation);
    const issues = errorIssues(proxy, from);
    assert.ok(
      issues.some(
        (i) => i.startsWith(`${join(dir, 'broken.yaml')}:3:`) && i.includes('http.routers.broken.rule'),
      ),
      JSON.stringify(issues),
    );
    await servedBy(run, 'a');
    rmSync(join(dir, 'broken.yaml'));
    await waitApplied(proxy, ++generation);
    await servedBy(run, 'a');
    await run.stop();

    assertNoFailures(run, proxy);
    assert.ok(be.a.seen.length > 0 && be.b.seen.length > 0, 'both backends received traffic');
  });

  it('keeps following a directory that is removed and created again', async (t) => {
    const be = await twoBackends(t);
    const root = mkdtempSync(join(tmpdir(), 'tm-e2e-conf-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'conf.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dyn.yaml'), routeTo('a', be));
    const proxy = await startProxy({ config: staticWith(`    directory: "${dir}"`) });
    t.after(() => proxy.stop());
    assert.deepEqual(await bodies(proxy, 2), ['a', 'a']);

    // What a deploy that replaces the whole folder does: the folder goes, then comes back. It
    // goes in one step (moved away): `rm -r` empties it first, and a read that falls between
    // the file's removal and the folder's sees a valid empty folder, which is applied as such
    // (Traefik does the same). A read during the removal itself is dropped and made again
    // (src/providers/file/file-provider.test.ts, "changing under it").
    const from = proxy.logs.length;
    renameSync(dir, join(root, 'conf.d.old'));
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected');
    assert.ok(rejectedIssues(proxy, from).some((i) => i.includes('cannot read the directory')));
    assert.deepEqual(await bodies(proxy, 2), ['a', 'a'], 'the last good config keeps serving');

    mkdirSync(dir);
    writeFileSync(join(dir, 'dyn.yaml'), routeTo('b', be));
    await waitApplied(proxy, 2, 5_000);
    assert.deepEqual(await bodies(proxy, 2), ['b', 'b']);
  });
});
