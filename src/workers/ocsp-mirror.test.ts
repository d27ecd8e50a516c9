import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stapleKey } from '../tls/ocsp/ocsp-stapler.ts';
import { OcspMirror } from './ocsp-mirror.ts';

function answer(m: OcspMirror, leaf: Buffer): Buffer | null {
  let out: Buffer | null = null;
  m.onOcspRequest(leaf, Buffer.alloc(0), (_e, r) => {
    out = r;
  });
  return out;
}

describe('OcspMirror', () => {
  const leaf = Buffer.from('leaf certificate DER');
  const der = new Uint8Array([1, 2, 3]);

  it('staples the response it was sent for that certificate until its nextUpdate', () => {
    let now = 1000;
    const m = new OcspMirror(() => now);
    assert.equal(answer(m, leaf), null);
    m.update({ key: stapleKey(leaf), der, nextUpdate: 2000 });
    assert.deepEqual(answer(m, leaf), Buffer.from([1, 2, 3]));
    assert.equal(answer(m, Buffer.from('another')), null);
    now = 2000;
    assert.equal(answer(m, leaf), null, 'past nextUpdate: nothing rather than a stale answer');
  });

  it('replaces everything with the table a configuration brings', () => {
    const m = new OcspMirror(() => 0);
    m.update({ key: stapleKey(leaf), der, nextUpdate: undefined });
    m.load([]);
    assert.equal(answer(m, leaf), null);
  });
});
