import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEntryPointModel, entryPointModelOf } from './entry-point-model.ts';
import { dynamicConfigSchema } from './schema.ts';

const config = dynamicConfigSchema.parse({
  http: {
    routers: {
      open: { rule: 'Path(`/`)', service: 's' },
      both: { rule: 'Path(`/b`)', service: 's', entryPoints: ['web', 'websecure'], middlewares: ['own'] },
      plain: { rule: 'Path(`/p`)', service: 's', entryPoints: ['web'] },
    },
  },
});

describe('entry point models (asDefault, http.middlewares)', () => {
  it('gives routers without entry points the asDefault ones', () => {
    const model = entryPointModelOf({
      web: { asDefault: false, http: {} },
      websecure: { asDefault: true, http: {} },
    });
    const out = applyEntryPointModel(config, model);
    assert.deepEqual(out.http.routers['open']?.entryPoints, ['websecure']);
    assert.deepEqual(out.http.routers['plain']?.entryPoints, ['web']);
  });

  it('gives them none, even with entry point middlewares, when only `traefik` is marked (Traefik`s getDefaultsEntrypoints)', () => {
    const model = entryPointModelOf(
      {
        web: { asDefault: false, http: { middlewares: ['m'] } },
        traefik: { asDefault: true, http: {} },
      },
      new Set(['traefik']),
    );
    assert.equal(model.noDefaults, true);
    const out = applyEntryPointModel(config, model);
    // Left without entry points: the build disables it ("no valid entryPoint for this router").
    assert.deepEqual(out.http.routers['open'], config.http.routers['open']);
    assert.deepEqual(out.http.routers['plain']?.middlewares, ['m']);
    const unmarked = entryPointModelOf(
      { web: { asDefault: false, http: {} }, traefik: { asDefault: false, http: {} } },
      new Set(['traefik']),
    );
    assert.equal(unmarked.noDefaults, undefined);
  });

  it('prepends entry point middlewares, splitting a router whose entry points differ, as Traefik names them', () => {
    const model = entryPointModelOf(
      {
        web: { asDefault: false, http: {} },
        websecure: { asDefault: false, http: { middlewares: ['secure@file'] } },
        traefik: { asDefault: false, http: { middlewares: ['x'] } },
      },
      new Set(['traefik']),
    );
    const out = applyEntryPointModel(config, model);
    assert.deepEqual(Object.keys(out.http.routers).sort(), [
      'both',
      'open',
      'plain',
      'websecure-both',
      'websecure-open',
    ]);
    assert.deepEqual(out.http.routers['websecure-both']?.middlewares, ['secure@file', 'own']);
    assert.deepEqual(out.http.routers['websecure-both']?.entryPoints, ['websecure']);
    assert.deepEqual(out.http.routers['both']?.entryPoints, ['web']);
    assert.deepEqual(out.http.routers['both']?.middlewares, ['own']);
    assert.deepEqual(out.http.routers['open']?.entryPoints, ['web']);
    assert.deepEqual(out.http.routers['plain'], config.http.routers['plain']);
  });

  it('changes nothing without asDefault or entry point middlewares', () => {
    const model = entryPointModelOf({ web: { asDefault: false, http: {} } });
    assert.equal(applyEntryPointModel(config, model), config);
  });

  it("splits routers of an entry point with observability, each copy taking the entry point's unset keys", () => {
    const cfg = dynamicConfigSchema.parse({
      http: {
        routers: {
          r: {
            rule: 'Path(`/r`)',
            service: 's',
            entryPoints: ['web', 'quiet'],
            observability: { metrics: true, tracing: false },
          },
        },
      },
    });
    const model = entryPointModelOf({
      web: { asDefault: false, http: {} },
      quiet: { asDefault: false, http: {}, observability: { accessLogs: false, metrics: false } },
    });
    const out = applyEntryPointModel(cfg, model);
    assert.deepEqual(Object.keys(out.http.routers).sort(), ['quiet-r', 'r']);
    // Traefik's applyModel: the router's keys win, the entry point fills the others.
    assert.deepEqual(out.http.routers['quiet-r']?.observability, {
      accessLogs: false,
      metrics: true,
      tracing: false,
    });
    assert.deepEqual(out.http.routers['quiet-r']?.middlewares, []);
    assert.deepEqual(out.http.routers['r']?.observability, { metrics: true, tracing: false });
    assert.deepEqual(out.http.routers['r']?.entryPoints, ['web']);
  });

  it('gives the copy on an entry point with http.tls that TLS whole, unless the router has its own', () => {
    const cfg = dynamicConfigSchema.parse({
      http: {
        routers: {
          open: { rule: 'Host(`a`)', service: 's' },
          own: { rule: 'Host(`b`)', service: 's', tls: {} },
          single: { rule: 'Host(`c`)', service: 's', entryPoints: ['websecure'] },
          webOnly: { rule: 'Host(`d`)', service: 's', entryPoints: ['web'] },
        },
      },
    });
    const epTls = { options: 'strict', certResolver: 'le', domains: [{ main: 'a', sans: [] }] };
    const model = entryPointModelOf({
      web: { asDefault: false, http: {} },
      websecure: { asDefault: false, http: { tls: epTls } },
    });
    const out = applyEntryPointModel(cfg, model);
    // Traefik's applyModel: `<ep>-<router>` when the router is on several entry points.
    assert.deepEqual(Object.keys(out.http.routers).sort(), [
      'open',
      'own',
      'single',
      'webOnly',
      'websecure-open',
      'websecure-own',
    ]);
    assert.deepEqual(out.http.routers['websecure-open']?.tls, epTls);
    assert.deepEqual(out.http.routers['websecure-open']?.entryPoints, ['websecure']);
    assert.equal(out.http.routers['open']?.tls, undefined);
    assert.deepEqual(out.http.routers['open']?.entryPoints, ['web']);
    // A router's own `tls` is kept whole: no key comes from the entry point's.
    assert.deepEqual(out.http.routers['websecure-own']?.tls, { domains: [] });
    assert.deepEqual(out.http.routers['single']?.tls, epTls);
    assert.deepEqual(out.http.routers['webOnly'], cfg.http.routers['webOnly']);
  });

  it('gives every entry point a model once the core section is present', () => {
    const cfg = dynamicConfigSchema.parse({
      http: {
        routers: {
          r: { rule: 'Path(`/`)', service: 's' },
          one: { rule: 'Path(`/1`)', service: 's', entryPoints: ['b'] },
        },
      },
    });
    const eps = { a: { asDefault: false, http: {} }, b: { asDefault: false, http: {} } };
    assert.equal(applyEntryPointModel(cfg, entryPointModelOf(eps)), cfg);
    const out = applyEntryPointModel(cfg, entryPointModelOf(eps, new Set(), true));
    assert.deepEqual(Object.keys(out.http.routers).sort(), ['a-r', 'b-r', 'one']);
    assert.deepEqual(out.http.routers['a-r']?.entryPoints, ['a']);
    assert.deepEqual(out.http.routers['one']?.entryPoints, ['b']);
  });

  it("leaves child routers as they are and points them at every copy of a split parent (Traefik's modelRouterNames)", () => {
    const cfg = dynamicConfigSchema.parse({
      http: {
        routers: {
          'p@file': { rule: 'PathPrefix(`/`)', middlewares: ['auth'] },
          'c@file': { rule: 'Path(`/c`)', service: 's', parentRefs: ['p'] },
        },
      },
    });
    const model = entryPointModelOf({
      web: { asDefault: false, http: {} },
      websecure: { asDefault: false, http: { tls: { domains: [] } } },
    });
    const out = applyEntryPointModel(cfg, model);
    assert.deepEqual(Object.keys(out.http.routers).sort(), ['c@file', 'p@file', 'websecure-p@file']);
    assert.deepEqual(out.http.routers['c@file']?.parentRefs, ['p@file', 'websecure-p@file']);
    assert.equal(out.http.routers['c@file']?.entryPoints, undefined);
    assert.equal(out.http.routers['c@file']?.tls, undefined);
  });
});

