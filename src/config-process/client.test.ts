import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { killDescendants } from '../../test/helpers/descendants.ts';
import { schemaDefaults } from '../config/schema-defaults.ts';
import { computeSchemaDefaults } from '../config/schema-defaults-compute.ts';
import { loadStaticConfig } from '../config/static/load.ts';
import { FileProvider } from '../providers/file/file-provider.ts';
import { type FileValidation, type LoadedUpdate, readSources } from '../providers/file/read-sources.ts';
import { updateFrom } from '../providers/file/validate-sources.ts';
import type { ProviderUpdate } from '../providers/provider.ts';
import { checkBreakerExpression, checkRule } from '../runtime/rule-checks.ts';
import { dropSpareConfigProcess, loadStaticInChild, validateFilesInChild } from './client.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'traffic-config-process-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The time limit the suite was started with (unset, as a rule). */
const LIMIT_AT_START = process.env['TM_CONFIG_PROCESS_TIMEOUT_MS'];
/** Tests that changed the time limit, and the value it had before their first change. */
const limitBefore = new WeakMap<TestContext, string | undefined>();

/**
 * The configuration process's time limit for this test (client.ts reads it at each question),
 * put back as it was before the test's first change once the test ends. Not one restore per
 * call: `after` hooks run in the order they were added, so a second call's restore (to the
 * first call's value) would run last and leave that value to the tests that follow.
 */
function answerWithin(t: TestContext, ms: number): void {
  if (!limitBefore.has(t)) {
    limitBefore.set(t, process.env['TM_CONFIG_PROCESS_TIMEOUT_MS']);
    t.after(() => {
      const saved = limitBefore.get(t);
      if (saved === undefined) delete process.env['TM_CONFIG_PROCESS_TIMEOUT_MS'];
      else process.env['TM_CONFIG_PROCESS_TIMEOUT_MS'] = saved;
    });
  }
  process.env['TM_CONFIG_PROCESS_TIMEOUT_MS'] = String(ms);
}

/** Opens `fifo` for writing without blocking: throws ENXIO when nobody has it open for reading. */
function openWriter(fifo: string): number {
  return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
}

const STATIC = `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: WARN }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
`;

