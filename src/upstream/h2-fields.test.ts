import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  type BodyKind,
  CONNECT_TUNNEL,
} from '../http1/request-head.ts';
import { h2RequestFields, h2Response, trailersObject } from './h2-fields.ts';
import { checkRequestFields } from './h2-request-check.ts';

function out(
  headers: [string, string][],
  bodyKind: BodyKind = BODY_NONE,
  contentLength = 0,
  forwardedFor: string | null = null,
) {
  return {
    method: 'POST',
    target: '/svc/Method?x=1',
    headers: HeaderList.from(headers),
    bodyKind,
    contentLength,
    upgrade: null,
    forwardedFor,
    h1Fields: () => '',
  };
}

describe('HTTP/2 header mapping to upstreams', () => {
  it('puts pseudo-header fields first and drops what HTTP/2 forbids', () => {
    const raw = h2RequestFields(
      out(
        [
          ['Host', 'a.test'],
          ['Connection', 'keep-alive'],
          ['Keep-Alive', 'timeout=5'],
          ['Transfer-Encoding', 'chunked'],
          ['Upgrade', 'h2c'],
          ['X-Trace', 'abc'],
          ['Content-Length', '3'],
        ],
        BODY_LENGTH,
        3,
      ),
      'backend:50051',
      'http',
    );
    assert.deepEqual(raw, [
      ':method',
      'POST',
      ':scheme',
      'http',
      ':authority',
      'backend:50051',
      ':path',
      '/svc/Method?x=1',
      'x-trace',
      'abc',
      'content-length',
      '3',
    ]);
  });

  it("sends an HTTP/2 client's CONNECT as :method and :authority only (x/net/http2 encodeHeaders)", () => {
    const connect = (bodyKind: BodyKind, contentLength: number) => ({
      ...out([['X-A', '1']], bodyKind, contentLength, '10.0.0.1'),
      method: 'CONNECT',
      target: '/',
      upgrade: CONNECT_TUNNEL,
    });
    const raw = h2RequestFields(connect(BODY_NONE, -1), 'target.test:443', 'http');
    assert.deepEqual(raw, [
      ':method',
      'CONNECT',
      ':authority',
      'target.test:443',
      'x-a',
      '1',
      'x-forwarded-for',
      '10.0.0.1',
    ]);
    assert.equal(checkRequestFields(raw, 1 << 16), null);
    // A declared length is sent (Traefik's connectHandler does not defer such a body).
    assert.deepEqual(h2RequestFields(connect(BODY_LENGTH, 3), 'a:1', 'http').slice(-2), [
      'content-length',
      '3',
    ]);
    // The authority is checked where this layout has it.
    const bad = h2RequestFields(connect(BODY_NONE, -1), 'a\r\n:1', 'http');
    assert.match(checkRequestFields(bad, 1 << 16)?.message ?? '', /:authority/);
  });

  it('keeps te: trailers when the client sent it, and adds it for gRPC', () => {
    const kept = h2RequestFields(out([['TE', 'trailers, deflate;q=0.5']]), 'b', 'https');
    assert.deepEqual(kept.slice(8), ['te', 'trailers']);
    const dropped = h2RequestFields(out([['TE', 'gzip']]), 'b', 'https');
    assert.deepEqual(dropped.slice(8), []);
    const grpc = h2RequestFields(
      out([['content-type', 'application/grpc+proto']], BODY_CHUNKED),
      'b',
      'http',
    );
    assert.deepEqual(grpc.slice(8), ['content-type', 'application/grpc+proto', 'te', 'trailers']);
  });

  it("appends the peer to x-forwarded-for as Go's ReverseProxy does: its lines joined, one field", () => {
    const fields = (h: [string, string][], peer: string | null) =>
      h2RequestFields(out(h, BODY_NONE, 0, peer), 'b', 'http').slice(8);
    assert.deepEqual(fields([['X-A', '1']], '192.0.2.1'), ['x-a', '1', 'x-forwarded-for', '192.0.2.1']);
    assert.deepEqual(
      fields(
        [
          ['X-Forwarded-For', '203.0.113.1'],
          ['X-A', '1'],
          ['x-forwarded-for', ''],
        ],
        '2001:db8::1',
      ),
      ['x-forwarded-for', '203.0.113.1, , 2001:db8::1', 'x-a', '1'],
    );
    // null (notAppendXForwardedFor, a nil field, forwardAuth's own): the lines as they are.
    assert.deepEqual(
      fields(
        [
          ['X-Forwarded-For', '203.0.113.1'],
          ['X-Forwarded-For', '198.51.100.2'],
        ],
        null,
      ),
      ['x-forwarded-for', '203.0.113.1', 'x-forwarded-for', '198.51.100.2'],
    );
  });

  it('frames a response by END_STREAM, method, status and Content-Length', () => {
    assert.equal(h2Response(200, [':status', '200'], true, 'GET').bodyKind, BODY_NONE);
    assert.equal(
      h2Response(200, [':status', '200', 'content-length', '5'], false, 'HEAD').bodyKind,
      BODY_NONE,
    );
    assert.equal(h2Response(204, [':status', '204'], false, 'GET').bodyKind, BODY_NONE);
    const len = h2Response(200, [':status', '200', 'content-length', '5'], false, 'GET');
    assert.equal(len.bodyKind, BODY_LENGTH);
    assert.equal(len.contentLength, 5);
    const open = h2Response(200, [':status', '200', 'content-length', 'x'], false, 'GET');
    assert.equal(open.bodyKind, BODY_CHUNKED);
    assert.equal(open.trailers, true);
    assert.equal(open.headers.has(':status'), false);
  });

  it('keeps only fields allowed in trailers, repeated ones as lists', () => {
    const t = trailersObject(
      HeaderList.from([
        ['grpc-status', '0'],
        ['x-a', '1'],
        ['x-a', '2'],
        ['content-length', '5'],
        ['connection', 'close'],
      ]),
    );
    assert.deepEqual({ ...t }, { 'grpc-status': '0', 'x-a': ['1', '2'] });
  });
});
