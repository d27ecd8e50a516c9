import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { ProxyError } from '../core/errors.ts';
import { HeaderList } from '../core/headers.ts';
import { Ticker } from '../core/ticker.ts';
import { BODY_CHUNKED } from '../http1/request-head.ts';
import { E_NO_ERROR, S_MAX_CONCURRENT_STREAMS } from '../http2/frames.ts';
import { H2Pool, type H2PoolOptions } from './h2-pool.ts';
import type { OutgoingRequest, UpstreamResponse, UpstreamStream, UpstreamUser } from './stream.ts';
import { h2PoolOptions, RecordingUser, startH2Server } from './test-h2.ts';
import { startRawH2Server } from './test-raw-h2.ts';

const ticker = new Ticker(20);
after(() => ticker.stop());

function ownPool(port: number, extra: Partial<H2PoolOptions> = {}): H2Pool {
  return new H2Pool(h2PoolOptions(port, extra), ticker, null, 'own');
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 10)) & 0xff;
  return b;
}

/**
 * A user that honours backpressure both ways: request bytes in 16 KiB pieces, waiting for
 * onUpstreamDrain when the stream says so; the response paused on every chunk and resumed a
 * turn later, as a slow client side would.
 */
class SlowUser implements UpstreamUser {
  stream: UpstreamStream | null = null;
  head: UpstreamResponse | null = null;
  readonly chunks: Buffer[] = [];
  interim: number[] = [];
  trailers: HeaderList | null = null;
  ended = false;
  error: { err: ProxyError; phase: string } | null = null;
  /** sendBody answered false (the stream's windows or the socket were full). */
  backpressured = 0;
  readonly done: Promise<void>;
  #resolve!: () => void;
  #upload: Buffer;
  #off = 0;
  readonly #out: OutgoingRequest;
  readonly #pauseEvery: boolean;

