import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { FakeUpstream, httpResponse, parseRequests, requestHeader } from './fake-upstream.ts';
import { rawRequest } from './raw-client.ts';

async function start(...args: Parameters<typeof FakeUpstream.start>): Promise<FakeUpstream> {
  const up = await FakeUpstream.start(...args);
  after(() => up.close());
  return up;
}

describe('parseRequests', () => {
  it('splits pipelined requests with Content-Length and chunked bodies', () => {
    const data = Buffer.from(
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi' +
        'POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e\r\nabc\r\n0\r\nT: 1\r\n\r\n' +
        'GET /c HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /partial HTTP/1.1\r\n',
      'latin1',
    );
    const { requests, consumed } = parseRequests(data);
    assert.deepEqual(
      requests.map((r) => [r.method, r.target, r.framing, r.body.toString()]),
      [
        ['POST', '/a', 'length', 'hi'],
        ['POST', '/b', 'chunked', 'abc'],
        ['GET', '/c', 'none', ''],
      ],
    );
    assert.equal(requests[1]!.rawBody.toString(), '3;e\r\nabc\r\n0\r\nT: 1\r\n\r\n');
    assert.equal(consumed, data.length - 'GET /partial HTTP/1.1\r\n'.length);
  });
});

describe('FakeUpstream', () => {
  it('answers 200 ok by default and records what a real client sent', async () => {
    const up = await start();
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { port: up.port, host: '127.0.0.1', method: 'POST', path: '/p?q=1', headers: { 'x-a': 'b' } },
        (res) => {
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end('payload');
    });
    assert.equal(body, 'ok');
    const [r] = up.requests;
    assert.ok(r !== undefined);
    assert.equal(r.method, 'POST');
    assert.equal(r.target, '/p?q=1');
    assert.equal(requestHeader(r, 'X-A'), 'b');
    assert.equal(r.body.toString(), 'payload');
    assert.match(r.head, /^POST \/p\?q=1 HTTP\/1\.1\r\n/);
  });

  it('runs a script that waits for requests and writes arbitrary bytes, then ends', async () => {
    const up = await start(async (conn) => {
      const first = await conn.request(1);
      conn.write(httpResponse(200, first.target));
      await conn.request(2);
      conn.end('HTTP/1.1 500 Odd\r\nContent-Length: 0\r\n\r\n');
    });
    const req = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const r = await rawRequest(up.port, [req('/one'), req('/two')]);
    assert.equal(r.closedBy, 'fin');
    assert.deepEqual(
      r.responses.map((x) => [x.status, x.body.toString()]),
      [
        [200, '/one'],
        [500, ''],
      ],
    );
    assert.equal(await up.connections[0]!.closed, 'fin');
  });

  it('can reset a connection (RST) after a partial response', async () => {
    const up = await start(async (conn) => {
      await conn.request(1);
      conn.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf');
      setImmediate(() => conn.reset());
    });
    const r = await rawRequest(up.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(r.closedBy, 'rst');
    assert.equal(r.responses[0]?.complete ?? false, false);
  });

  it('stays silent when the script does nothing, and records the bytes anyway', async () => {
    const up = await start(() => {});
    const r = await rawRequest(up.port, 'GET /quiet HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 50 });
    assert.equal(r.closedBy, 'timeout');
    assert.equal(up.connections.length, 1);
    const [req] = await up.connections[0]!.waitForRequests(1);
    assert.equal(req?.target, '/quiet');
  });

  it('rejects a wait when the connection closes first, and counts connections', async () => {
    const up = await start(async (conn) => {
      await assert.rejects(conn.waitForRequests(1), /closed before 1 request/);
    });
    await rawRequest(up.port, 'GET / HTTP/1.1\r\n', { end: true, timeoutMs: 1000 });
    await up.connections[0]!.closed;
    assert.equal(up.connections.length, 1);
    assert.equal(up.connections[0]!.received.toString(), 'GET / HTTP/1.1\r\n');
    assert.deepEqual(up.scriptErrors, []);
  });

  it('collects script errors instead of crashing', async () => {
    const up = await start(() => {
      throw new Error('boom');
    });
    const r = await rawRequest(up.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.notEqual(r.closedBy, 'timeout');
    assert.equal(up.scriptErrors.length, 1);
  });
});
