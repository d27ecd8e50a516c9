/**
 * AWS Signature Version 4 against vectors of AWS's published test suite (aws-sig-v4-test-suite:
 * get-vanilla, get-vanilla-query-order-key-case, post-vanilla; key AKIDEXAMPLE, 2015-08-30
 * 12:36:00 UTC, us-east-1, service `service`), whose signatures were computed by AWS, not here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex, signV4, sigV4Signature } from './aws-sigv4.ts';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = new Date('2015-08-30T12:36:00Z');

function sign(method: string, url: string): Record<string, string> {
  return signV4(
    { method, url: new URL(url), headers: {}, body: '', region: 'us-east-1', service: 'service', now: NOW },
    CREDS,
  );
}

describe('signV4', () => {
  it('signs get-vanilla as AWS does', () => {
    const h = sign('GET', 'https://example.amazonaws.com/');
    assert.equal(h['x-amz-date'], '20150830T123600Z');
    assert.equal(h['host'], 'example.amazonaws.com');
    assert.equal(
      h['authorization'],
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('sorts the query by name (get-vanilla-query-order-key-case)', () => {
    const h = sign('GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1');
    assert.match(
      h['authorization'] ?? '',
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  it('signs post-vanilla as AWS does', () => {
    const h = sign('POST', 'https://example.amazonaws.com/');
    assert.match(
      h['authorization'] ?? '',
      /Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b$/,
    );
  });

  it('signs the session token and extra headers, and the signature changes with the body', () => {
    const base = {
      method: 'POST',
      url: new URL('https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset/'),
      headers: { 'content-type': 'application/xml' },
      region: 'us-east-1',
      service: 'route53',
      now: NOW,
    };
    const a = signV4({ ...base, body: '<a/>' }, { ...CREDS, sessionToken: 'tok' });
    assert.equal(a['x-amz-security-token'], 'tok');
    assert.match(
      a['authorization'] ?? '',
      /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/,
    );
    const b = signV4({ ...base, body: '<b/>' }, { ...CREDS, sessionToken: 'tok' });
    assert.notEqual(a['authorization'], b['authorization']);
  });

  it('is what a verifier computes again from the parts of the request it received', () => {
    const url = new URL(
      'https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset?name=_acme-challenge.example.com.&type=TXT',
    );
    const h = signV4(
      { method: 'GET', url, headers: {}, body: '', region: 'us-east-1', service: 'route53', now: NOW },
      CREDS,
    );
    const signature = /Signature=([0-9a-f]+)$/.exec(h['authorization'] ?? '')?.[1];
    const again = sigV4Signature({
      secretAccessKey: CREDS.secretAccessKey,
      method: 'GET',
      path: url.pathname,
      query: [...url.searchParams],
      headers: { host: h['host'] ?? '', 'x-amz-date': h['x-amz-date'] ?? '' },
      signedHeaders: ['host', 'x-amz-date'],
      payloadHash: sha256Hex(''),
      amzDate: h['x-amz-date'] ?? '',
      region: 'us-east-1',
      service: 'route53',
    });
    assert.equal(again, signature);
  });
});
