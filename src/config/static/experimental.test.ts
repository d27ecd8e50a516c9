import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { loadStaticConfig } from './load.ts';

/** `experimental`: local plugins (Traefik's keys, our `path`), abortOnPluginFailure. */
function load(text: string, argv: string[] = []) {
  const r = loadStaticConfig({
    file: 'conf/static.yaml',
    readFile: () => `entryPoints:\n  web:\n    address: ":80"\n${text}`,
    argv,
    env: {},
  });
  return { ...r, lines: r.issues.map(formatIssue) };
}

describe('static experimental section', () => {
  it("reads Traefik's local plugins, our path, and abortOnPluginFailure", () => {
    const r = load(
      'experimental:\n  abortOnPluginFailure: true\n  localPlugins:\n    stamp:\n      moduleName: github.com/me/stamp\n    ids:\n      path: plugins/ids.ts\n',
    );
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.experimental, {
      abortOnPluginFailure: true,
      http2Engine: 'own',
      plugins: {},
      localPlugins: { stamp: { moduleName: 'github.com/me/stamp' }, ids: { path: 'plugins/ids.ts' } },
    });
    assert.ok(r.locate);
    assert.equal(r.locate(['experimental', 'localPlugins', 'ids'], 'key').line, 9);
  });

  it('takes local plugins from flags, as Traefik does', () => {
    const r = load('', ['--experimental.localPlugins.stamp.moduleName=example.com/stamp']);
    assert.deepEqual(r.config?.experimental?.localPlugins, { stamp: { moduleName: 'example.com/stamp' } });
    assert.equal(r.config?.experimental?.abortOnPluginFailure, false);
  });

  it('declares each module once (Traefik: one version of a plugin)', () => {
    const r = load(
      'experimental:\n  localPlugins:\n    c: { moduleName: example.com/m }\n    d: { moduleName: example.com/m }\n    e: { moduleName: example.com/m, path: elsewhere.ts }\n',
    );
    assert.deepEqual(r.lines, [
      'conf/static.yaml:7:22: experimental.localPlugins.d.moduleName: module example.com/m is already declared by local plugin `c`',
    ]);
  });

  it('needs a moduleName or a path', () => {
    const r = load(
      [
        'experimental:',
        '  plugins:',
        '    remote: { moduleName: github.com/x/y, version: v1.0.0 }',
        '  localPlugins:',
        '    a: {}',
        '    b: { moduleName: /abs/ }',
        '    c: { moduleName: example.com/m }',
        '    d: { moduleName: example.com/m }',
        '    f: { moduleName: ../outside }',
        '',
      ].join('\n'),
    );
    assert.deepEqual(r.lines, [
      'conf/static.yaml:8:8: experimental.localPlugins.a: a local plugin needs a moduleName (or a path) (expected moduleName: example.com/my-plugin)',
      'conf/static.yaml:9:22: experimental.localPlugins.b.moduleName: must not start or end with a /',
      'conf/static.yaml:11:22: experimental.localPlugins.d.moduleName: module example.com/m is already declared by local plugin `c`',
      'conf/static.yaml:12:22: experimental.localPlugins.f.moduleName: must not contain a `..` segment',
    ]);
  });

  it('takes settings.mounts as Traefik does (host[:guest][:ro] entries, checked when a middleware is built)', () => {
    const r = load(
      [
        'experimental:',
        '  plugins:',
        '    remote: { moduleName: github.com/x/y, version: v1.0.0, settings: { mounts: ["/srv:/data:ro"] } }',
        '  localPlugins:',
        '    e: { moduleName: example.com/e, settings: { mounts: [/data, "./x:/y"] } }',
        '    f: { moduleName: example.com/f, settings: { mounts: [""] } }',
        '',
      ].join('\n'),
    );
    assert.deepEqual(r.lines, [
      'conf/static.yaml:9:58: experimental.localPlugins.f.settings.mounts[0]: must not be empty',
    ]);
  });

  it('chooses the HTTP/2 engine: own by default, node from the file or the environment, nothing else', () => {
    // (`experimental: {}` is refused whole, as Traefik's decoder refuses it: a key under it.)
    assert.equal(
      load('experimental:\n  abortOnPluginFailure: false\n').config?.experimental?.http2Engine,
      'own',
    );
    assert.equal(load('experimental:\n  http2Engine: node\n').config?.experimental?.http2Engine, 'node');
    const env = loadStaticConfig({
      file: 'conf/static.yaml',
      readFile: () => 'entryPoints:\n  web:\n    address: ":80"\n',
      argv: [],
      env: { TRAFFIC_EXPERIMENTAL_HTTP2ENGINE: 'node' },
    });
    assert.equal(env.config?.experimental?.http2Engine, 'node');
    const bad = load('experimental:\n  http2Engine: nghttp2\n');
    assert.equal(bad.config, undefined);
    assert.equal(bad.lines.length, 1);
    assert.match(bad.lines[0]!, /^conf\/static\.yaml:5:16: experimental\.http2Engine: /);
  });
});

