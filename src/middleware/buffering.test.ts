import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferingSchema } from '../config/dynamic/body-middlewares.ts';
import { bufferingFactory } from './buffering.ts';
import type { BuildContext, Middleware } from './middleware.ts';

const make = (c: unknown): Middleware =>
  bufferingFactory.create(BufferingSchema.parse(c), {} as BuildContext) as Middleware;

describe('buffering: disableRequestBuffer / disableResponseBuffer (Traefik`s oxy options)', () => {
  it('buffers both sides by default, and leaves out the side a flag turns off', () => {
    const both = make({ maxRequestBodyBytes: 10 });
    assert.equal(both.buffering?.maxRequestBodyBytes, 10);
    assert.equal(typeof both.onResponseBody, 'function');
    const requestOnly = make({ maxRequestBodyBytes: 10, disableResponseBuffer: true });
    assert.equal(requestOnly.buffering?.maxRequestBodyBytes, 10);
    assert.equal(requestOnly.onResponseBody, undefined);
    const responseOnly = make({ disableRequestBuffer: true });
    assert.equal(responseOnly.buffering, undefined);
    assert.equal(typeof responseOnly.onResponseBody, 'function');
  });
});
