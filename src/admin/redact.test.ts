import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, REDACTED_KEY, redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  it('hides inline private keys of every PEM flavour and keeps certificates and file paths', () => {
    const config = {
      tls: {
        certificates: [
          {
            certFile: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
            keyFile: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
          },
          { certFile: 'a.pem', keyFile: 'a.key' },
          { certFile: 'b.pem', keyFile: '-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----' },
          { certFile: 'c.pem', keyFile: '\n  -----BEGIN RSA PRIVATE KEY-----\nx' },
        ],
      },
      http: {
        serversTransports: {
          t: { certificates: [{ certFile: 'x', keyFile: '-----BEGIN ENCRYPTED PRIVATE KEY-----' }] },
        },
      },
    };
    const out = redactSecrets(config) as typeof config;
    const keys = out.tls.certificates.map((c) => c.keyFile);
    assert.deepEqual(keys, [REDACTED_KEY, 'a.key', REDACTED_KEY, REDACTED_KEY]);
    assert.match(out.tls.certificates[0]!.certFile, /BEGIN CERTIFICATE/);
    assert.equal(out.http.serversTransports.t.certificates[0]!.keyFile, REDACTED_KEY);
    // The input is untouched.
    assert.match(config.tls.certificates[0]!.keyFile, /BEGIN PRIVATE KEY/);
  });

  it('hides non-empty password fields at any depth and keeps other scalars as they are', () => {
    const out = redactSecrets({
      a: { redis: { password: 's3cret', db: 2, tls: null } },
      b: [{ password: '' }],
      c: true,
    });
    assert.deepEqual(out, {
      a: { redis: { password: REDACTED, db: 2, tls: null } },
      b: [{ password: '' }],
      c: true,
    });
  });
});