describe('the configuration process', () => {
  it('loads a static configuration as this process would, TRAFFIC_* overrides included', async (t) => {
    const file = join(await tempDir(t), 'traffic.yaml');
    await writeFile(file, STATIC);
    const options = { file, argv: ['--accesslog=true'], env: { TRAFFIC_LOG_LEVEL: 'DEBUG' } };
    const there = await loadStaticInChild(options);
    const here = loadStaticConfig(options);
    assert.equal(there.config?.log.level, 'debug', 'the environment override applied');
    assert.notEqual(there.config?.accessLog, undefined, 'the flag override applied');
    assert.deepEqual(there.config, here.config);
    assert.deepEqual(there.issues, here.issues);
    // The schemas' defaults came along (installed for this process).
    assert.deepEqual(schemaDefaults(), computeSchemaDefaults());
  });

  it('keeps the child of the static configuration for the next question when asked to', async (t) => {
    const file = join(await tempDir(t), 'traffic.yaml');
    await writeFile(file, STATIC);
    t.after(dropSpareConfigProcess);
    const loaded = await loadStaticInChild({ file, argv: [], env: {} }, true);
    assert.ok(loaded.config !== undefined);
    // The spare answers the file provider's first question as a new child would (the file
    // provider naming the static file: its dynamic sections are read).
    const read = readSources({ filename: file, staticFile: file });
    const there = await validateFilesInChild(read, { checkRule });
    const { locate: _, ...here } = updateFrom(read, { checkRule });
    const { locate: __, ...rest } = there;
    assert.deepEqual(rest, here);
    assert.deepEqual(Object.keys(there.config?.http.routers ?? {}), ['all']);
    // Unused, it is let go; a question after that gets a child of its own.
    await loadStaticInChild({ file, argv: [], env: {} }, true);
    dropSpareConfigProcess();
    assert.deepEqual((await validateFilesInChild(read, { checkRule })).issues, []);
  });

  it('reports the errors of a static file with file:line:col, as this process would', async (t) => {
    const file = join(await tempDir(t), 'bad.yaml');
    await writeFile(file, 'entryPoints:\n  web:\n    address: 5\nlog: { maxSize: lots }\n');
    const there = await loadStaticInChild({ file, argv: [], env: {} });
    const here = loadStaticConfig({ file, argv: [], env: {} });
    assert.equal(there.config, undefined);
    assert.ok(there.issues.length >= 2);
    assert.ok(there.issues.every((i) => i.file === file && typeof i.line === 'number'));
    assert.deepEqual(there.issues, here.issues);
  });

  it("validates the file provider's files as this process would, and locates later issues here", async (t) => {
    const dir = await tempDir(t);
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(
      a,
      `http:
  routers:
    ok: { rule: "PathPrefix(\`/\`)", service: svc, entryPoints: [web] }
    badRule: { rule: "Nope(\`/\`)", service: svc }
    badEp: { rule: "Path(\`/x\`)", service: svc, entryPoints: [nowhere] }
  middlewares:
    cb: { circuitBreaker: { expression: "Nothing() > 1" } }
  services:
    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
`,
    );
    await writeFile(b, 'http:\n  routers:\n    old: { rule: "Path(`/b`)", service: svc }\n');
    const { texts } = readSources({ directory: dir });
    const validation: FileValidation = {
      checkRule,
      checkBreakerExpression,
      entryPoints: ['web'],
      internalServices: new Set(['api']),
      certResolvers: [],
      knownProviders: ['docker'],
    };
    const there = await validateFilesInChild({ texts, issues: [] }, validation);
    const here: LoadedUpdate = updateFrom({ texts, issues: [] }, validation);
    const { locate: hereLocate, ...hereRest } = here;
    const { locate: thereLocate, ...thereRest } = there;
    assert.deepEqual(thereRest, hereRest);
    assert.deepEqual(Object.keys(there.config?.http.routers ?? {}).sort(), ['ok', 'old']);
    const messages = there.issues.map((i) => `${i.file === undefined ? '' : 'located '}${i.message}`);
    assert.ok(
      messages.some((m) => m.startsWith('located invalid rule')),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.includes('nowhere')),
      messages.join('\n'),
    );
    // A later issue (a build error) is located in this process, where the in-process locator points.
    assert.ok(hereLocate !== undefined && thereLocate !== undefined);
    const path = ['http', 'services', 'svc', 'loadBalancer'];
    assert.deepEqual(thereLocate(path, 'value'), hereLocate(path, 'value'));
    assert.equal(thereLocate(path, 'value').file, a);
  });

  it('validates one update at a time: changes during one are read once more, after it', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    const dyn = (router: string) =>
      `http:\n  routers:\n    ${router}: { rule: "PathPrefix(\`/\`)", service: svc }\n  services:\n    svc: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n`;
    await writeFile(file, dyn('first'));
    let running = 0;
    let most = 0;
    const seen: string[][] = [];
    let entered: (() => void) | undefined;
    let gate: Promise<void> | undefined;
    const ac = new AbortController();
    t.after(() => ac.abort());
    const provider = new FileProvider({
      filename: file,
      watch: true,
      debounceMs: 10,
      validate: async (read, validation) => {
        running++;
        most = Math.max(most, running);
        try {
          entered?.();
          await gate;
          const u = await validateFilesInChild(read, validation);
          seen.push(Object.keys(u.config?.http.routers ?? {}));
          return u;
        } finally {
          running--;
        }
      },
    });
    const it = provider.watch(ac.signal)[Symbol.asyncIterator]();
    const next = async (): Promise<ProviderUpdate> => (await it.next()).value as ProviderUpdate;
    assert.deepEqual(Object.keys((await next()).config?.http.routers ?? {}), ['first']);
    // The next validation waits until three more versions have been written.
    let open: () => void = () => {};
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const pending = next();
    await writeFile(file, dyn('second'));
    await inside;
    entered = undefined;
    await writeFile(file, dyn('third'));
    await writeFile(file, dyn('fourth'));
    open();
    let u = await pending;
    while (Object.keys(u.config?.http.routers ?? {})[0] !== 'fourth') u = await next();
    assert.equal(most, 1, 'never two validations at once');
    // `first`; then `second` (or the file half written), held at the gate; then `fourth`, once:
    // the writes during the held run make one run after it, not one per event.
    assert.equal(seen.length, 3, `validations: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen[2], ['fourth']);
  });

  // Bounded: without a time limit, the question would wait for good (the test fails instead).
  it('kills a child that does not answer in time, and the question fails with why', {
    timeout: 30_000,
  }, async (t) => {
    // A static file that is a FIFO nobody writes: the child's read blocks.
    const fifo = join(await tempDir(t), 'traffic.yaml');
    execFileSync('mkfifo', [fifo]);
    t.after(() => {
      // A child still blocked (the code under test did not kill it) reads an empty file and ends.
      try {
        closeSync(openWriter(fifo));
      } catch {}
    });
    answerWithin(t, 500);
    await assert.rejects(loadStaticInChild({ file: fifo, argv: [], env: {} }), {
      message:
        'cannot load the configuration (the configuration process did not answer within 0.5 s; killed)',
    });
    // Killed: nobody holds the FIFO for reading any more (the kernel closes it as the child ends).
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        closeSync(openWriter(fifo));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENXIO') break;
        throw e;
      }
      assert.ok(Date.now() < deadline, 'the child still reads the FIFO');
      await sleep(20);
    }
  });

  it("fails the file provider's question when the child loops, and the next question gets a new child", {
    timeout: 30_000,
  }, async (t) => {
    // A real input that does not end: the files are Go templates, and this loop runs 10^12 times.
    const loop = '{{range 10000}}{{range 10000}}{{range 10000}}{{end}}{{end}}{{end}}http: {}\n';
    // Ends a child that the code under test left looping.
    t.after(() => killDescendants(process.pid));
    t.after(dropSpareConfigProcess);
    answerWithin(t, 1000);
    await assert.rejects(
      validateFilesInChild({ texts: [{ file: '/loop.yaml', text: loop }], issues: [] }, {}),
      { message: 'the configuration process did not answer within 1 s; killed' },
    );
    // The next question, without the limit's rush: a new child answers it.
    answerWithin(t, 60_000);
    const good = `http:\n  routers:\n    r: { rule: "PathPrefix(\`/\`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n`;
    const u = await validateFilesInChild({ texts: [{ file: '/good.yaml', text: good }], issues: [] }, {});
    assert.deepEqual(Object.keys(u.config?.http.routers ?? {}), ['r']);
  });

  it("keeps V8's code cache in a folder of its own user, never in one others can write", async (t) => {
    // The test before this one changes the time limit twice: none of it may be left here.
    assert.equal(process.env['TM_CONFIG_PROCESS_TIMEOUT_MS'], LIMIT_AT_START);
    const uid = process.geteuid?.();
    if (uid === undefined) return t.skip('no user ids here');
    const saved = { ...process.env };
    t.after(() => {
      for (const k of ['TMPDIR', 'NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });
    delete process.env['NODE_COMPILE_CACHE'];
    delete process.env['NODE_DISABLE_COMPILE_CACHE'];
    const file = join(await tempDir(t), 'traffic.yaml');
    await writeFile(file, STATIC);
    const own = await tempDir(t);
    const shared = await tempDir(t);
    const ask = async (tmp: string): Promise<void> => {
      process.env['TMPDIR'] = tmp; // the child's os.tmpdir()
      assert.equal((await loadStaticInChild({ file, argv: [], env: {} })).config?.log.level, 'warn');
    };

    await ask(own);
    const dir = join(own, `traffic-compile-cache-${uid}`);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.notDeepEqual(readdirSync(dir), [], 'the child left its code cache there');

    // Writable by others (as one that another user made may be): neither read nor written.
    mkdirSync(join(shared, `traffic-compile-cache-${uid}`));
    chmodSync(join(shared, `traffic-compile-cache-${uid}`), 0o777);
    await ask(shared);
    assert.deepEqual(readdirSync(join(shared, `traffic-compile-cache-${uid}`)), []);

    // No folder can be made there: the cache is off, the answer is the same.
    await ask(join(file, 'not-a-folder'));
  });
});
