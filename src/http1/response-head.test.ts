import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from './parse-error.ts';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE } from './request-head.ts';
import { BODY_CLOSE, type ParsedResponse, parseResponseHead } from './response-head.ts';

const MAX = 65536;

function parse(s: string, method = 'GET', max = MAX): ParsedResponse | ParseError | null {
  const buf = Buffer.from(s, 'latin1');
  return parseResponseHead(buf, 0, buf.length, method, max);
}

function ok(s: string, method = 'GET'): ParsedResponse {
  const r = parse(s, method);
  assert.ok(r !== null, `incomplete: ${JSON.stringify(s)}`);
  assert.ok(
    !(r instanceof ParseError),
    `rejected (${r instanceof ParseError ? r.reason : ''}): ${JSON.stringify(s)}`,
  );
  return r;
}

function bad(s: string, method = 'GET', max = MAX): ParseError {
  const r = parse(s, method, max);
  assert.ok(
    r instanceof ParseError,
    `expected 502, got ${r === null ? 'incomplete' : 'a response'}: ${JSON.stringify(s.slice(0, 100))}`,
  );
  assert.equal(r.status, 502);
  return r;
}

const res = (fields: string, status = '200 OK', version = 'HTTP/1.1'): string =>
  `${version} ${status}\r\n${fields}\r\n`;

