import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceConfig } from '../config/dynamic/services.ts';
import { traefikInlineConfig, traefikServiceConfig, traefikType } from './traefik-config.ts';

describe("Traefik's inline configuration", () => {
  it("writes status ranges as Traefik's strings and leaves our own keys out", () => {
    const retry = {
      attempts: 3,
      initialInterval: 100,
      status: [
        { from: 500, to: 599 },
        { from: 404, to: 404 },
      ],
      disableRetryOnNetworkError: false,
      budget: { percent: 20, minConcurrent: 3 },
    };
    assert.deepEqual(traefikInlineConfig('retry', retry), {
      retry: { attempts: 3, initialInterval: '100ms', status: ['500-599', '404'] },
    });
  });

  it('writes a weighted service as Traefik\'s WRRService: weight 0 kept (*int), status never (json:"-"), no children: {}', () => {
    const cfg = {
      kind: 'weighted',
      weighted: {
        services: [
          { name: 'a', weight: 0 },
          { name: 'b', weight: 2, status: 500 },
        ],
      },
    } as unknown as ServiceConfig;
    assert.deepEqual(traefikServiceConfig(cfg), {
      weighted: {
        services: [
          { name: 'a', weight: 0 },
          { name: 'b', weight: 2 },
        ],
      },
    });
    const empty = { kind: 'weighted', weighted: { services: [] } } as unknown as ServiceConfig;
    assert.deepEqual(traefikServiceConfig(empty), { weighted: {} });
  });

  it('is built once per configuration object', () => {
    const c = { average: 1, period: 60_000, burst: 1 };
    assert.equal(traefikInlineConfig('rateLimit', c), traefikInlineConfig('rateLimit', c));
    assert.deepEqual(traefikInlineConfig('rateLimit', c), {
      rateLimit: { average: 1, period: '1m0s', burst: 1 },
    });
  });

  it("types an object as Traefik's extractType, lowercased: a plugin by its name, none without a kind", () => {
    assert.deepEqual(traefikType('rateLimit'), { type: 'ratelimit' });
    assert.deepEqual(traefikType('highestRandomWeight'), { type: 'highestrandomweight' });
    assert.deepEqual(traefikType('plugin', { name: 'MyPlugin', options: {} }), { type: 'myplugin' });
    assert.deepEqual(traefikType('unknown'), {});
    assert.deepEqual(traefikType(undefined), {});
  });
});
