import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startOtlpGrpcReceiver } from '../../test/helpers/otlp-receiver.ts';
import { OtlpGrpcClient, splitHostPort } from './otlp-grpc.ts';
import { encodeExportRequest } from './otlp-proto.ts';
import { encodeResource, encodeTraces } from './tracing/otlp-json.ts';

const BODY = encodeExportRequest(
  'traces',
  encodeTraces(encodeResource('svc', {}), [
    {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      parentSpanId: undefined,
      tracestate: undefined,
      name: 'n',
      startEpochMs: 1,
      endEpochMs: 2,
      status: 200,
      attributes: [],
    },
  ]),
);

/** A bare h2c server: what arrived, and each stream answered by `answer`. */
async function rawServer(answer: (stream: ServerHttp2Stream) => void): Promise<{
  hostPort: string;
  got: Array<{ headers: IncomingHttpHeaders; body: Buffer }>;
  close(): Promise<void>;
}> {
  const got: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      got.push({ headers, body: Buffer.concat(chunks) });
      answer(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    got,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function client(hostPort: string, over: Partial<ConstructorParameters<typeof OtlpGrpcClient>[0]> = {}) {
  return new OtlpGrpcClient({
    signal: 'traces',
    endpoint: hostPort,
    insecure: true,
    headers: {},
    timeoutMs: 10_000,
    ...over,
  });
}

describe('OtlpGrpcClient', () => {
  it('makes one unary Export call: gzip-compressed length-prefixed message, metadata, deadline', async () => {
    const s = await rawServer((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    const c = client(s.hostPort, { headers: { 'X-Tenant': 'one' }, timeoutMs: 2_500 });
    try {
      assert.equal(await c.send(BODY), null);
      const [{ headers, body }] = s.got as [{ headers: IncomingHttpHeaders; body: Buffer }];
      assert.equal(headers[':method'], 'POST');
      assert.equal(headers[':path'], '/opentelemetry.proto.collector.trace.v1.TraceService/Export');
      assert.equal(headers['content-type'], 'application/grpc');
      assert.equal(headers.te, 'trailers');
      assert.equal(headers['grpc-encoding'], 'gzip');
      assert.equal(headers['grpc-timeout'], '2500m');
      assert.equal(headers['x-tenant'], 'one');
      assert.equal(body[0], 1, 'the compressed flag');
      assert.equal(body.readUInt32BE(1), body.length - 5);
      assert.deepEqual(gunzipSync(body.subarray(5)), BODY);
    } finally {
      c.close();
      await s.close();
    }
  });

  it('reports the gRPC status of a refused call, trailers-only answers included', async () => {
    const s = await rawServer((stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '14',
          'grpc-message': 'busy%20now',
        },
        { endStream: true },
      );
    });
    const c = client(s.hostPort);
    try {
      assert.deepEqual(await c.send(BODY), { grpcStatus: 'Unavailable', grpcMessage: 'busy now' });
    } finally {
      c.close();
      await s.close();
    }
  });

  it('gives up at the deadline when the collector does not answer', async () => {
    const s = await rawServer(() => {});
    const c = client(s.hostPort, { timeoutMs: 100 });
    try {
      const failure = await c.send(BODY);
      assert.equal(failure?.grpcStatus, 'DeadlineExceeded');
    } finally {
      c.close();
      await s.close();
    }
  });

  it('fails, without throwing, when nothing listens', async () => {
    const r = await startOtlpGrpcReceiver();
    const hostPort = r.hostPort;
    await r.close();
    const c = client(hostPort);
    try {
      assert.notEqual(await c.send(BODY), null);
    } finally {
      c.close();
    }
  });

  it('is read by a real gRPC server (@grpc/grpc-js)', async () => {
    const r = await startOtlpGrpcReceiver();
    const c = client(r.hostPort);
    try {
      assert.equal(await c.send(BODY), null);
      assert.equal(await c.send(BODY), null, 'the connection is kept and reused');
      assert.equal(r.spans.length, 2);
      assert.equal(r.spans[0]!.traceId, 'a'.repeat(32));
      r.failNext(1);
      assert.deepEqual(await c.send(BODY), { grpcStatus: 'Unavailable', grpcMessage: 'failing on purpose' });
    } finally {
      c.close();
      await r.close();
    }
  });
});

describe('splitHostPort', () => {
  it('takes host:port and [v6]:port, and refuses the rest with Go net.SplitHostPort reasons', () => {
    assert.deepEqual(splitHostPort('localhost:4317'), { host: 'localhost', port: '4317' });
    assert.deepEqual(splitHostPort('[::1]:4317'), { host: '::1', port: '4317' });
    assert.deepEqual(splitHostPort(':4317'), { host: '', port: '4317' });
    assert.throws(() => splitHostPort('collector'), /missing port in address/);
    assert.throws(() => splitHostPort('http://collector:4317'), /too many colons in address/);
    assert.throws(() => splitHostPort('::1:4317'), /too many colons in address/);
    assert.throws(() => splitHostPort('[::1]'), /missing port in address/);
  });
});