  constructor(upload: Buffer, pauseEvery: boolean, headers: [string, string][] = []) {
    this.#upload = upload;
    this.#pauseEvery = pauseEvery;
    this.#out = {
      method: upload.length > 0 ? 'POST' : 'GET',
      target: '/',
      headers: HeaderList.from(headers),
      bodyKind: upload.length > 0 ? BODY_CHUNKED : 0,
      contentLength: 0,
      upgrade: null,
      forwardedFor: null,
      h1Fields: () => '\r\n',
    };
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  onUpstreamReady(stream: UpstreamStream): void {
    this.stream = stream;
    stream.sendHead(this.#out, 'backend.test');
    if (this.#upload.length > 0) this.onUpstreamDrain();
  }

  onUpstreamDrain(): void {
    const s = this.stream!;
    while (this.#off < this.#upload.length) {
      const end = Math.min(this.#off + 16_384, this.#upload.length);
      const piece = this.#upload.subarray(this.#off, end);
      this.#off = end;
      if (!s.sendBody(piece, 0, piece.length)) {
        this.backpressured++;
        return;
      }
    }
    if (this.#off === this.#upload.length) {
      this.#off++;
      s.endBody(null);
    }
  }

  onUpstreamInterim(res: UpstreamResponse): void {
    this.interim.push(res.status);
  }

  onUpstreamHead(res: UpstreamResponse): void {
    this.head = res;
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.chunks.push(Buffer.from(buf.subarray(start, end)));
    if (this.#pauseEvery) {
      const s = this.stream!;
      s.pause();
      setImmediate(() => s.resume());
    }
  }

  onUpstreamEnd(trailers: HeaderList | null): void {
    this.trailers = trailers;
    this.ended = true;
    this.#resolve();
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body'): void {
    this.error = { err, phase };
    this.#resolve();
  }

  onInternalError(e: unknown): void {
    throw e;
  }

  onUpstreamUpgrade(): void {}
}

describe('own HTTP/2 client (experimental.http2Engine: own) against node:http2', () => {
  it('gets a 3 MB response whole to a user that pauses on every chunk (windows credited as it reads)', async (t) => {
    const big = pattern(3 * 1024 * 1024);
    const srv = await startH2Server((s) => {
      s.respond({ ':status': 200 });
      s.end(big);
    });
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    const u = new SlowUser(Buffer.alloc(0), true);
    pool.acquire(u, 'GET');
    await u.done;
    assert.equal(u.error, null);
    assert.equal(u.body.length, big.length);
    assert.equal(sha(u.body), sha(big));
  });

  it('uploads 2 MB to a server with a 16 KiB stream window, under backpressure, byte for byte', async (t) => {
    const upload = pattern(2 * 1024 * 1024 + 123);
    const server = createServer({ settings: { initialWindowSize: 16_384 } });
    let got = '';
    server.on('stream', (stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => {
        chunks.push(d);
        // A slow reader: node returns window credit only as the stream is read.
        stream.pause();
        setImmediate(() => stream.resume());
      });
      stream.on('end', () => {
        got = sha(Buffer.concat(chunks));
        stream.respond({ ':status': 200 });
        stream.end(String(Buffer.concat(chunks).length));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const pool = ownPool((server.address() as AddressInfo).port);
    t.after(async () => {
      pool.close();
      await new Promise((r) => server.close(r));
    });
    const u = new SlowUser(upload, false);
    pool.acquire(u, 'POST');
    await u.done;
    assert.equal(u.error, null);
    assert.equal(u.body.toString(), String(upload.length));
    assert.equal(got, sha(upload));
    assert.ok(u.backpressured > 0, 'the stream window made sendBody say wait');
  });

  it('sends the client trailers of an open-length body, and header blocks larger than a frame both ways', async (t) => {
    const long = 'v'.repeat(40_000);
    const srv = await startH2Server((s, h, body) => {
      s.respond({ ':status': 200, 'x-long': long, 'x-req-long': String(h['x-long']?.length) });
      s.end(`${body.length} ${JSON.stringify(s.sentTrailers ?? null)}`);
    });
    let trailers: Record<string, unknown> = {};
    srv.server.on('stream', (s) => s.on('trailers', (h) => (trailers = h)));
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    const u = new RecordingUser({
      headers: [['x-long', long]],
      body: [Buffer.from('ab'), Buffer.from('cd')],
      trailers: [
        ['x-checksum', '42'],
        ['content-type', 'dropped/in-trailers'],
      ],
    });
    pool.acquire(u, 'POST');
    await u.done;
    assert.equal(u.error, null);
    assert.equal(u.head!.headers.get('x-long'), long);
    assert.equal(u.head!.headers.get('x-req-long'), '40000');
    assert.equal(trailers['x-checksum'], '42');
    assert.equal(trailers['content-type'], undefined);
  });

  it('keeps at most the server limit of streams on a session, and serves 300 requests over it', async (t) => {
    let open = 0;
    let maxOpen = 0;
    const srv = await startH2Server(
      (s) => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        setImmediate(() => {
          open--;
          s.respond({ ':status': 200 });
          s.end('ok');
        });
      },
      { maxConcurrentStreams: 20 },
    );
    const pool = ownPool(srv.port, { maxConns: 1 });
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    // The first request learns the limit (SETTINGS) before the rest are sent.
    const first = new RecordingUser();
    pool.acquire(first, 'GET');
    await first.done;
    const users = Array.from({ length: 300 }, () => new RecordingUser());
    for (const u of users) pool.acquire(u, 'GET');
    await Promise.all(users.map((u) => u.done));
    for (const u of users) assert.equal(u.body, 'ok');
    assert.ok(maxOpen <= 20, `at most 20 streams at once (saw ${maxOpen})`);
    assert.equal(srv.sessions.length, 1);
  });
});

describe('own HTTP/2 client: what nghttp2 refuses for node, refused here too', () => {
  async function answer(
    reply: (peer: Parameters<Parameters<typeof startRawH2Server>[0]>[0], id: number) => void,
  ): Promise<RecordingUser> {
    const srv = await startRawH2Server((peer, id) => reply(peer, id));
    const pool = ownPool(srv.port);
    const u = new RecordingUser();
    pool.acquire(u, 'GET');
    await u.done;
    pool.close();
    await srv.close();
    return u;
  }

  it('a connection-specific field in a response', async () => {
    const u = await answer((p, id) => p.headers(id, [':status', '200', 'connection', 'close'], true));
    assert.equal(u.error!.err.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(u.error!.phase, 'head');
    assert.equal(u.head, null);
  });

  it('a response without :status, or with a request pseudo-header field', async () => {
    const a = await answer((p, id) => p.headers(id, ['x-a', '1'], true));
    assert.match(a.error!.err.message, /missing :status/);
    const b = await answer((p, id) => p.headers(id, [':status', '200', ':path', '/'], true));
    assert.match(b.error!.err.message, /:path/);
  });

  it('101 Switching Protocols (it does not exist in HTTP/2)', async () => {
    const u = await answer((p, id) => p.headers(id, [':status', '101'], false));
    assert.equal(u.error!.err.code, 'UPSTREAM_BAD_RESPONSE');
  });

  it('DATA beyond the Content-Length, or short of it at END_STREAM: a broken body, never an end', async () => {
    const over = await answer((p, id) => {
      p.headers(id, [':status', '200', 'content-length', '3'], false);
      p.writer.data(id, Buffer.from('abcd'), 0, 4, true);
    });
    assert.equal(over.ended, false);
    assert.equal(over.error!.phase, 'body');
    const headOnly = await answer((p, id) => p.headers(id, [':status', '200', 'content-length', '2'], true));
    assert.equal(headOnly.ended, false);
    assert.equal(headOnly.error!.err.code, 'UPSTREAM_BAD_RESPONSE');
    const short = await answer((p, id) => {
      p.headers(id, [':status', '200', 'content-length', '5'], false);
      p.writer.data(id, Buffer.from('abc'), 0, 3, true);
    });
    assert.equal(short.ended, false);
    assert.equal(short.error!.phase, 'body');
  });

  it('relays 103 Early Hints before the final response, and trailers after the body', async (t) => {
    const srv = await startRawH2Server((p, id) => {
      p.headers(id, [':status', '103', 'link', '</a.css>; rel=preload'], false);
      p.headers(id, [':status', '200'], false);
      p.writer.data(id, Buffer.from('body'), 0, 4, false);
      p.headers(id, ['grpc-status', '0'], true);
    });
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    const u = new SlowUser(Buffer.alloc(0), false);
    pool.acquire(u, 'GET');
    await u.done;
    assert.deepEqual(u.interim, [103]);
    assert.equal(u.head!.status, 200);
    assert.equal(u.body.toString(), 'body');
    assert.equal(u.trailers!.get('grpc-status'), '0');
  });

  it('trailers with a pseudo-header field break the body', async () => {
    const u = await answer((p, id) => {
      p.headers(id, [':status', '200'], false);
      p.headers(id, [':status', '200'], true);
    });
    assert.equal(u.ended, false);
    assert.equal(u.error!.phase, 'body');
  });

  it('sends a stream above a GOAWAY last stream id again on a new connection', async () => {
    let first = true;
    const srv = await startRawH2Server(
      (p, id) => {
        if (first) {
          first = false;
          p.writer.goaway(0, E_NO_ERROR);
          return;
        }
        p.headers(id, [':status', '200'], false);
        p.writer.data(id, Buffer.from('second'), 0, 6, true);
      },
      [S_MAX_CONCURRENT_STREAMS, 10],
    );
    const pool = ownPool(srv.port);
    const u = new RecordingUser();
    pool.acquire(u, 'GET');
    await u.done;
    pool.close();
    const conns = srv.connections;
    await srv.close();
    assert.equal(u.body, 'second');
    assert.equal(conns, 2);
    assert.equal(pool.streams.refused, 1);
  });
});
