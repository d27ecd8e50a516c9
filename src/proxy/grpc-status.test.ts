import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import {
  grpcKind,
  grpcStatusOf,
  grpcTimeoutMs,
  percentEncode,
  toGrpcAnswer,
  trailersOnlyFields,
} from './grpc-status.ts';

describe('gRPC answers of the proxy', () => {
  it('maps the errors the proxy makes to gRPC statuses', () => {
    // no route, 502, 503, 504, 429 (rateLimit), 503 (circuit breaker)
    assert.deepEqual([404, 502, 503, 504, 429].map(grpcStatusOf), [5, 14, 14, 4, 8]);
    assert.equal(grpcStatusOf(401), 16);
    assert.equal(grpcStatusOf(403), 7);
    assert.equal(grpcStatusOf(499), 1);
    assert.equal(grpcStatusOf(418), 2, 'anything else is UNKNOWN');
  });

  it('tells gRPC and gRPC-Web requests from their content type', () => {
    assert.equal(grpcKind(HeaderList.from([['Content-Type', 'application/grpc']])), 1);
    assert.equal(grpcKind(HeaderList.from([['Content-Type', 'application/grpc+proto']])), 1);
    assert.equal(grpcKind(HeaderList.from([['Content-Type', 'application/grpc-web-text+proto']])), 2);
    assert.equal(grpcKind(HeaderList.from([['Content-Type', 'application/json']])), 0);
    assert.equal(grpcKind(new HeaderList()), 0);
  });

  it('percent-encodes grpc-message as the protocol says (% and non-printable bytes, UTF-8)', () => {
    assert.equal(percentEncode('Bad Gateway'), 'Bad Gateway');
    assert.equal(percentEncode('50% off\n'), '50%25 off%0A');
    assert.equal(percentEncode('é'), '%C3%A9');
  });

  it('turns a direct answer into a trailers-only one, keeping the other fields', () => {
    const rh: ResponseHead = {
      status: 429,
      reason: 'Too Many Requests',
      headers: HeaderList.from([
        ['Retry-After', '1'],
        ['Content-Type', 'text/plain'],
        ['Content-Length', '17'],
      ]),
    };
    toGrpcAnswer(rh, 1, 'application/grpc', 'Too Many Requests');
    assert.equal(rh.status, 200);
    assert.deepEqual(trailersOnlyFields(rh), [
      ':status',
      '200',
      'retry-after',
      '1',
      'content-type',
      'application/grpc',
      'grpc-status',
      '8',
      'grpc-message',
      'Too Many Requests',
    ]);
    const web: ResponseHead = { status: 502, reason: 'Bad Gateway', headers: new HeaderList() };
    toGrpcAnswer(web, 2, 'application/grpc-web-text+proto', '');
    assert.equal(web.headers.get('content-type'), 'application/grpc-web-text+proto');
    assert.equal(web.headers.get('grpc-status'), '14');
    assert.equal(web.headers.get('grpc-message'), 'Bad Gateway');
  });

  it('reads grpc-timeout in every unit, rounding up to whole milliseconds', () => {
    assert.equal(grpcTimeoutMs('1H'), 3_600_000);
    assert.equal(grpcTimeoutMs('2M'), 120_000);
    assert.equal(grpcTimeoutMs('3S'), 3000);
    assert.equal(grpcTimeoutMs('250m'), 250);
    assert.equal(grpcTimeoutMs('1500u'), 2);
    assert.equal(grpcTimeoutMs('1n'), 1);
    assert.equal(grpcTimeoutMs('0m'), 1, 'a deadline already due');
    assert.equal(grpcTimeoutMs('99999999S'), 99_999_999_000);
  });

  it('ignores a malformed grpc-timeout', () => {
    for (const v of [undefined, '', 'S', '10', '10x', '123456789S', '-1S', '1.5S']) {
      assert.equal(grpcTimeoutMs(v), -1, String(v));
    }
  });
});
