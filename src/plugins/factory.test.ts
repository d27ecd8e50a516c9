import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import type { Plugin, PluginContext } from '../../types/plugin.d.ts';
import { parseDynamic } from '../config/dynamic/parse.ts';
import { dynamicConfigSchema } from '../config/dynamic/schema.ts';
import { formatIssue } from '../config/issues.ts';
import { createLogger, type LogFields } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { makeRequest } from '../middleware/test-request.ts';
import { buildSnapshot } from '../runtime/build-snapshot.ts';
import { mergeProviders } from '../runtime/merge-providers.ts';
import { ResourceCache } from '../runtime/resource-cache.ts';
import type { LoadedPlugin, PluginCatalog, UnusablePlugin } from './catalog.ts';
import { pluginMiddlewares } from './factory.ts';

/*
 * The `plugin` middleware as a configuration build makes it (buildSnapshot, the registry entry):
 * what is a configuration error (located below the middleware), what is a plugin bug (500s).
 */

const ticker = new Ticker();
const cache = new ResourceCache(ticker);
after(() => {
  cache.closeAll();
  ticker.stop();
});

const stampSchema = z.strictObject({ header: z.string().min(1), value: z.string().default('1') });
const contexts: PluginContext[] = [];
const stamp: Plugin<z.output<typeof stampSchema>> = {
  schema: stampSchema,
  create(options, ctx) {
    contexts.push(ctx);
    if (options.header === 'Forbidden') return { error: 'that header is ours' };
    if (options.header === 'Throw') throw new Error('cannot start');
    const counter = ctx.shared('counter', () => ({ n: 0 }));
    return {
      onRequest: (req) => {
        req.headers.set(options.header, `${options.value}/${++counter.n}`);
        return undefined;
      },
    };
  },
};

function catalog(version = '1'): PluginCatalog {
  const plugins = new Map<string, LoadedPlugin | UnusablePlugin>([
    ['stamp', { name: 'stamp', file: '/p/stamp.ts', version, plugin: stamp as Plugin<unknown> }],
    ['broken', { name: 'broken', error: 'no plugin module at /p/broken (no such file or folder)' }],
  ]);
  return { names: [...plugins.keys()], get: (n) => plugins.get(n) };
}

function build(middlewares: Record<string, unknown>, plugins: PluginCatalog = catalog()) {
  const lines: LogFields[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) });
  const dynamic = dynamicConfigSchema.parse({ http: { middlewares } });
  const r = buildSnapshot(mergeProviders(new Map([['file', dynamic]])), 1, cache, logger, {
    plugins: pluginMiddlewares(plugins),
  });
  return {
    issues: r.issues.map((i) => ({ path: i.path, message: i.message })),
    mw: (name: string): Middleware => r.snapshot.middlewares.get(name)![0]!,
    lines,
  };
}

