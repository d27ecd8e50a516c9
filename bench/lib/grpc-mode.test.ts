import assert from 'node:assert/strict';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GRPC_REPLY } from './grpc-backend.ts';
import { GRPC_REQUEST, missingReplies, probeGrpc } from './grpc-mode.ts';

describe('--mode grpc', () => {
  it('sends one 12-byte gRPC message and expects one back', () => {
    assert.equal(GRPC_REQUEST.length, 17);
    assert.equal(GRPC_REQUEST.readUInt32BE(1), 12);
    assert.equal(GRPC_REPLY.length, 17);
  });

  it('counts the responses that came without their message (gRPC errors are 200s)', () => {
    assert.equal(missingReplies(100, 1700), 0);
    assert.equal(missingReplies(100, 1666), 2);
    assert.equal(missingReplies(100, null), null);
  });

  it('accepts a gRPC call only with its message and grpc-status 0', async (t) => {
    let status = '0';
    const server = createServer();
    server.on('stream', (s) => {
      s.resume();
      s.on('end', () => {
        s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': status }));
        s.end(GRPC_REPLY);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench.Echo/Unary`;
    assert.equal(await probeGrpc(url, 2000), undefined);
    status = '14';
    assert.equal(await probeGrpc(url, 2000), 'HTTP 200, grpc-status 14, 17 body bytes');
  });
});
