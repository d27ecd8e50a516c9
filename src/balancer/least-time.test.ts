import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPicker } from './index.ts';
import { RESPONSE_TIME_SAMPLES, ResponseTimes } from './least-time.ts';

function leastTime(weights: readonly number[], inFlight: number[], times: ResponseTimes) {
  return createPicker(
    'leasttime',
    weights.map((weight) => ({ weight })),
    { inFlight, responseTimes: times },
  );
}

function timesOf(...perServer: number[][]): ResponseTimes {
  const t = new ResponseTimes(perServer.length);
  perServer.forEach((samples, i) => {
    for (const ms of samples) t.add(i, ms);
  });
  return t;
}

describe('response times (leasttime)', () => {
  it('averages the samples kept, 0 before the first', () => {
    const t = timesOf([2, 4], []);
    assert.equal(t.average(0), 3);
    assert.equal(t.average(1), 0);
  });

  it('keeps only the last 100 samples, as Traefik does', () => {
    const t = new ResponseTimes(1);
    for (let k = 0; k < RESPONSE_TIME_SAMPLES; k++) t.add(0, 10);
    assert.equal(t.average(0), 10);
    for (let k = 0; k < RESPONSE_TIME_SAMPLES / 2; k++) t.add(0, 30);
    assert.equal(t.average(0), 20);
    for (let k = 0; k < RESPONSE_TIME_SAMPLES / 2; k++) t.add(0, 30);
    assert.equal(t.average(0), 30);
  });
});

describe('least time (leasttime)', () => {
  it('picks the server with the lowest average response time', () => {
    const picker = leastTime([1, 1, 1], [0, 0, 0], timesOf([9], [3], [5]));
    for (let k = 0; k < 5; k++) assert.equal(picker.pick(), 1);
  });

  it('multiplies the time by 1 + requests in flight, and divides by the weight', () => {
    const inFlight = [0, 0];
    const picker = leastTime([1, 1], inFlight, timesOf([4], [10]));
    assert.equal(picker.pick(), 0, '4 × 1 beats 10 × 1');
    inFlight[0] = 2;
    assert.equal(picker.pick(), 1, '10 × 1 beats 4 × 3');
    const weighted = leastTime([1, 4], [0, 0], timesOf([4], [10]));
    assert.equal(weighted.pick(), 1, '10 / 4 beats 4 / 1');
  });

  it('tries a server without samples first, then shares ties by weighted round robin', () => {
    const picker = leastTime([2, 1], [0, 0], timesOf([], []));
    const picked: number[] = [];
    for (let k = 0; k < 6; k++) picked.push(picker.pick());
    // All score 0: smooth weighted round robin, 2:1.
    assert.deepEqual(picked, [0, 1, 0, 0, 1, 0]);
  });

  it('follows the times as they are recorded', () => {
    const times = new ResponseTimes(2);
    const picker = leastTime([1, 1], [0, 0], times);
    times.add(0, 1);
    times.add(1, 5);
    assert.equal(picker.pick(), 0);
    for (let k = 0; k < 10; k++) times.add(0, 20);
    assert.equal(picker.pick(), 1);
  });

  it('skips what accept refuses and servers of weight 0', () => {
    const picker = leastTime([1, 1, 0], [0, 0, 0], timesOf([1], [9], [0]));
    assert.equal(
      picker.pick((i) => i !== 0),
      1,
    );
    assert.equal(
      picker.pick((i) => i === 2),
      -1,
    );
  });
});