describe('plugin middleware', () => {
  it("builds the plugin's middleware from its checked options, with its context", () => {
    const b = build({ s: { plugin: { stamp: { header: 'X-Stamp' } } } });
    assert.deepEqual(b.issues, []);
    const req = makeRequest('http://a.test/');
    assert.equal(
      b.mw('s@file').onRequest!(req, { resume: () => {}, onEnd: () => {}, transformBody: () => {} }),
      undefined,
    );
    assert.equal(req.headers.get('x-stamp'), '1/1');
    const ctx = contexts.at(-1)!;
    assert.equal(ctx.name, 's@file');
    assert.equal(ctx.plugin, 'stamp');
  });

  it('locates an option its schema refuses at the option, and says how many more there are', () => {
    const b = build({ s: { plugin: { stamp: { header: '', bogus: true } } } });
    assert.deepEqual(b.issues, [
      {
        path: ['http', 'middlewares', 's@file', 'plugin', 'stamp', 'header'],
        message:
          'plugin stamp: Too small: expected string to have >=1 characters (and 1 more: traffic validate lists them)',
      },
    ]);
  });

  it('reports an unknown plugin with the names that are declared, at the plugin key', () => {
    assert.deepEqual(build({ s: { plugin: { stmap: {} } } }).issues, [
      {
        path: ['http', 'middlewares', 's@file', 'plugin', 'stmap'],
        message: 'unknown plugin `stmap` (experimental.localPlugins declares stamp, broken)',
      },
    ]);
    assert.match(
      build({ s: { plugin: { stamp: { header: 'X' } } } }, { names: [], get: () => undefined }).issues[0]!
        .message,
      /experimental\.localPlugins declares none/,
    );
  });

  it('reports a plugin that did not load with why', () => {
    assert.deepEqual(build({ s: { plugin: { broken: {} } } }).issues, [
      {
        path: ['http', 'middlewares', 's@file', 'plugin', 'broken'],
        message: 'plugin broken is not loaded: no plugin module at /p/broken (no such file or folder)',
      },
    ]);
  });

  it('takes `{ error }` from create as a configuration error; a chain using it names it', () => {
    const b = build({
      s: { plugin: { stamp: { header: 'Forbidden' } } },
      c: { chain: { middlewares: ['s'] } },
    });
    assert.deepEqual(b.issues, [
      {
        path: ['http', 'middlewares', 's@file', 'plugin', 'stamp'],
        message: 'plugin stamp: that header is ours',
      },
      { path: ['http', 'middlewares', 'c@file'], message: 'chain: plugin stamp: that header is ours' },
    ]);
  });

  it('builds a middleware that answers 500 (and logs) when create throws', () => {
    const b = build({ s: { plugin: { stamp: { header: 'Throw' } } } });
    assert.deepEqual(b.issues, []);
    assert.equal(b.lines[0]?.['msg'], 'plugin failed');
    assert.equal(b.lines[0]?.['phase'], 'create');
    assert.match(String(b.lines[0]?.['error']), /cannot start/);
    const r = b.mw('s@file').onRequest!(makeRequest('http://a.test/p'), {
      resume: () => {},
      onEnd: () => {},
      transformBody: () => {},
    });
    assert.deepEqual(r, { status: 500, body: 'Internal Server Error' });
    assert.equal(b.lines.length, 2);
    assert.equal(b.lines[1]?.['plugin'], 'stamp');
  });

  it('keeps shared state across builds while the module is the same, and starts afresh with a new one', () => {
    const count = (plugins: PluginCatalog) => {
      const req = makeRequest('http://a.test/');
      build({ shared: { plugin: { stamp: { header: 'X' } } } }, plugins).mw('shared@file').onRequest!(req, {
        resume: () => {},
        onEnd: () => {},
        transformBody: () => {},
      });
      return req.headers.get('x');
    };
    assert.equal(count(catalog('1')), '1/1');
    assert.equal(count(catalog('1')), '1/2');
    assert.equal(count(catalog('2')), '1/1');
  });

  it('reads `plugin: { name: }` (no options) as empty options, and refuses two plugins in one', () => {
    assert.deepEqual(
      dynamicConfigSchema.parse({ http: { middlewares: { a: { plugin: { stamp: null } } } } }).http
        .middlewares['a'],
      {
        type: 'plugin',
        config: { name: 'stamp', options: {} },
      },
    );
    // From a file, `stamp:` with no value is dropped (as Traefik's decoder drops it), which leaves
    // `plugin` empty: Traefik's decoder refuses the file for it (paerser), so here.
    const file = parseDynamic('http:\n  middlewares:\n    a:\n      plugin:\n        stamp:\n', 'd.yaml');
    assert.deepEqual(file.issues.map(formatIssue), [
      'd.yaml:4:7: http.middlewares.a.plugin: `plugin` cannot be a standalone element: an empty section here makes Traefik refuse the whole file (paerser: it needs at least one key under it)',
    ]);
    const two = dynamicConfigSchema.safeParse({ http: { middlewares: { a: { plugin: { x: {}, y: {} } } } } });
    assert.equal(two.success, false);
    assert.match(two.error!.issues[0]!.message, /names exactly one plugin, found 2: x, y/);
  });
});
