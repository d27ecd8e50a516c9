import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { header, parseResponses, rawRequest } from './raw-client.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A one-off TCP server whose handler gets every socket; it and its sockets are closed after the test. */
async function server(handler: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    handler(socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  const address = srv.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** Reads until the peer's head is complete, then runs `then`. */
function onHead(socket: net.Socket, then: (socket: net.Socket, received: string) => void): void {
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    if (text.includes('\r\n\r\n')) {
      socket.removeAllListeners('data');
      then(socket, text);
    }
  });
  socket.on('error', () => {});
}

describe('parseResponses', () => {
  it('parses Content-Length, chunked and close-delimited responses in sequence', () => {
    const data = b(
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi' +
        'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n' +
        'HTTP/1.0 200 OK\r\nX: y\r\n\r\nrest of it',
    );
    const r = parseResponses(data, [], true);
    assert.equal(r.error, null);
    assert.deepEqual(
      r.responses.map((x) => [x.status, x.framing, x.body.toString(), x.complete]),
      [
        [200, 'length', 'hi', true],
        [201, 'chunked', 'abc', true],
        [200, 'close', 'rest of it', true],
      ],
    );
    assert.deepEqual(r.responses[1]!.trailers, [['T', '1']]);
    assert.equal(header(r.responses[2]!, 'x'), 'y');
  });

  it('records whether a chunked response had its terminating 0-chunk', () => {
    const truncated = parseResponses(
      b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'),
      [],
      true,
    );
    assert.equal(truncated.responses[0]!.lastChunk, false);
    assert.equal(truncated.responses[0]!.complete, false);
    assert.equal(truncated.responses[0]!.body.toString(), 'abc');
    const noFinalCrlf = parseResponses(
      b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n'),
      [],
      true,
    );
    assert.equal(noFinalCrlf.responses[0]!.lastChunk, true);
    assert.equal(noFinalCrlf.responses[0]!.complete, false);
  });

  it('marks a short Content-Length body and an unclosed close-delimited body incomplete', () => {
    assert.equal(
      parseResponses(b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'), [], true).responses[0]!.complete,
      false,
    );
    assert.equal(parseResponses(b('HTTP/1.1 200 OK\r\n\r\nab'), [], false).responses[0]!.complete, false);
  });

  it('gives HEAD, 1xx, 204 and 304 responses no body', () => {
    const data = b(
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n',
    );
    const r = parseResponses(data, ['HEAD', 'GET', 'GET']);
    assert.equal(r.error, null);
    assert.deepEqual(
      r.responses.map((x) => [x.status, x.body.length]),
      [
        [100, 0],
        [200, 0],
        [204, 0],
        [304, 0],
      ],
    );
  });

  it('stops at a 101 and leaves the upgraded bytes in rest', () => {
    const r = parseResponses(b('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00'));
    assert.equal(r.responses.length, 1);
    assert.deepEqual([...r.rest], [0x81, 0x00]);
  });

  it('refuses what a strict client refuses', () => {
    for (const bad of [
      'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n',
      'HTTP/1.1 2000 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ]) {
      assert.ok(parseResponses(b(bad), [], true).error !== null, JSON.stringify(bad));
    }
  });
});

describe('rawRequest', () => {
  it('sends exact bytes and reports the response and a FIN close', async () => {
    let seen = '';
    const port = await server((s) =>
      onHead(s, (socket, text) => {
        seen = text;
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      }),
    );
    const r = await rawRequest(port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(seen, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(r.closedBy, 'fin');
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.status, 200);
    assert.equal(r.responses[0]!.body.toString(), 'ok');
    assert.equal(r.parseError, null);
  });

  it('writes parts in order with pauses between them', async () => {
    const pieces: string[] = [];
    const port = await server((s) => {
      s.on('data', (d: Buffer) => {
        pieces.push(d.toString('latin1'));
        if (pieces.join('').endsWith('\r\n\r\n')) s.end('HTTP/1.1 204 No Content\r\n\r\n');
      });
    });
    const r = await rawRequest(port, ['GET / HTTP/1.1\r\n', { delayMs: 20 }, b('Host: a\r\n'), '\r\n'], {
      delayMs: 5,
    });
    assert.equal(pieces.join(''), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.ok(pieces.length >= 2, `the server saw ${pieces.length} read(s)`);
    assert.equal(r.responses[0]!.status, 204);
  });

  it('reports an RST as closedBy rst and a truncated chunked body as incomplete', async () => {
    const port = await server((s) =>
      onHead(s, (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', () =>
          socket.resetAndDestroy(),
        );
      }),
    );
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(r.closedBy, 'rst');
    assert.equal(r.responses[0]?.lastChunk ?? false, false);
    assert.equal(r.responses[0]?.complete ?? false, false);
  });

  it('reports a silent server as a timeout', async () => {
    const port = await server((s) => s.on('error', () => {}));
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 50 });
    assert.equal(r.closedBy, 'timeout');
    assert.equal(r.data.length, 0);
  });

  it('stops after the expected number of responses on a kept-alive connection', async () => {
    const port = await server((s) => {
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        while (text.includes('\r\n\r\n')) {
          text = text.slice(text.indexOf('\r\n\r\n') + 4);
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
        }
      });
      s.on('error', () => {});
    });
    const req = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    const r = await rawRequest(port, req + req, { responses: 2, timeoutMs: 5000 });
    assert.equal(r.closedBy, 'client');
    assert.equal(r.responses.length, 2);
  });

  it('frames a HEAD response by the method it is told', async () => {
    const port = await server((s) =>
      onHead(s, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n')),
    );
    const r = await rawRequest(port, 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', { methods: ['HEAD'] });
    assert.equal(r.responses[0]!.complete, true);
    assert.equal(r.responses[0]!.body.length, 0);
  });
});
