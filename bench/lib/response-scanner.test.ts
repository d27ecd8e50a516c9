import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseScanner } from './response-scanner.ts';

const ok =
  'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n';

function scan(chunks: readonly string[]): { statuses: number[]; pending: number } {
  const s = new ResponseScanner();
  const statuses: number[] = [];
  for (const c of chunks) s.feed(Buffer.from(c, 'latin1'), (status) => statuses.push(status));
  return { statuses, pending: s.pending };
}

describe('ResponseScanner', () => {
  it('frames a Content-Length response, whatever the case of the field name', () => {
    assert.deepEqual(scan([ok]), { statuses: [200], pending: 0 });
    assert.deepEqual(scan([ok.replace('Content-Length', 'content-length')]), { statuses: [200], pending: 0 });
  });

  it('waits for the rest of a response split anywhere, byte by byte included', () => {
    const two = ok + ok.replace('200 OK', '503 Service Unavailable');
    for (let cut = 1; cut < two.length; cut++) {
      assert.deepEqual(
        scan([two.slice(0, cut), two.slice(cut)]),
        { statuses: [200, 503], pending: 0 },
        `cut ${cut}`,
      );
    }
    assert.deepEqual(scan([...two]), { statuses: [200, 503], pending: 0 });
  });

  it('keeps an unfinished response pending without reporting it', () => {
    assert.deepEqual(scan([ok.slice(0, -3)]), { statuses: [], pending: ok.length - 3 });
  });

  it('frames a chunked body, trailers included', () => {
    const chunked =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n world\n\r\n0\r\nX-T: 1\r\n\r\n';
    for (let cut = 1; cut < chunked.length; cut++) {
      assert.deepEqual(scan([chunked.slice(0, cut), chunked.slice(cut) + ok]), {
        statuses: [200, 200],
        pending: 0,
      });
    }
  });

  it('knows that 204, 304 and interim 1xx responses have no body, and skips the 1xx', () => {
    const bodiless = 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n';
    assert.deepEqual(scan([`HTTP/1.1 100 Continue\r\n\r\n${bodiless}${ok}`]), {
      statuses: [204, 304, 200],
      pending: 0,
    });
  });

  it('tells which responses close the connection', () => {
    const s = new ResponseScanner();
    const seen: Array<[number, boolean]> = [];
    const closing = ok.replace('Server: nginx', 'Connection: close');
    const keepAlive = ok.replace('Server: nginx', 'Connection: keep-alive');
    s.feed(Buffer.from(ok + closing + keepAlive), (status, close) => seen.push([status, close]));
    assert.deepEqual(seen, [
      [200, false],
      [200, true],
      [200, false],
    ]);
  });

  it('refuses a body it cannot frame on a keep-alive connection, and bytes that are not a response', () => {
    const s = new ResponseScanner();
    assert.throws(
      () => s.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhi'), () => {}),
      /neither/,
    );
    assert.throws(
      () => new ResponseScanner().feed(Buffer.from('hello world\n'), () => {}),
      /not an HTTP response/,
    );
  });
});
