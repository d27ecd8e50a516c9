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
});
