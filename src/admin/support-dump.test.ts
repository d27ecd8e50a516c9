import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMIZED, anonymize } from './support-dump.ts';

describe('support-dump anonymize', () => {
  it('masks secret-named values and sections, and credentials in URLs; keeps the rest', () => {
    const input = {
      entryPoints: { web: { address: ':80', forwardedHeaders: { trustedIPs: ['10.0.0.0/8'] } } },
      api: { auth: { bearerTokens: ['abc'], basicAuth: ['u:$apr1$x'] }, insecure: true },
      providers: {
        http: { endpoint: 'https://user:pw@conf.test/c', headers: { 'X-Token': 't' } },
        consul: { endpoints: ['consul:8500'], token: 'tok', password: '' },
      },
      certificatesResolvers: { le: { acme: { email: 'a@b.test', eab: { kid: 'k', hmacEncoded: 'h' } } } },
      log: { level: 'INFO' },
    };
    assert.deepEqual(anonymize(input), {
      entryPoints: { web: { address: ':80', forwardedHeaders: { trustedIPs: ['10.0.0.0/8'] } } },
      api: { auth: { bearerTokens: [ANONYMIZED], basicAuth: [ANONYMIZED] }, insecure: true },
      providers: {
        http: { endpoint: `https://${ANONYMIZED}@conf.test/c`, headers: { 'X-Token': ANONYMIZED } },
        consul: { endpoints: ['consul:8500'], token: ANONYMIZED, password: '' },
      },
      certificatesResolvers: {
        le: { acme: { email: ANONYMIZED, eab: { kid: 'k', hmacEncoded: ANONYMIZED } } },
      },
      log: { level: 'INFO' },
    });
    // The input is untouched.
    assert.deepEqual(input.api.auth.bearerTokens, ['abc']);
  });
});
