import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acmeCaTrust } from './ca-trust.ts';

const files: Record<string, string> = { '/a.pem': 'A', '/b.pem': 'B' };
const read = (f: string): string => {
  const v = files[f];
  if (v === undefined) throw new Error(`no file ${f}`);
  return v;
};
const none = { caCertificates: [], caSystemCertPool: false };

describe("acmeCaTrust (Traefik's createClientTLSConfig)", () => {
  it('uses the resolver keys when caCertificates or caServerName is set, ignoring LEGO_CA_*', () => {
    const env = { LEGO_CA_CERTIFICATES: '/b.pem', LEGO_CA_SERVER_NAME: 'env.test' };
    assert.deepEqual(acmeCaTrust({ caCertificates: ['/a.pem'], caSystemCertPool: true }, env, read), {
      caCertificates: 'A',
      caSystemCertPool: true,
    });
    assert.deepEqual(acmeCaTrust({ ...none, caServerName: 'ca.test' }, env, read), {
      caCertificates: '',
      caSystemCertPool: false,
      caServerName: 'ca.test',
    });
  });

  it("falls back on lego's LEGO_CA_CERTIFICATES, LEGO_CA_SERVER_NAME and LEGO_CA_SYSTEM_CERT_POOL", () => {
    assert.deepEqual(
      acmeCaTrust(
        none,
        {
          LEGO_CA_CERTIFICATES: '/a.pem:/b.pem',
          LEGO_CA_SERVER_NAME: 'ca.test',
          LEGO_CA_SYSTEM_CERT_POOL: 'true',
        },
        read,
      ),
      { caCertificates: 'A\nB', caSystemCertPool: true, caServerName: 'ca.test' },
    );
    assert.deepEqual(
      acmeCaTrust(none, { LEGO_CA_CERTIFICATES: '/a.pem', LEGO_CA_SYSTEM_CERT_POOL: 'yes' }, read),
      {
        caCertificates: 'A',
        caSystemCertPool: false,
      },
    );
    assert.deepEqual(acmeCaTrust(none, { LEGO_CA_SYSTEM_CERT_POOL: 'true' }, read), {});
  });
});
