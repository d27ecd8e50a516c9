import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHandshakeReport } from './handshakes.ts';

const REPORT = {
  handshakes: 3178,
  durationS: 5.03,
  meanMs: 58.7,
  maxMs: 118.7,
  errors: { connect: 1, status: 0, resumed: 0, timeout: 2 },
  protocols: { 'TLSv1.3': 3178 },
  ciphers: { TLS_AES_256_GCM_SHA384: 3178 },
  groups: { X25519: 3178 },
};

describe('parseHandshakeReport', () => {
  it('reads the last line of the client’s output', () => {
    const r = parseHandshakeReport(`(node) a warning first\n${JSON.stringify(REPORT)}\n`);
    assert.deepEqual(r, REPORT);
  });

  it('counts an error kind the client did not print as zero', () => {
    const r = parseHandshakeReport(JSON.stringify({ ...REPORT, errors: { connect: 4 } }));
    assert.deepEqual(r.errors, { connect: 4, status: 0, resumed: 0, timeout: 0 });
  });

  it('rejects output that is not a report', () => {
    assert.throws(
      () => parseHandshakeReport('Error: connect ECONNREFUSED'),
      /unrecognised handshake client output/,
    );
    assert.throws(() => parseHandshakeReport(JSON.stringify({ handshakes: 1 })), /lacks its totals/);
    assert.throws(
      () => parseHandshakeReport(JSON.stringify({ ...REPORT, protocols: { 'TLSv1.3': 'many' } })),
      /protocols is not a table of counts/,
    );
  });
});
