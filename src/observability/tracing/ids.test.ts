import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdSource } from './ids.ts';

describe('IdSource', () => {
  it('makes 32-hex trace ids and 16-hex span ids in lowercase', () => {
    const ids = new IdSource();
    assert.match(ids.traceId(), /^[0-9a-f]{32}$/);
    assert.match(ids.spanId(), /^[0-9a-f]{16}$/);
  });

  it('refills its pool from the random source once per 4 KiB, not once per id', () => {
    let fills = 0;
    let counter = 1;
    const ids = new IdSource((buf) => {
      fills++;
      for (let i = 0; i < buf.length; i += 4) buf.writeUInt32BE(counter++, i);
    });
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(ids.spanId());
    assert.equal(fills, 1); // 300 × 8 bytes fit one 4096-byte pool
    for (let i = 0; i < 300; i++) seen.add(ids.traceId());
    assert.equal(fills, 2);
    assert.equal(seen.size, 600);
  });

  it('skips all-zero draws, which W3C forbids as ids', () => {
    const ids = new IdSource((buf) => {
      buf.fill(0);
      buf[24] = 7; // the first two trace-id draws (bytes 0–31) have a non-zero byte only in the second
    });
    assert.equal(ids.traceId(), `${'00'.repeat(8)}07${'00'.repeat(7)}`);
    const zeroSpans = new IdSource((buf) => {
      buf.fill(0);
      buf[8] = 1;
    });
    assert.equal(zeroSpans.spanId(), '0100000000000000');
  });

  it('uses a cryptographic source by default (ids do not repeat)', () => {
    const ids = new IdSource();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(ids.traceId());
    assert.equal(seen.size, 2000);
  });
});
