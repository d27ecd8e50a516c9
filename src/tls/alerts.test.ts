import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_UNRECOGNIZED_NAME, alertRecord, recordVersionOf } from './alerts.ts';

/** A ClientHello's first bytes: record header, handshake header, legacy_version. */
const hello = (major: number, minor: number): Buffer =>
  Buffer.from([22, 3, 1, 0, 100, 1, 0, 0, 96, major, minor, 0, 0]);

describe('TLS alerts', () => {
  it('writes a fatal alert record: type 21, version, length 2, level 2, description', () => {
    assert.deepEqual([...alertRecord(ALERT_UNRECOGNIZED_NAME)], [21, 3, 3, 0, 2, 2, 112]);
    assert.deepEqual([...alertRecord(80, 0x0301)], [21, 3, 1, 0, 2, 2, 80]);
  });

  // Go's writeRecordLocked: the negotiated version, TLS 1.2 for TLS 1.3.
  it("takes the record version from the ClientHello's legacy_version, at most TLS 1.2", () => {
    assert.equal(recordVersionOf(hello(3, 3)), 0x0303);
    assert.equal(recordVersionOf(hello(3, 1)), 0x0301);
    assert.equal(recordVersionOf(hello(3, 4)), 0x0303);
    assert.equal(recordVersionOf(hello(3, 0)), 0x0301);
    assert.equal(recordVersionOf(Buffer.from([22, 3, 1])), 0x0303);
  });
});