describe('core.defaultRuleSyntax (Traefik applyModel)', () => {
  const withSyntax = dynamicConfigSchema.parse({
    http: {
      routers: {
        none: { rule: 'Host(`a`, `b`)', service: 's' },
        empty: { rule: 'Host(`a`, `b`)', service: 's', ruleSyntax: '' },
        own: { rule: 'Host(`c`)', service: 's', ruleSyntax: 'v3' },
        computed: { rule: 'Host(`d`)', service: 's', ruleSyntax: 'default' },
      },
    },
    tcp: {
      routers: { t: { rule: 'HostSNI(`a`, `b`)', service: 's', tls: {} } },
      services: { s: { loadBalancer: { servers: [{ address: '127.0.0.1:1' }] } } },
    },
  });

  it('gives every HTTP and TCP router without a ruleSyntax the default; its own (v3, default) stays', () => {
    const model = entryPointModelOf({ web: { asDefault: false, http: {} } }, new Set(), true, 'v2');
    const out = applyEntryPointModel(withSyntax, model);
    assert.equal(out.http.routers['none']?.ruleSyntax, 'v2');
    assert.equal(out.http.routers['empty']?.ruleSyntax, 'v2');
    assert.equal(out.http.routers['own']?.ruleSyntax, 'v3');
    assert.equal(out.http.routers['computed']?.ruleSyntax, 'default');
    assert.equal(out.tcp?.routers['t']?.ruleSyntax, 'v2');
  });

  it('sets nothing without the core section', () => {
    const out = applyEntryPointModel(withSyntax, entryPointModelOf({ web: { asDefault: false, http: {} } }));
    assert.equal(out.http.routers['none']?.ruleSyntax, undefined);
    assert.equal(out.tcp?.routers['t']?.ruleSyntax, undefined);
  });
});
