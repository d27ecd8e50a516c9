import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amzDate, sha256Hex, signingKey, signV4 } from './sigv4.ts';

// AWS's published Signature Version 4 examples (the aws-sig-v4-test-suite and the "derive a
// signing key" example of AWS's documentation).
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const example = (url: string) =>
  signV4({
    method: 'GET',
    url: new URL(url),
    headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' },
    payloadHash: sha256Hex(''),
    region: 'us-east-1',
    service: 'service',
    credentials,
    amzDate: '20150830T123600Z',
  });

describe('AWS Signature V4', () => {
  it('get-vanilla', () => {
    assert.equal(
      example('https://example.amazonaws.com/'),
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('get-vanilla-query-order-key-case: the query sorted', () => {
    assert.match(
      example('https://example.amazonaws.com/?Param2=value2&Param1=value1'),
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  it('derives the documented signing key', () => {
    assert.equal(
      signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex'),
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('formats x-amz-date', () => {
    assert.equal(amzDate(new Date('2015-08-30T12:36:00.123Z')), '20150830T123600Z');
  });
});
