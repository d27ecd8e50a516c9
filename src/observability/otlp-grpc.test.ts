import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startOtlpGrpcReceiver } from '../../test/helpers/otlp-receiver.ts';
import { OtlpGrpcClient, retryDelayOf, splitHostPort } from './otlp-grpc.ts';
import { encodeExportRequest } from './otlp-proto.ts';
import { grpcRetryable, RetryingSender } from './otlp-retry.ts';
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
      kind: 2,
      remoteParent: false,
      startEpochMs: 1,
      endEpochMs: 2,
      error: false,
      message: '',
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

/** A protobuf varint. */
function pbVarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field. */
function pbBytes(field: number, b: Buffer): Buffer {
  return Buffer.concat([pbVarint(field * 8 + 2), pbVarint(b.length), b]);
}

/**
 * A google.rpc.Status (code, message, details) in base64, as grpc-status-details-bin carries it,
 * its details a google.rpc.RetryInfo of `delayMs` (or another message's Any when `typeUrl` says so).
 */
function statusDetails(
  code: number,
  delayMs: number,
  typeUrl = 'type.googleapis.com/google.rpc.RetryInfo',
): string {
  const seconds = Math.floor(delayMs / 1000);
  const nanos = (delayMs % 1000) * 1e6;
  const duration = Buffer.concat([
    seconds > 0 ? Buffer.concat([pbVarint(8), pbVarint(seconds)]) : Buffer.alloc(0),
    nanos > 0 ? Buffer.concat([pbVarint(16), pbVarint(nanos)]) : Buffer.alloc(0),
  ]);
  const retryInfo = pbBytes(1, duration);
  const any = Buffer.concat([pbBytes(1, Buffer.from(typeUrl)), pbBytes(2, retryInfo)]);
  const status = Buffer.concat([
    pbVarint(8),
    pbVarint(code),
    pbBytes(2, Buffer.from('slow down')),
    pbBytes(3, any),
  ]);
  // grpc-go sends it unpadded.
  return status.toString('base64').replace(/=+$/, '');
}

describe('RetryInfo in the status details (grpc-status-details-bin)', () => {
  it("reads the first RetryInfo's delay, and nothing from other details", () => {
    assert.equal(retryDelayOf(statusDetails(8, 1500)), 1500);
    assert.equal(retryDelayOf(statusDetails(14, 200)), 200);
    assert.equal(retryDelayOf(statusDetails(8, 0)), 0);
    assert.equal(retryDelayOf(statusDetails(8, 1500, 'type.googleapis.com/google.rpc.DebugInfo')), undefined);
    assert.equal(retryDelayOf('not protobuf!'), undefined);
  });

  /** Answers each call in turn: a trailers-only status (with its details), or OK. */
  async function scripted(answers: Array<{ status: string; details?: string } | 'ok'>) {
    return rawServer((stream) => {
      const a = answers.shift() ?? 'ok';
      if (a === 'ok') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
        return;
      }
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': a.status,
          ...(a.details === undefined ? {} : { 'grpc-status-details-bin': a.details }),
        },
        { endStream: true },
      );
    });
  }

  it('ResourceExhausted is retried after the RetryInfo delay, as otlptracegrpc retryableGRPCStatus does', async () => {
    const s = await scripted([{ status: '8', details: statusDetails(8, 50) }, 'ok']);
    const c = client(s.hostPort);
    const waits: number[] = [];
    const sender = new RetryingSender(c, {
      retryable: grpcRetryable,
      budgetMs: 10_000,
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
        return true;
      },
    });
    try {
      assert.equal(await sender.send(BODY), null, 'retried, then accepted');
      assert.equal(s.got.length, 2);
      // The backoff (2.5 s at its lowest) is longer than 50 ms: Go waits the greater of the two.
      assert.deepEqual(waits, [2500]);
    } finally {
      c.close();
      await s.close();
    }
  });

  it('the client reports the delay with the status', async () => {
    const s = await scripted([{ status: '8', details: statusDetails(8, 50) }]);
    const c = client(s.hostPort);
    try {
      assert.deepEqual(await c.send(BODY), { grpcStatus: 'ResourceExhausted', retryDelayMs: 50 });
    } finally {
      c.close();
      await s.close();
    }
  });

  it('a RetryInfo longer than the backoff is waited for; ResourceExhausted without one is not retried', async () => {
    const s = await scripted([{ status: '14', details: statusDetails(14, 7000) }, 'ok']);
    const c = client(s.hostPort);
    const waits: number[] = [];
    const sender = new RetryingSender(c, {
      retryable: grpcRetryable,
      budgetMs: 10_000,
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
        return true;
      },
    });
    try {
      assert.equal(await sender.send(BODY), null);
      assert.deepEqual(waits, [7000]);
    } finally {
      c.close();
      await s.close();
    }
    const s2 = await scripted([{ status: '8' }, 'ok']);
    const c2 = client(s2.hostPort);
    const sender2 = new RetryingSender(c2, { retryable: grpcRetryable, budgetMs: 10_000 });
    try {
      assert.deepEqual(await sender2.send(BODY), { grpcStatus: 'ResourceExhausted' });
      assert.equal(s2.got.length, 1);
    } finally {
      c2.close();
      await s2.close();
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
