import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DynamicConfig, dynamicConfigSchema } from '../config/dynamic/schema.ts';
import { splitLocalLimits } from './split-limits.ts';

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
