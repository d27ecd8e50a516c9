import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthMirror, HealthSource } from './health-hub.ts';

describe('HealthSource', () => {
  it('forwards each change and tables the servers down of every tracked service', () => {
    const sent: [string, number, boolean][] = [];
    const source = new HealthSource((k, i, h) => sent.push([k, i, h]));
    const healthy = new Uint8Array([1, 0, 1]);
    source.track('health|a', { healthy });
    source.changed('health|a', 1, false);
    assert.deepEqual(sent, [['health|a', 1, false]]);
    assert.deepEqual(source.table(), [['health|a', [1]]]);
    source.track('health|a', null);
    assert.deepEqual(source.table(), []);
  });
});

describe('HealthMirror', () => {
  it('applies verdicts known before the service was built when its monitor starts', () => {
    const mirror = new HealthMirror();
    mirror.load([['health|a', [0, 2]]]);
    const changes: [number, boolean][] = [];
    const m = mirror.monitor('health|a', 3, (i, h) => changes.push([i, h]));
    assert.deepEqual([...m.thresholds.healthy], [1, 1, 1]);
    m.start();
    assert.deepEqual([...m.thresholds.healthy], [0, 1, 0]);
    assert.deepEqual(changes, [
      [0, false],
      [2, false],
    ]);
  });

  it('passes later changes to the started monitor, transitions only', () => {
    const mirror = new HealthMirror();
    const changes: [number, boolean][] = [];
    const m = mirror.monitor('health|a', 2, (i, h) => changes.push([i, h]));
    m.start();
    mirror.update('health|a', 1, false);
    mirror.update('health|a', 1, false);
    mirror.update('health|a', 1, true);
    mirror.update('health|other', 0, false);
    assert.deepEqual(changes, [
      [1, false],
      [1, true],
    ]);
    m.stop();
    mirror.update('health|a', 0, false);
    assert.equal(changes.length, 2, 'a stopped monitor hears nothing');
  });

  it('a full table replaces what was known: a server absent from it is up again', () => {
    const mirror = new HealthMirror();
    const m = mirror.monitor('health|a', 2, () => {});
    m.start();
    mirror.update('health|a', 0, false);
    mirror.load([['health|a', []]]);
    assert.deepEqual([...m.thresholds.healthy], [1, 1]);
  });
});
