import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTlsFacts, tlsMismatch } from './tls-probe.ts';

const facts = {
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_128_GCM_SHA256',
  group: 'X25519',
  alpn: 'h2',
  certificateSha256: 'AA:BB',
};

describe('tlsMismatch', () => {
  it('accepts the bench certificate with an ALPN the mode asked for', () => {
    assert.equal(tlsMismatch(facts, 'AA:BB', ['h2']), undefined);
    assert.equal(tlsMismatch({ ...facts, alpn: 'none' }, 'AA:BB', undefined), undefined);
  });

  it('rejects another certificate (a proxy serving its generated default)', () => {
    assert.match(
      tlsMismatch(facts, 'CC:DD', ['h2']) ?? '',
      /served certificate AA:BB, not the bench certificate CC:DD/,
    );
  });

  it('rejects a proxy that fell back to HTTP/1.1 in the HTTP/2 mode', () => {
    assert.match(
      tlsMismatch({ ...facts, alpn: 'http/1.1' }, 'AA:BB', ['h2']) ?? '',
      /ALPN agreed "http\/1.1"/,
    );
  });
});

describe('formatTlsFacts', () => {
  it('prints version, suite, group and ALPN on one line', () => {
    assert.equal(formatTlsFacts(facts), 'TLSv1.3 TLS_AES_128_GCM_SHA256 X25519 alpn=h2');
  });
});