describe('parseResponseHead: status line', () => {
  it('parses version, status, reason and fields', () => {
    const r = ok(res('Content-Length: 2\r\nX-A:  b \r\n', '201 Created Now'));
    assert.equal(r.versionMinor, 1);
    assert.equal(r.status, 201);
    assert.equal(r.reason, 'Created Now');
    assert.deepEqual(r.headers.names, ['Content-Length', 'X-A']);
    assert.deepEqual(r.headers.values, ['2', 'b']);
    assert.equal(r.headLength, res('Content-Length: 2\r\nX-A:  b \r\n', '201 Created Now').length);
  });

  it('accepts a status line without a reason phrase, with or without the space', () => {
    assert.equal(ok('HTTP/1.1 204\r\n\r\n').reason, '');
    assert.equal(ok('HTTP/1.1 204 \r\n\r\n').reason, '');
  });

  it('keeps obs-text in the reason phrase', () =>
    assert.equal(ok(res('Content-Length: 0\r\n', '200 \xe9t\xe9')).reason, '\xe9t\xe9'));

  for (const line of [
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 099 Low',
    'HTTP/1.1 20x OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1 200OK',
    'HTTP/2 200 OK',
    'HTTP/2.0 200 OK',
    'HTTP/1.2 200 OK',
    'http/1.1 200 OK',
    'ICY 200 OK',
    'HTTP/1.1 200 O\x00K',
    'HTTP/1.1 200 O\rK',
  ]) {
    it(`rejects the status line ${JSON.stringify(line)} with 502`, () => {
      bad(`${line}\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  it('rejects status codes outside 100..599 (RFC 9110 §15: invalid) with 502', () => {
    bad('HTTP/1.1 600 Custom\r\nContent-Length: 0\r\n\r\n');
    bad('HTTP/1.1 999 Custom\r\nContent-Length: 0\r\n\r\n');
  });

  it('fails fast on a response that does not start like HTTP/1.x', () => {
    bad('<html>');
    bad('SSH-2.0-OpenSSH\r\n');
    assert.equal(parse('HTT'), null);
  });
});

describe('parseResponseHead: header fields', () => {
  it('rejects a bare LF as a line end', () => {
    bad('HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n');
    bad(res('X: a\nY: b\r\nContent-Length: 0\r\n'));
  });

  it('rejects obs-fold, whitespace before the colon and an empty name', () => {
    bad(res('X: a\r\n b\r\nContent-Length: 0\r\n'));
    bad(res('Content-Length : 0\r\n'));
    bad(res(': a\r\nContent-Length: 0\r\n'));
  });

  it('rejects NUL, bare CR and DEL in a value', () => {
    for (const v of ['a\x00', 'a\rb', 'a\x7f']) bad(res(`X: ${v}\r\nContent-Length: 0\r\n`));
  });

  it('rejects a head larger than the limit, complete or not', () => {
    const fields = `X: ${'v'.repeat(200)}\r\nContent-Length: 0\r\n`;
    bad(res(fields), 'GET', 128);
    bad(`HTTP/1.1 200 OK\r\nX: ${'v'.repeat(200)}`, 'GET', 128);
    assert.ok(!(parse(res(fields), 'GET', 512) instanceof ParseError));
  });

  it('returns null for every proper prefix of a valid head', () => {
    const s = res('Content-Length: 2\r\nConnection: keep-alive\r\n');
    const buf = Buffer.from(s, 'latin1');
    for (let end = 0; end < buf.length; end++)
      assert.equal(parseResponseHead(buf, 0, end, 'GET', MAX), null, `prefix ${end}`);
  });

  it('finds the end of a head on either side of the first KiB, and none in bytes past the read', () => {
    // The first 1,024 bytes are searched as a string, a longer head in the buffer.
    for (const pad of [900, 1000, 1010, 1013, 1014, 1015, 1016, 1017, 1020, 1030, 3000]) {
      const head = res(`X-Pad: ${'p'.repeat(pad)}\r\nContent-Length: 2\r\n`);
      const body = `hi${'z'.repeat(2000)}`;
      const buf = Buffer.from(`${head}${body}`, 'latin1');
      const r = parseResponseHead(buf, 0, buf.length, 'GET', MAX);
      assert.ok(r !== null && !(r instanceof ParseError), `pad ${pad}`);
      assert.equal(r.headLength, head.length, `pad ${pad}`);
      assert.equal(r.headers.get('x-pad'), 'p'.repeat(pad));
      assert.equal(r.headers.get('content-length'), '2');
      assert.equal(r.headers.names.length, 2, 'no field taken from the body');
      // Every proper prefix of the head is incomplete, also where the buffer holds the rest.
      for (const end of [
        head.length - 1,
        head.length - 2,
        head.length - 3,
        Math.min(1024, head.length - 1),
      ]) {
        assert.equal(parseResponseHead(buf, 0, end, 'GET', MAX), null, `pad ${pad}, end ${end}`);
      }
    }
  });

  it('parses at an offset and ignores the body after the head', () => {
    const head = res('Content-Length: 2\r\n');
    const buf = Buffer.from(`junk${head}hi`, 'latin1');
    const r = parseResponseHead(buf, 4, buf.length, 'GET', MAX);
    assert.ok(r !== null && !(r instanceof ParseError));
    assert.equal(r.headLength, head.length);
  });
});

describe('parseResponseHead: framing (RFC 9112 §6.3)', () => {
  it('gives a HEAD response no body whatever its framing fields say', () => {
    const r = ok(res('Content-Length: 100\r\n'), 'HEAD');
    assert.equal(r.bodyKind, BODY_NONE);
    assert.equal(r.reusable, true);
    assert.equal(ok(res('Transfer-Encoding: chunked\r\n'), 'HEAD').bodyKind, BODY_NONE);
  });

  it('gives 1xx, 204 and 304 responses no body', () => {
    for (const status of ['100 Continue', '103 Early Hints', '204 No Content', '304 Not Modified']) {
      const r = ok(res('Content-Length: 10\r\n', status));
      assert.equal(r.bodyKind, BODY_NONE, status);
      assert.equal(r.reusable, true, status);
    }
    assert.equal(ok(res('Transfer-Encoding: chunked\r\n', '304 Not Modified')).bodyKind, BODY_NONE);
  });

  it('reads Transfer-Encoding: chunked as a chunked body on a reusable connection', () => {
    const r = ok(res('Transfer-Encoding: chunked\r\n'));
    assert.equal(r.bodyKind, BODY_CHUNKED);
    assert.equal(r.reusable, true);
  });

  it('lets chunked win over Content-Length but never reuses the connection', () => {
    for (const fields of [
      'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n',
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
    ]) {
      const r = ok(res(fields));
      assert.equal(r.bodyKind, BODY_CHUNKED);
      assert.equal(r.reusable, false);
    }
  });

  it('rejects a transfer coding before chunked (we cannot re-frame it) with 502', () => {
    bad(res('Transfer-Encoding: gzip, chunked\r\n'));
    bad(res('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n'));
  });

  it('refuses a Transfer-Encoding other than a lone chunked with 502 rather than relay it unlabelled', () => {
    for (const te of ['gzip', 'identity', 'chunked, gzip', 'gzip, chunked']) {
      assert.equal(bad(res(`Transfer-Encoding: ${te}\r\n`)).status, 502, te);
    }
  });

  it('never reuses a connection after an HTTP/1.0 response with Transfer-Encoding (RFC 9112 §6.1)', () => {
    const r = ok(res('Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n', '200 OK', 'HTTP/1.0'));
    assert.equal(r.bodyKind, BODY_CHUNKED);
    assert.equal(r.reusable, false);
  });

  it('reads Content-Length as the body length', () => {
    const r = ok(res('Content-Length: 42\r\n'));
    assert.equal(r.bodyKind, BODY_LENGTH);
    assert.equal(r.contentLength, 42);
    assert.equal(r.reusable, true);
    assert.equal(ok(res('Content-Length: 0\r\n')).bodyKind, BODY_NONE);
  });

  it('accepts repeated identical Content-Length fields', () => {
    assert.equal(ok(res('Content-Length: 3\r\nContent-Length: 3\r\n')).contentLength, 3);
  });

  it('rejects conflicting Content-Length fields with 502', () => {
    bad(res('Content-Length: 3\r\nContent-Length: 4\r\n'));
  });

  it('rejects an invalid Content-Length with 502', () => {
    for (const v of ['+3', '3, 3', '0x3', '-1', '', 'abc', '1234567890123456', '1/', '1:'])
      bad(res(`Content-Length: ${v}\r\n`));
    for (const v of ['+3', '1234567890123456', '1:']) bad(res(`Content-Length: ${v}\r\n`), 'HEAD');
  });

  it('accepts a Content-Length of up to 15 digits, leading zeros included', () => {
    assert.equal(ok(res('Content-Length: 123456789012345\r\n')).contentLength, 123456789012345);
    assert.equal(ok(res('Content-Length: 007\r\n')).contentLength, 7);
  });

  it('reads a response without framing until close, never reusing the connection', () => {
    const r = ok(res('Connection: keep-alive\r\n'));
    assert.equal(r.bodyKind, BODY_CLOSE);
    assert.equal(r.reusable, false);
  });

  it('does not reuse the connection after Connection: close', () => {
    assert.equal(ok(res('Content-Length: 1\r\nConnection: close\r\n')).reusable, false);
    assert.equal(ok(res('Content-Length: 1\r\nConnection: Keep-Alive, Close\r\n')).reusable, false);
  });

  it('reuses an HTTP/1.0 connection only with Connection: keep-alive', () => {
    assert.equal(ok(res('Content-Length: 1\r\n', '200 OK', 'HTTP/1.0')).reusable, false);
    assert.equal(
      ok(res('Content-Length: 1\r\nConnection: keep-alive\r\n', '200 OK', 'HTTP/1.0')).reusable,
      true,
    );
  });

  it('collects the other Connection options lowercased', () => {
    assert.deepEqual(
      ok(res('Content-Length: 0\r\nConnection: Set-Cookie, keep-alive\r\n')).connectionTokens,
      ['set-cookie'],
    );
    assert.equal(ok(res('Content-Length: 0\r\n')).connectionTokens, null);
  });
});

describe('parseResponseHead: the field block as relayed (HeaderList.raw)', () => {
  it('is the fields less the hop-by-hop lines when every line is `Name: value`', () => {
    const r = ok(
      'HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 05 Dec 2026 18:59:31 GMT\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nhello world\n',
    );
    assert.equal(
      r.headers.raw,
      'Server: nginx\r\nDate: Sat, 05 Dec 2026 18:59:31 GMT\r\nContent-Length: 12\r\n',
    );
    const two = ok(
      res('Keep-Alive: timeout=5\r\nX-A: 1\r\nConnection: keep-alive\r\nX-B: 2\r\nContent-Length: 0\r\n'),
    );
    assert.equal(two.headers.raw, 'X-A: 1\r\nX-B: 2\r\nContent-Length: 0\r\n');
    assert.equal(ok('HTTP/1.1 204 No Content\r\n\r\n').headers.raw, '');
    // An empty value is written `Name: ` as well.
    assert.equal(ok(res('X-A: \r\nContent-Length: 0\r\n')).headers.raw, 'X-A: \r\nContent-Length: 0\r\n');
  });

  it('is null when a line is not in the form the client gets, or a Connection option names a field', () => {
    for (const line of ['X-A:  1', 'X-A:\t1', 'X-A: 1 ', 'X-A: 1\t', 'X-A:1', 'X-A:', 'X-A:  ']) {
      const r = ok(res(`${line}\r\nContent-Length: 0\r\n`));
      assert.equal(r.headers.raw, null, JSON.stringify(line));
    }
    const three = ok(res('TE: trailers\r\nTrailer: X\r\nConnection: keep-alive\r\nContent-Length: 0\r\n'));
    assert.equal(three.headers.raw, null, 'more than two hop-by-hop lines');
    assert.equal(ok(res('Content-Length: 0\r\nConnection: X-A\r\nX-A: 1\r\n')).headers.raw, null);
  });
});

describe('parseResponseHead: challenges of schemes that authenticate the connection', () => {
  it('flags NTLM and Negotiate, any case, alone or with a token, as Traefik containsNTLMorNegotiate', () => {
    for (const v of ['NTLM', 'ntlm TlRMTVNTUAACAAAA', 'Negotiate', 'NEGOTIATE oRswGaADCgEA']) {
      const r = ok(
        res(`WWW-Authenticate: Basic realm="x"\r\nWWW-Authenticate: ${v}\r\nContent-Length: 0\r\n`),
      );
      assert.equal(r.connectionAuth, true, v);
    }
    for (const v of ['Basic realm="NTLM"', 'Bearer', 'NTLMv2', 'Negotiate2', 'Digest realm="Negotiate"']) {
      assert.equal(ok(res(`WWW-Authenticate: ${v}\r\nContent-Length: 0\r\n`)).connectionAuth, false, v);
    }
    assert.equal(ok(res('Proxy-Authenticate: NTLM\r\nContent-Length: 0\r\n')).connectionAuth, false);
  });
});
