import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeGrpcHealth, servingStatus } from './probe-grpc.ts';

const message = (bytes: number[]): Buffer => Buffer.from([0, 0, 0, 0, bytes.length, ...bytes]);

describe('gRPC health check verdicts', () => {
  it('reads the serving status of a HealthCheckResponse', () => {
    assert.equal(servingStatus(message([0x08, 0x01])), 1);
    assert.equal(servingStatus(message([0x08, 0x02])), 2);
    assert.equal(servingStatus(message([])), 0, 'an empty message is UNKNOWN');
    assert.equal(servingStatus(message([0x12, 0x01, 0x41, 0x08, 0x01])), 1, 'unknown fields skipped');
    assert.equal(servingStatus(Buffer.from([1, 0, 0, 0, 0])), undefined, 'compressed: not ours');
    assert.equal(servingStatus(message([0x08])), undefined, 'truncated varint');
  });

  it('is healthy only on grpc-status 0 and SERVING, as Traefik', () => {
    const ok = (body: Buffer, trailers: Record<string, string>, headers: Record<string, string> = {}) =>
      judgeGrpcHealth({ ok: true, status: 200, headers, trailers, body });
    assert.deepEqual(ok(message([0x08, 0x01]), { 'grpc-status': '0' }), { ok: true, reason: 'SERVING' });
    assert.deepEqual(ok(message([0x08, 0x02]), { 'grpc-status': '0' }), {
      ok: false,
      reason: 'health status NOT_SERVING',
    });
    assert.match(ok(Buffer.alloc(0), {}, { 'grpc-status': '12' }).reason, /does not implement/);
    assert.deepEqual(ok(Buffer.alloc(0), { 'grpc-status': '14', 'grpc-message': 'down%20now' }), {
      ok: false,
      reason: 'grpc-status 14: down now',
    });
    assert.deepEqual(judgeGrpcHealth({ ok: false, phase: 'connect', reason: 'ECONNREFUSED' }), {
      ok: false,
      reason: 'connect ECONNREFUSED',
    });
  });
});
