import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import { GrpcWebTransform } from './grpc-web-transform.ts';

const frame = (flag: number, payload: Buffer): Buffer => {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = flag;
  b.writeUInt32BE(payload.length, 1);
  payload.copy(b, 5);
  return b;
};

describe('gRPC-Web body transform', () => {
  it('sends gRPC-Web request frames as gRPC, with the gRPC content type and no length', () => {
    const t = new GrpcWebTransform(false);
    const h = HeaderList.from([
      ['Content-Type', 'application/grpc-web+proto'],
      ['Content-Length', '10'],
      ['X-Grpc-Web', '1'],
    ]);
    t.requestHead(h);
    assert.equal(h.get('content-type'), 'application/grpc+proto');
    assert.equal(h.has('content-length'), false);
    const msg = frame(0, Buffer.from('hello'));
    assert.equal(t.requestData(msg), msg, 'binary frames pass as they are');
    assert.equal(t.requestEnd(), null);
  });

  it('decodes base64 (-text) split anywhere, including several padded parts', () => {
    const t = new GrpcWebTransform(true);
    const h = HeaderList.from([['content-type', 'application/grpc-web-text']]);
    t.requestHead(h);
    assert.equal(h.get('content-type'), 'application/grpc');
    const a = frame(0, Buffer.from('one'));
    const b = frame(0, Buffer.from('second message'));
    const text = a.toString('base64') + b.toString('base64'); // two padded parts
    const out: Buffer[] = [];
    for (let i = 0; i < text.length; i += 5) out.push(t.requestData(Buffer.from(text.slice(i, i + 5))));
    const end = t.requestEnd();
    if (end !== null) out.push(end);
    assert.deepEqual(Buffer.concat(out), Buffer.concat([a, b]));
  });

  it('answers as gRPC-Web: content type, every field exposed, trailers as the last frame', () => {
    const t = new GrpcWebTransform(false);
    const rh: ResponseHead = {
      status: 200,
      reason: 'OK',
      headers: HeaderList.from([
        ['content-type', 'application/grpc+proto'],
        ['trailer', 'grpc-status'],
        ['x-custom', 'v'],
      ]),
    };
    t.responseHead(rh);
    assert.equal(rh.headers.get('content-type'), 'application/grpc-web+proto');
    assert.equal(rh.headers.has('trailer'), false);
    assert.equal(
      rh.headers.get('access-control-expose-headers'),
      'Content-Type, X-Custom, Grpc-Status, Grpc-Message',
    );
    const body = frame(0, Buffer.from('reply'));
    assert.equal(t.responseData(body), body);
    const last = t.responseEnd(
      HeaderList.from([
        ['grpc-status', '0'],
        ['grpc-message', ''],
      ]),
    );
    // Sorted by name, as Go's Header.Write writes them (improbable-eng's copyTrailersToPayload).
    assert.deepEqual(last, frame(0x80, Buffer.from('grpc-message: \r\ngrpc-status: 0\r\n')));
    assert.deepEqual(
      t.responseEnd(null),
      frame(0x80, Buffer.alloc(0)),
      'no trailers: an empty trailers frame',
    );
  });

  it('encodes -text responses chunk by chunk, each padded, so nothing waits for the next chunk', () => {
    const t = new GrpcWebTransform(true);
    const rh: ResponseHead = {
      status: 200,
      reason: 'OK',
      headers: HeaderList.from([['content-type', 'application/grpc']]),
    };
    t.responseHead(rh);
    assert.equal(rh.headers.get('content-type'), 'application/grpc-web-text');
    const one = frame(0, Buffer.from('x'));
    assert.equal(t.responseData(one).toString(), one.toString('base64'));
    const trailer = t.responseEnd(HeaderList.from([['grpc-status', '0']]))!;
    assert.deepEqual(
      Buffer.from(trailer.toString(), 'base64'),
      frame(0x80, Buffer.from('grpc-status: 0\r\n')),
    );
  });
});