describe('experimental keys that left the experimental features', () => {
  it('accepts kubernetesGateway and kubernetesIngressNGINX with a warning each, as Traefik logs them and starts', () => {
    const r = load('experimental:\n  kubernetesGateway: true\n  kubernetesIngressNGINX: false\n');
    assert.ok(r.config, r.lines.join('\n'));
    assert.deepEqual(r.lines, [
      'conf/static.yaml:5:3: warning: experimental.kubernetesGateway: `kubernetesGateway` is deprecated: the Gateway API provider is not experimental since Traefik v3.1; remove the key',
      'conf/static.yaml:6:3: warning: experimental.kubernetesIngressNGINX: `kubernetesIngressNGINX` is deprecated: the Ingress NGINX provider is not experimental since Traefik v3.6.2; remove the key',
    ]);
    // The flag Traefik's Helm chart passed, which many deployments still do.
    assert.ok(load('', ['--experimental.kubernetesgateway']).config);
  });

  it('accepts fastProxy (with debug) and changes nothing', () => {
    const r = load('experimental:\n  fastProxy:\n    debug: true\n');
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.experimental?.fastProxy, { debug: true });
    assert.deepEqual(load('experimental:\n  fastProxy: {}\n').lines, []);
    assert.ok(load('', ['--experimental.fastproxy']).config);
  });

  it('refuses http3, as Traefik refuses to start with it', () => {
    const r = load('experimental:\n  http3: true\n');
    assert.equal(r.config, undefined);
    assert.deepEqual(r.lines, [
      'conf/static.yaml:5:3: experimental.http3: `http3` was removed in Traefik v3, which refuses to start with it: HTTP/3 is not experimental in v3: enable it per entry point (entryPoints.<name>.http3)',
    ]);
  });
});

describe('catalog plugins (experimental.plugins)', () => {
  it("reads Traefik's descriptor: moduleName, version, settings.envs", () => {
    const r = load(
      'experimental:\n  plugins:\n    bouncer:\n      moduleName: github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin\n      version: v1.4.2\n      settings: { envs: [HOME], useUnsafe: true }\n',
    );
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.experimental?.plugins, {
      bouncer: {
        moduleName: 'github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin',
        version: 'v1.4.2',
        settings: { envs: ['HOME'], useUnsafe: true },
      },
    });
    const flags = load('', [
      '--experimental.plugins.badger.modulename=github.com/fosrl/badger',
      '--experimental.plugins.badger.version=v1.2.0',
    ]);
    assert.deepEqual(flags.config?.experimental?.plugins, {
      badger: { moduleName: 'github.com/fosrl/badger', version: 'v1.2.0' },
    });
  });

  it("refuses what Traefik's checkRemotePluginsConfiguration and checkUniquePluginNames refuse", () => {
    const bad = load(
      'experimental:\n  plugins:\n    a: { moduleName: github.com/x/a }\n    b: { moduleName: /github.com/x/b, version: v1 }\n',
    );
    assert.equal(bad.config, undefined);
    assert.deepEqual(bad.lines, [
      'conf/static.yaml:6:5: experimental.plugins.a.version: required key `version` is missing (expected a string)',
      'conf/static.yaml:7:22: experimental.plugins.b.moduleName: must not start or end with a /',
    ]);
    const r = load(
      [
        'experimental:',
        '  plugins:',
        '    c: { moduleName: github.com/x/c, version: v1 }',
        '    d: { moduleName: github.com/x/c, version: v2 }',
        '  localPlugins:',
        '    c: { moduleName: example.com/c }',
        '',
      ].join('\n'),
    );
    assert.equal(r.config, undefined);
    assert.deepEqual(r.lines, [
      'conf/static.yaml:7:22: experimental.plugins.d.moduleName: only one version of a plugin is allowed: github.com/x/c is already declared by plugin `c`',
      'conf/static.yaml:9:8: experimental.localPlugins.c: the plugin\'s name "c" must be unique: it is also in experimental.plugins',
    ]);
  });
});
