import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ConfigProcessTimeout } from '../../config-process/client.ts';
import type { ProviderUpdate } from '../provider.ts';
import { FileProvider, type FileProviderOptions, type FileValidator } from './file-provider.ts';
import { loadSources, updateFrom } from './validate-sources.ts';

/** Real fs events take a few ms; a deadline turns a missed event into a failure, not a hang. */
const DEADLINE_MS = 5000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

const dyn = (router: string, port = 9001) => `http:
  routers:
    ${router}: { rule: "PathPrefix(\`/\`)", service: svc }
  services:
    svc:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${port}" }]
`;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'traffic-file-provider-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a provider and returns its iterator, a way to wait for scans, and the abort. */
function start(t: TestContext, opts: Omit<FileProviderOptions, 'onScan'>) {
  const ac = new AbortController();
  t.after(() => ac.abort());
  const scans: ((changed: boolean) => void)[] = [];
  const provider = new FileProvider({
    debounceMs: 10,
    ...opts,
    onScan: (changed) => {
      for (const s of scans.splice(0)) s(changed);
    },
  });
  const it = provider.watch(ac.signal)[Symbol.asyncIterator]();
  const next = async (): Promise<ProviderUpdate> => {
    const r = await within(it.next(), 'update');
    assert.equal(r.done, false, 'the provider ended');
    return r.value as ProviderUpdate;
  };
  const scan = () => within(new Promise<boolean>((resolve) => scans.push(resolve)), 'scan');
  return { it, next, scan, ac, name: provider.name };
}

const routers = (u: ProviderUpdate) => Object.keys(u.config?.http.routers ?? {});

/** Waits for updates until one satisfies `ok`: editors and renames may produce intermediate states. */
async function until(
  next: () => Promise<ProviderUpdate>,
  ok: (u: ProviderUpdate) => boolean,
): Promise<ProviderUpdate> {
  for (;;) {
    const u = await next();
    if (ok(u)) return u;
  }
}

