import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ticker } from '../core/ticker.ts';
import { InFlightState } from './in-flight-req.ts';

describe('InFlightState', () => {
  it('joins the ticker only with a queue, the only thing that arms a deadline', () => {
    const ticker = new Ticker();
    const plain = new InFlightState({ amount: 1 }, ticker);
    assert.equal(ticker.size, 0, 'a limit without a queue costs the sweep nothing');
    const queued = new InFlightState({ amount: 1, queue: { size: 2, timeout: 1000 } }, ticker);
    assert.equal(ticker.size, 1);
    plain.close();
    queued.close();
    assert.equal(ticker.size, 0);
  });
});
