import assert from 'node:assert/strict';
import { beforeEach, describe, it, type TestContext } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import { ParseError } from '../http1/parse-error.ts';
import { type ParsedResponse, parseResponseHead } from '../http1/response-head.ts';
import { directResponseFields, interimFields, upstreamResponseFields } from './response-fields.ts';

/** The date the proxy adds to a response without one (RFC 9110 §6.6.1, as Go's server). */
const DATE = 'Sun, 06 Dec 2026 07:00:00 GMT';
beforeEach((t) =>
  (t as TestContext).mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 6, 7, 0, 0) }),
);

function response(raw: string): ParsedResponse {
  const buf = Buffer.from(raw, 'latin1');
  const r = parseResponseHead(buf, 0, buf.length, 'GET', 16_384);
  assert.ok(r !== null && !(r instanceof ParseError));
  return r;
}

describe('upstreamResponseFields', () => {
  it('lowercases names, keeps order and repeats, drops connection-specific and Connection-named fields', () => {
    const res = response(
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\n' +
        'Set-Cookie: a=1\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nSet-Cookie: b=2\r\nContent-Type: text/plain\r\n\r\n',
    );
    assert.deepEqual(upstreamResponseFields(201, res, 'Set-Cookie: lb=x; Path=/\r\n', true), [
      ':status',
      '201',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'content-type',
      'text/plain',
      'date',
      DATE,
      'set-cookie',
      'lb=x; Path=/',
    ]);
  });

  it('keeps the upstream content-length unless told to drop it', () => {
    const res = response('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n');
    assert.deepEqual(upstreamResponseFields(200, res, '', false), [
      ':status',
      '200',
      'content-length',
      '3',
      'date',
      DATE,
    ]);
    assert.deepEqual(upstreamResponseFields(200, res, '', true), [':status', '200', 'date', DATE]);
  });

  it("keeps the upstream's date and adds none", () => {
    const res = response('HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n');
    assert.deepEqual(upstreamResponseFields(200, res, '', true), [
      ':status',
      '200',
      'date',
      'Mon, 01 Jan 2024 00:00:00 GMT',
    ]);
  });
});

describe('directResponseFields', () => {
  it('frames the body by its length, adds a text content-type, drops what HTTP/2 forbids', () => {
    const headers = HeaderList.from([
      ['Location', '/x'],
      ['Connection', 'close'],
      ['Content-Length', '99'],
    ]);
    assert.deepEqual(directResponseFields({ status: 302, reason: 'Found', headers }, 5), [
      ':status',
      '302',
      'location',
      '/x',
      'date',
      DATE,
      'content-length',
      '5',
    ]);
  });
});

describe('interimFields', () => {
  it('keeps the Link fields of a 103', () => {
    const res = response(
      'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n',
    );
    assert.deepEqual(
      { ...interimFields(res) },
      {
        ':status': '103',
        link: ['</a.css>; rel=preload', '</b.js>; rel=preload'],
      },
    );
  });
});
