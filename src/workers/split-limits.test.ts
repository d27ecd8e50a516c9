import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DynamicConfig, dynamicConfigSchema } from '../config/dynamic/schema.ts';
import { staticConfigSchema } from '../config/static/schema.ts';
import { splitLocalLimits, splitStaticLimits } from './split-limits.ts';

function config(middlewares: Record<string, unknown>): DynamicConfig {
  return dynamicConfigSchema.parse({ http: { middlewares } });
}

describe('splitLocalLimits', () => {
  it('gives each worker its share of inFlightReq and rateLimit, rounded up', () => {
    const c = splitLocalLimits(
      config({
        few: { inFlightReq: { amount: 5 } },
        rl: { rateLimit: { average: 100, burst: 7, period: '1s' } },
      }),
      2,
    );
    const few = c.http.middlewares['few'];
    const rl = c.http.middlewares['rl'];
    assert.ok(few?.type === 'inFlightReq' && rl?.type === 'rateLimit');
    assert.equal(few.config.amount, 3);
    assert.equal(rl.config.average, 50);
    assert.equal(rl.config.burst, 4);
    assert.equal(rl.config.period, 1000);
  });

  it('never gives a worker a limit of 0', () => {
    const c = splitLocalLimits(config({ one: { inFlightReq: { amount: 1 } } }), 4);
    const one = c.http.middlewares['one'];
    assert.ok(one?.type === 'inFlightReq');
    assert.equal(one.config.amount, 1);
  });

  it('leaves a Redis rate limit (global already), an unlimited one and other middlewares alone', () => {
    const input = config({
      shared: { rateLimit: { average: 100, redis: { endpoints: ['127.0.0.1:6379'] } } },
      off: { rateLimit: { average: 0 } },
      strip: { stripPrefix: { prefixes: ['/a'] } },
    });
    assert.equal(splitLocalLimits(input, 4), input);
  });

  it('is the identity for one worker', () => {
    const input = config({ few: { inFlightReq: { amount: 5 } } });
    assert.equal(splitLocalLimits(input, 1), input);
  });
});

describe('splitStaticLimits', () => {
  const parsed = staticConfigSchema.parse({
    entryPoints: {
      web: { address: ':80', transport: { maxConnections: 5, maxConnectionsPerIP: 1 } },
      open: { address: ':81' },
    },
    overload: { maxRequestBodyBytes: 1000 },
  });

  it('gives each worker its share of the connection caps and the body memory, 0 staying no limit', () => {
    const c = splitStaticLimits(parsed, 2);
    assert.equal(c.entryPoints['web']?.transport.maxConnections, 3);
    assert.equal(c.entryPoints['web']?.transport.maxConnectionsPerIP, 1);
    assert.equal(c.entryPoints['open']?.transport.maxConnections, 0);
    assert.equal(c.entryPoints['open']?.transport.maxConnectionsPerIP, 0);
    assert.equal(c.overload.maxRequestBodyBytes, 500);
    assert.equal(c.overload.maxEventLoopDelay, parsed.overload.maxEventLoopDelay);
    assert.equal(parsed.entryPoints['web']?.transport.maxConnections, 5, 'the input is not changed');
  });

  it('leaves one process alone', () => {
    assert.equal(splitStaticLimits(parsed, 1), parsed);
  });
});