describe('FileProvider', () => {
  it('yields the file once and ends when watching is off', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('first'));
    const { it, next, name } = start(t, { filename: file, watch: false });
    assert.equal(name, 'file');
    const u = await next();
    assert.deepEqual(u.issues, []);
    assert.deepEqual(routers(u), ['first']);
    assert.equal((await it.next()).done, true);
  });

  it('yields a new update when the file changes', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('first'));
    const { next } = start(t, { filename: file, watch: true });
    assert.deepEqual(routers(await next()), ['first']);
    await writeFile(file, dyn('second'));
    // writeFile truncates then writes: a scan may see the empty file in between.
    assert.deepEqual(routers(await until(next, (u) => routers(u).length > 0)), ['second']);
  });

  it('sees an atomic rename over the file, as editors and mv do', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('first'));
    const { next } = start(t, { filename: file, watch: true });
    assert.deepEqual(routers(await next()), ['first']);
    const pending = next();
    await writeFile(join(dir, 'dyn.yaml.tmp'), dyn('renamed'));
    await rename(join(dir, 'dyn.yaml.tmp'), file);
    assert.deepEqual(routers(await pending), ['renamed']);
  });

  it('follows files added to and removed from a directory, in name order', async (t) => {
    const dir = await tempDir(t);
    const conf = join(dir, 'conf.d');
    await mkdir(conf);
    await writeFile(
      join(conf, 'b.yaml'),
      'http:\n  routers:\n    b: { rule: "Path(`/b`)", service: svc@file }\n',
    );
    await writeFile(join(conf, 'a.yml'), dyn('a'));
    await writeFile(join(conf, 'notes.txt'), 'not yaml');
    const { next } = start(t, { directory: conf, watch: true });
    assert.deepEqual(routers(await next()), ['a', 'b']);
    await writeFile(join(conf, 'c.yaml'), 'http:\n  routers:\n    c: { rule: "Path(`/c`)", service: svc }\n');
    assert.deepEqual(routers(await until(next, (u) => routers(u).includes('c'))), ['a', 'b', 'c']);
    await rm(join(conf, 'b.yaml'));
    assert.deepEqual(routers(await until(next, (u) => !routers(u).includes('b'))), ['a', 'c']);
  });

  it('does not apply a read of a folder changing under it, and reads it again once it is over', async (t) => {
    const dir = await tempDir(t);
    const conf = join(dir, 'conf.d');
    await mkdir(conf);
    await writeFile(join(conf, 'a.yaml'), dyn('a'));
    // A name listed but gone when read: what a read meets while `rm -r` or a deploy empties the
    // folder. The listing is made to include one until `torn` goes false (node:fs's exports,
    // which read-sources.ts imports, follow the patched object through syncBuiltinESMExports).
    let torn = false;
    const realReaddir = fs.readdirSync;
    const patched = (...args: unknown[]): unknown => {
      const names = (realReaddir as (...a: unknown[]) => string[])(...args);
      return torn && args[0] === conf ? [...names, 'zz-gone.yaml'] : names;
    };
    (fs as unknown as { readdirSync: unknown }).readdirSync = patched;
    syncBuiltinESMExports();
    t.after(() => {
      fs.readdirSync = realReaddir;
      syncBuiltinESMExports();
    });
    const { next, scan } = start(t, { directory: conf, watch: true });
    assert.deepEqual(routers(await next()), ['a']);
    torn = true;
    const pending = next(); // the provider goes on: it watches, and reads on events
    const scanned = scan();
    await writeFile(
      join(conf, 'b.yaml'),
      'http:\n  routers:\n    b: { rule: "Path(`/b`)", service: svc@file }\n',
    );
    assert.equal(await scanned, false, 'a torn read yields nothing');
    // The write's events are long over by the end of this; the torn reads go on being retried.
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await scan(), false, 'and is read again, without another file event');
    torn = false;
    // Only the provider's own rescan after a torn read can see b now.
    assert.deepEqual(routers(await pending), ['a', 'b']);
  });

  it('skips a symlink to nothing in the folder, as it skips folders, and applies the rest', async (t) => {
    const dir = await tempDir(t);
    const conf = join(dir, 'conf.d');
    await mkdir(conf);
    await writeFile(join(conf, 'a.yaml'), dyn('a'));
    await symlink(join(dir, 'nowhere.yaml'), join(conf, 'dangling.yaml'));
    await mkdir(join(conf, 'sub.yaml'));
    const { next } = start(t, { directory: conf, watch: true });
    assert.deepEqual(routers(await next()), ['a']);
    await writeFile(join(conf, 'c.yaml'), 'http:\n  routers:\n    c: { rule: "Path(`/c`)", service: svc }\n');
    assert.deepEqual(routers(await until(next, (u) => routers(u).includes('c'))), ['a', 'c']);
  });

  it('yields an empty configuration with positioned errors for a file it never could read, then recovers', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, 'http:\n  routers: [\n');
    const { next } = start(t, { filename: file, watch: true });
    const bad = await next();
    assert.deepEqual(routers(bad), []);
    assert.equal(bad.issues[0]?.file, file);
    assert.equal(bad.issues[0]?.line, 3);
    assert.match(bad.issues[0]?.message ?? '', /YAML syntax error/);
    await writeFile(file, dyn('fixed'));
    assert.deepEqual(routers(await until(next, (u) => routers(u).length > 0)), ['fixed']);
  });

  it('rejects the folder whole while one of its files cannot be parsed (Traefik loadFileConfigFromDirectory), reporting it until fixed', async (t) => {
    const dir = await tempDir(t);
    const conf = join(dir, 'conf.d');
    await mkdir(conf);
    await writeFile(join(conf, 'a.yaml'), dyn('a'));
    await writeFile(join(conf, 'b.yaml'), 'http:\n  routers:\n    b: { rule: "Path(`/b`)", service: svc }\n');
    const { next } = start(t, { directory: conf, watch: true });
    assert.deepEqual(routers(await next()), ['a', 'b']);
    const replace = async (name: string, text: string): Promise<void> => {
      await writeFile(join(conf, `${name}.tmp`), text);
      await rename(join(conf, `${name}.tmp`), join(conf, name));
    };
    await replace('b.yaml', 'http:\n  routers:\n    c: { rule: "Path(`/c`)", service: svc\n');
    const broken = await next();
    assert.equal(broken.config, undefined, 'no configuration: the last good one stays in force');
    assert.deepEqual(
      broken.issues.map((i) => [i.file, i.severity]),
      [[join(conf, 'b.yaml'), 'error']],
    );
    // Another change elsewhere while b.yaml is broken: nothing new to send (the same rejection);
    // a.yaml's change applies with b.yaml's fix.
    await replace('a.yaml', dyn('a2'));
    await replace('b.yaml', 'http:\n  routers:\n    c: { rule: "Path(`/c`)", service: svc }\n');
    const fixed = await next();
    assert.deepEqual(routers(fixed), ['a2', 'c']);
    assert.deepEqual(fixed.issues, []);
  });

  it('runs the rule hook and the entry point check it was given', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('r').replace('PathPrefix', 'Bad'));
    const { next } = start(t, {
      filename: file,
      watch: false,
      entryPoints: ['web'],
      checkRule: (rule) => (rule.startsWith('Bad') ? { message: 'unknown matcher', offset: 0 } : undefined),
    });
    const u = await next();
    assert.deepEqual(
      u.issues.map((i) => [i.message, i.line, i.col]),
      [['invalid rule: unknown matcher', 3, 17]],
    );
    assert.deepEqual(routers(u), []);
  });

  it('does not yield when the content did not change', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('same'));
    const { next, scan } = start(t, { filename: file, watch: true });
    assert.deepEqual(routers(await next()), ['same']);
    let resolved = false;
    const pending = next().then((u) => {
      resolved = true;
      return u;
    });
    // The provider re-reads once after it starts watching; then we rewrite the same bytes.
    let changed = await scan();
    assert.equal(changed, false);
    const rescan = scan();
    // Same bytes, replaced atomically (a plain rewrite could be seen half-written).
    await writeFile(join(dir, 'dyn.yaml.tmp'), dyn('same'));
    await rename(join(dir, 'dyn.yaml.tmp'), file);
    changed = await rescan;
    assert.equal(changed, false);
    assert.equal(resolved, false, 'an unchanged file produced an update');
    await writeFile(join(dir, 'dyn.yaml.tmp'), dyn('other'));
    await rename(join(dir, 'dyn.yaml.tmp'), file);
    assert.deepEqual(routers(await pending), ['other']);
  });

  it('after a configuration process timed out, asks again only once the files change', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('slow'));
    let asked = 0;
    const validate: FileValidator = (read, validation) => {
      asked++;
      if (read.texts.some((x) => x.text.includes('slow'))) {
        // What config-process/client.ts throws when its child did not answer in time.
        throw new ConfigProcessTimeout('the configuration process did not answer within 60 s; killed');
      }
      return updateFrom(read, validation);
    };
    const { next, scan } = start(t, { filename: file, watch: true, validate });
    const first = await next();
    assert.equal(first.config, undefined);
    assert.deepEqual(
      first.issues.map((i) => i.message),
      ['cannot load the configuration (the configuration process did not answer within 60 s; killed)'],
    );
    assert.equal(asked, 1);
    const pending = next(); // the watch loop runs while an update is asked for
    // The re-read after watching starts, then the same bytes again: no new question.
    assert.equal(await scan(), false);
    const rescan = scan();
    await writeFile(join(dir, 'dyn.yaml.tmp'), dyn('slow'));
    await rename(join(dir, 'dyn.yaml.tmp'), file);
    assert.equal(await rescan, false);
    assert.equal(asked, 1, 'the same input was asked again');
    await writeFile(join(dir, 'dyn.yaml.tmp'), dyn('fast'));
    await rename(join(dir, 'dyn.yaml.tmp'), file);
    assert.deepEqual(routers(await pending), ['fast']);
    assert.equal(asked, 2);
  });

  it('survives the file being missing for a while', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('before'));
    const { next } = start(t, { filename: file, watch: true });
    assert.deepEqual(routers(await next()), ['before']);
    await rm(file);
    const gone = await next();
    assert.equal(gone.config, undefined);
    assert.match(gone.issues[0]?.message ?? '', /cannot read the file \(ENOENT/);
    await writeFile(file, dyn('after'));
    assert.deepEqual(routers(await until(next, (u) => routers(u).length > 0)), ['after']);
  });

  it('reads the static file only when it names it, then its dynamic sections only, without a word on its static keys', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'traffic.yaml');
    await writeFile(file, `entryPoints:\n  web: { address: ":8080" }\n${dyn('inline')}`);
    await writeFile(join(dir, 'dyn.yaml'), dyn('other'));
    // Traefik reads the static file's dynamic sections only through its file provider.
    assert.deepEqual(routers(loadSources({ filename: join(dir, 'dyn.yaml'), staticFile: file }, {})), [
      'other',
    ]);
    assert.deepEqual(routers(loadSources({ directory: dir, staticFile: file }, {})), ['other', 'inline']);
    const { next } = start(t, { filename: file, staticFile: file, watch: true });
    const u = await next();
    assert.deepEqual(u.issues, []);
    assert.deepEqual(routers(u), ['inline']);
    await writeFile(file, `entryPoints:\n  web: { address: ":8080" }\n${dyn('edited')}`);
    assert.deepEqual(routers(await until(next, (u) => routers(u).length > 0)), ['edited']);
  });

  it('ends the iterator when the signal aborts', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dyn.yaml');
    await writeFile(file, dyn('first'));
    const { it, next, ac } = start(t, { filename: file, watch: true });
    await next();
    const pending = it.next();
    ac.abort();
    assert.deepEqual(await within(pending, 'end'), { done: true, value: undefined });
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  });

  it('yields nothing when aborted before it starts', async (t) => {
    const ac = new AbortController();
    ac.abort();
    const provider = new FileProvider({ filename: join(await tempDir(t), 'x.yaml'), watch: true });
    const seen: ProviderUpdate[] = [];
    for await (const u of provider.watch(ac.signal)) seen.push(u);
    assert.deepEqual(seen, []);
  });
});
