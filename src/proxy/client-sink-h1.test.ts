import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { beforeEach, describe, it, type TestContext } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import type { ResponseHead } from '../core/request.ts';
import { ParseError } from '../http1/parse-error.ts';
import { DEFAULT_REQUEST_LIMITS, type ParsedRequest, parseRequestHead } from '../http1/request-head.ts';
import { type ParsedResponse, parseResponseHead } from '../http1/response-head.ts';
import { Http1Sink } from './client-sink-h1.ts';
import type { EntryPointContext } from './entry-point-context.ts';
import type { Exchange } from './exchange.ts';

/** Every call the sink makes on its socket, in order: what reaches write(2)/writev(2). */
class FakeSocket {
  readonly calls: string[] = [];
  readonly written: Buffer[] = [];
  destroyed = false;
  writeResult = true;
  write(data: string | Buffer, enc?: BufferEncoding): boolean {
    const b = typeof data === 'string' ? Buffer.from(data, enc ?? 'utf8') : data;
    this.calls.push(`write:${typeof data === 'string' ? 'string' : 'buffer'}`);
    this.written.push(b);
    return this.writeResult;
  }
  cork(): void {
    this.calls.push('cork');
  }
  uncork(): void {
    this.calls.push('uncork');
  }
  destroy(): void {
    this.calls.push('destroy');
    this.destroyed = true;
  }
  text(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

function request(raw: string): ParsedRequest {
  const buf = Buffer.from(raw, 'latin1');
  const r = parseRequestHead(buf, 0, buf.length, DEFAULT_REQUEST_LIMITS);
  assert.ok(r !== null && !(r instanceof ParseError));
  return r;
}

function response(raw: string, method = 'GET'): ParsedResponse {
  const buf = Buffer.from(raw, 'latin1');
  const r = parseResponseHead(buf, 0, buf.length, method, 16_384);
  assert.ok(r !== null && !(r instanceof ParseError));
  return r;
}

function exchangeFor(raw: string): Exchange {
  const parsed = request(raw);
  return { parsed, req: { method: parsed.method, headers: parsed.headers } } as unknown as Exchange;
}

function setup(opts: { draining?: boolean; maxRequests?: number; requestCount?: number } = {}) {
  const socket = new FakeSocket();
  const ctx = { draining: opts.draining ?? false, keepAliveMaxRequests: opts.maxRequests ?? 0 };
  const owner = {
    requestCount: opts.requestCount ?? 1,
    tooOld: false,
    exchangeDone: () => {},
    resumeBody: () => {},
    detachForTunnel: () => null,
    clientEnded: false,
  };
  const sink = new Http1Sink(socket as unknown as Socket, '127.0.0.1', ctx as EntryPointContext, owner);
  return { socket, sink };
}

/** The Date line the sink adds to a response without one (RFC 9110 §6.6.1, as Go's server). */
const DATE = 'Date: Sun, 06 Dec 2026 07:00:00 GMT\r\n';
beforeEach((t) =>
  (t as TestContext).mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 6, 7, 0, 0) }),
);

