import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALERT_BAD_CERTIFICATE,
  ALERT_CERTIFICATE_EXPIRED,
  ALERT_UNKNOWN_CA,
  ALERT_UNRECOGNIZED_NAME,
  alertRecord,
  clientCertAlert,
  recordVersionOf,
} from './alerts.ts';

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

describe("Go's alert for a refused client certificate (processCertsFromClient)", () => {
  it('bad_certificate when none is given, unknown_ca without a chain, certificate_expired, else bad_certificate', () => {
    assert.equal(clientCertAlert(false, undefined), ALERT_BAD_CERTIFICATE);
    for (const e of [
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
    ]) {
      assert.equal(clientCertAlert(true, e), ALERT_UNKNOWN_CA, e);
    }
    assert.equal(clientCertAlert(true, 'CERT_HAS_EXPIRED'), ALERT_CERTIFICATE_EXPIRED);
    assert.equal(clientCertAlert(true, 'CERT_NOT_YET_VALID'), ALERT_CERTIFICATE_EXPIRED);
    assert.equal(clientCertAlert(true, 'INVALID_PURPOSE'), ALERT_BAD_CERTIFICATE);
  });
});