const GET11 = 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n';
const GET10 = 'GET / HTTP/1.0\r\nHost: a.test\r\n\r\n';
const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('Http1Sink: response heads', () => {
  it('writes head and a body that arrived with it in one buffer, one write, no cork', () => {
    const { socket, sink } = setup();
    const res = response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\n');
    const body = Buffer.from('..hello..');
    const close = sink.head(exchangeFor(GET11), 200, 'OK', res, '', false, body, 2, 7);
    assert.equal(close, false);
    assert.deepEqual(socket.calls, ['write:buffer']);
    assert.equal(socket.text(), `HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n${DATE}\r\nhello`);
  });

  it('writes head and a body given as text in one buffer, as head does with bytes', () => {
    const res = response('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-A: b\r\nConnection: keep-alive\r\n\r\n');
    const body = Buffer.from('h\xe9llo\n', 'latin1');
    for (const [raw, draining] of [
      [GET11, false],
      [GET10, false],
      [GET11, true],
    ] as const) {
      const text = setup({ draining });
      const close = text.sink.headText(
        exchangeFor(raw),
        200,
        'OK',
        res,
        'Set-Cookie: s=1\r\n',
        false,
        'h\xe9llo\n',
      );
      assert.deepEqual(text.socket.calls, ['write:buffer']);
      const bytes = setup({ draining });
      const closeBytes = bytes.sink.head(
        exchangeFor(raw),
        200,
        'OK',
        res,
        'Set-Cookie: s=1\r\n',
        false,
        body,
        0,
        body.length,
      );
      assert.equal(close, closeBytes);
      assert.equal(text.socket.text(), bytes.socket.text());
    }
    const { socket, sink } = setup();
    sink.headText(exchangeFor(GET11), 200, 'OK', res, '', false, 'h\xe9llo\n');
    assert.equal(socket.text(), `HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-A: b\r\n${DATE}\r\nh\xe9llo\n`);
  });

  it('corks a head whose body follows and uncorks at the end of the turn', async () => {
    const { socket, sink } = setup();
    const res = response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    sink.head(exchangeFor(GET11), 200, 'OK', res, '', false, null, 0, 0);
    assert.deepEqual(socket.calls, ['cork', 'write:string']);
    sink.data(Buffer.from('hello'), 0, 5);
    await tick();
    assert.deepEqual(socket.calls, ['cork', 'write:string', 'write:buffer', 'uncork']);
    assert.equal(socket.text(), `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n${DATE}\r\nhello`);
  });

  it('writes a bodiless head in one plain write', () => {
    const { socket, sink } = setup();
    sink.head(
      exchangeFor(GET11),
      304,
      'Not Modified',
      response(`HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n${DATE}\r\n`),
      '',
      false,
      null,
      0,
      0,
    );
    assert.deepEqual(socket.calls, ['write:string']);
    assert.equal(socket.text(), `HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n${DATE}\r\n`);
  });

  it('re-chunks a body without length for an HTTP/1.1 client and ends it with the last chunk', async () => {
    const { socket, sink } = setup();
    const res = response('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    sink.head(exchangeFor(GET11), 200, 'OK', res, '', false, null, 0, 0);
    await tick();
    socket.calls.length = 0;
    assert.equal(sink.data(Buffer.from('xxhello world'), 2, 13), true);
    assert.deepEqual(socket.calls, ['cork', 'write:string', 'write:buffer', 'write:string', 'uncork']);
    sink.end(null);
    assert.equal(
      socket.text(),
      `HTTP/1.1 200 OK\r\n${DATE}Transfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n`,
    );
  });

  it('closes instead of chunking for an HTTP/1.0 client', () => {
    const { socket, sink } = setup();
    const res = response('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const close = sink.head(exchangeFor(GET10), 200, 'OK', res, '', false, null, 0, 0);
    assert.equal(close, true);
    sink.data(Buffer.from('raw'), 0, 3);
    sink.end(null);
    assert.equal(socket.text(), `HTTP/1.1 200 OK\r\n${DATE}Connection: close\r\n\r\nraw`);
  });

  it('answers an HTTP/1.0 keep-alive client with Connection: keep-alive', () => {
    const { socket, sink } = setup();
    const ex = exchangeFor('GET / HTTP/1.0\r\nHost: a.test\r\nConnection: keep-alive\r\n\r\n');
    const close = sink.head(
      ex,
      200,
      'OK',
      response('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
      '',
      false,
      null,
      0,
      0,
    );
    assert.equal(close, false);
    assert.equal(
      socket.text(),
      `HTTP/1.1 200 OK\r\nContent-Length: 0\r\n${DATE}Connection: keep-alive\r\n\r\n`,
    );
  });

  it('drops hop-by-hop fields and the ones Connection names, then adds the extra lines', () => {
    const { socket, sink } = setup();
    const res = response(
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nX-Keep: 2\r\nContent-Length: 0\r\n\r\n',
    );
    sink.head(exchangeFor(GET11), 201, 'Made', res, 'Set-Cookie: a=1\r\n', false, null, 0, 0);
    assert.equal(
      socket.text(),
      `HTTP/1.1 201 Made\r\nX-Keep: 2\r\nContent-Length: 0\r\n${DATE}Set-Cookie: a=1\r\n\r\n`,
    );
  });

  it("keeps the upstream's Date and adds none; a response without one gets the proxy's", () => {
    const { socket, sink } = setup();
    const res = response(
      'HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n',
    );
    sink.head(exchangeFor(GET11), 200, 'OK', res, '', false, null, 0, 0);
    assert.equal(
      socket.text(),
      'HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('drops an upstream Content-Length on a 204', () => {
    const { socket, sink } = setup();
    sink.head(
      exchangeFor(GET11),
      204,
      'No Content',
      response('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n'),
      '',
      false,
      null,
      0,
      0,
    );
    assert.equal(socket.text(), `HTTP/1.1 204 No Content\r\n${DATE}\r\n`);
  });

  for (const [name, opts, wantClose] of [
    ['the exchange asks for it', {}, true],
    ['the entry point drains', { draining: true }, false],
    ['keepAliveMaxRequests is reached', { maxRequests: 3, requestCount: 3 }, false],
  ] as const) {
    it(`sends Connection: close when ${name}`, () => {
      const { socket, sink } = setup(opts);
      const res = response('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      assert.equal(sink.head(exchangeFor(GET11), 200, 'OK', res, '', wantClose, null, 0, 0), true);
      assert.match(socket.text(), /\r\nConnection: close\r\n\r\n$/);
    });
  }

  it('passes the socket’s backpressure on', () => {
    const { socket, sink } = setup();
    sink.head(
      exchangeFor(GET11),
      200,
      'OK',
      response('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n'),
      '',
      false,
      null,
      0,
      0,
    );
    socket.writeResult = false;
    assert.equal(sink.data(Buffer.from('abc'), 0, 3), false);
  });
});

describe('Http1Sink: interim, direct and broken responses', () => {
  it('relays every 1xx (fields but for 100) to HTTP/1.1 clients only', () => {
    const { socket, sink } = setup();
    sink.interim(exchangeFor(GET11), response('HTTP/1.1 100 Continue\r\n\r\n'));
    sink.interim(
      exchangeFor(GET11),
      response('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'),
    );
    sink.interim(exchangeFor(GET10), response('HTTP/1.1 100 Continue\r\n\r\n'));
    sink.interim(exchangeFor(GET11), response('HTTP/1.1 102 Processing\r\n\r\n'));
    assert.equal(
      socket.text(),
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n',
    );
  });

  it('writes a direct response head and body in one write', () => {
    const { socket, sink } = setup();
    const rh: ResponseHead = { status: 404, reason: 'Not Found', headers: new HeaderList() };
    assert.equal(sink.direct(exchangeFor(GET11), rh, 'Not Found', 9, false), false);
    assert.deepEqual(socket.calls, ['write:string']);
    assert.equal(socket.text(), `HTTP/1.1 404 Not Found\r\n${DATE}Content-Length: 9\r\n\r\nNot Found`);
  });

  it('sends only the head of a direct response to HEAD, and closes when asked', () => {
    const { socket, sink } = setup();
    const rh: ResponseHead = { status: 503, reason: 'Service Unavailable', headers: new HeaderList() };
    const ex = exchangeFor('HEAD / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    assert.equal(sink.direct(ex, rh, 'Service Unavailable', 19, true), true);
    assert.equal(
      socket.text(),
      `HTTP/1.1 503 Service Unavailable\r\n${DATE}Content-Length: 19\r\nConnection: close\r\n\r\n`,
    );
  });

  it('writes nothing of a direct response once the socket is destroyed', () => {
    const { socket, sink } = setup();
    socket.destroyed = true;
    const rh: ResponseHead = { status: 502, reason: 'Bad Gateway', headers: new HeaderList() };
    sink.direct(exchangeFor(GET11), rh, 'Bad Gateway', 11, false);
    assert.deepEqual(socket.calls, []);
  });

  it('breaks the connection when a response cannot be completed (no final chunk)', () => {
    const { socket, sink } = setup();
    sink.head(
      exchangeFor(GET11),
      200,
      'OK',
      response('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      '',
      false,
      null,
      0,
      0,
    );
    sink.broken();
    assert.equal(socket.destroyed, true);
    assert.doesNotMatch(socket.text(), /0\r\n\r\n$/);
  });
});
