import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../http1/parse-error.ts';
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  CONNECT_TUNNEL,
  type ParsedRequest,
} from '../http1/request-head.ts';
import { H2_PREFACE, matchPreface, PREFACE_FULL, PREFACE_NO, PREFACE_PARTIAL } from './preface.ts';
import { parseH2Request } from './request.ts';

const BASE = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':authority',
  'Shop.Example.:8443',
  ':path',
  '/a/b?x=1&y',
];

function ok(raw: readonly string[], endStream = true): ParsedRequest {
  const r = parseH2Request(raw, endStream, 100);
  assert.ok(!(r instanceof ParseError), r instanceof ParseError ? r.reason : '');
  return r;
}

function refused(raw: readonly string[], status = 400, endStream = true): string {
  const r = parseH2Request(raw, endStream, 100);
  assert.ok(r instanceof ParseError, 'refused');
  assert.equal(r.status, status, r.reason);
  return r.reason;
}

describe('parseH2Request', () => {
  it('builds the request from the pseudo-header fields', () => {
    const r = ok([...BASE, 'accept', '*/*']);
    assert.equal(r.method, 'GET');
    assert.equal(r.path, '/a/b');
    assert.equal(r.query, 'x=1&y');
    assert.equal(r.authority, 'Shop.Example.:8443');
    assert.equal(r.host, 'shop.example');
    assert.equal(r.hostPort, '8443');
    assert.equal(r.bodyKind, BODY_NONE);
    assert.deepEqual(
      [...r.headers.entries()],
      [
        ['host', 'Shop.Example.:8443'],
        ['accept', '*/*'],
      ],
    );
  });

  it('takes the authority from Host when :authority is absent', () => {
    const raw = [':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'a.test'];
    assert.equal(ok(raw).host, 'a.test');
  });

  it('frames the body by content-length, else chunked, else none', () => {
    assert.equal(ok([...BASE, 'content-length', '12'], false).bodyKind, BODY_LENGTH);
    assert.equal(ok([...BASE, 'content-length', '12'], false).contentLength, 12);
    assert.equal(ok(BASE, false).bodyKind, BODY_CHUNKED);
    assert.equal(ok([...BASE, 'content-length', '0'], false).bodyKind, BODY_NONE);
    assert.equal(ok(BASE, true).bodyKind, BODY_NONE);
  });

  it('joins cookie crumbs with "; " (RFC 9113 §8.2.3) and keeps te: trailers for HTTP/2 upstreams', () => {
    const r = ok([...BASE, 'cookie', 'a=1', 'te', 'trailers', 'cookie', 'b=2']);
    assert.equal(r.headers.get('cookie'), 'a=1; b=2');
    assert.equal(r.headers.get('te'), 'trailers');
  });

  it('keeps OPTIONS *', () => {
    assert.equal(ok([':method', 'OPTIONS', ':scheme', 'http', ':authority', 'a', ':path', '*']).path, '*');
  });

  const malformed: [string, string[]][] = [
    ['missing :method', [':scheme', 'http', ':authority', 'a', ':path', '/']],
    ['missing :scheme', [':method', 'GET', ':authority', 'a', ':path', '/']],
    ['missing :path', [':method', 'GET', ':scheme', 'http', ':authority', 'a']],
    ['empty :path', [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', '']],
    ['missing authority', [':method', 'GET', ':scheme', 'http', ':path', '/']],
    ['duplicate :path', [...BASE, ':path', '/x']],
    [
      'pseudo-header after a regular field',
      [':method', 'GET', 'x', '1', ':scheme', 'http', ':authority', 'a', ':path', '/'],
    ],
    ['unknown pseudo-header', [...BASE.slice(0, 6), ':protocol', 'websocket', ':path', '/']],
    ['response pseudo-header', [':status', '200', ...BASE]],
    ['uppercase field name', [...BASE, 'X-Upper', '1']],
    ['invalid field name', [...BASE, 'x y', '1']],
    ['connection field', [...BASE, 'connection', 'close']],
    ['keep-alive field', [...BASE, 'keep-alive', '5']],
    ['transfer-encoding field', [...BASE, 'transfer-encoding', 'chunked']],
    ['upgrade field', [...BASE, 'upgrade', 'h2c']],
    ['proxy-connection field', [...BASE, 'proxy-connection', 'close']],
    ['te other than trailers', [...BASE, 'te', 'gzip']],
    ['CR in a value', [...BASE, 'x-a', 'a\rb']],
    ['NUL in a value', [...BASE, 'x-a', 'a\0b']],
    ['fragment in :path', [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', '/a#b']],
    ['space in :path', [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', '/a b']],
    ['relative :path', [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', 'a/b']],
    ['asterisk :path on GET', [':method', 'GET', ':scheme', 'http', ':authority', 'a', ':path', '*']],
    ['unsupported scheme', [':method', 'GET', ':scheme', 'ftp', ':authority', 'a', ':path', '/']],
    ['userinfo in :authority', [':method', 'GET', ':scheme', 'http', ':authority', 'u@a', ':path', '/']],
    ['invalid :authority', [':method', 'GET', ':scheme', 'http', ':authority', 'a b', ':path', '/']],
    ['Host disagreeing with :authority', [...BASE, 'host', 'other.example']],
    ['two Host fields', [':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'a', 'host', 'a']],
    ['invalid content-length', [...BASE, 'content-length', '1x']],
    ['conflicting content-length', [...BASE, 'content-length', '1', 'content-length', '2']],
    ['invalid method', [':method', 'G(T', ':scheme', 'http', ':authority', 'a', ':path', '/']],
  ];
  for (const [name, raw] of malformed) {
    it(`refuses ${name} with 400`, () => {
      refused(raw);
    });
  }

  it('refuses a content-length on a request that ended with its headers', () => {
    refused([...BASE, 'content-length', '5'], 400, true);
  });

  it('refuses unknown methods with 501, as HTTP/1.1 does', () => {
    refused([':method', 'BREW', ':scheme', 'http', ':authority', 'a', ':path', '/'], 501);
  });

  it('takes a plain CONNECT as a tunnel request with an empty path (Traefik v3.7.12)', () => {
    for (const end of [false, true]) {
      const r = ok([':method', 'CONNECT', ':authority', 'Target.test:443', 'x-a', '1', 'cookie', 'a=1'], end);
      assert.equal(r.method, 'CONNECT');
      assert.equal(r.upgrade, CONNECT_TUNNEL);
      assert.equal(r.path, '');
      assert.equal(r.query, '');
      assert.equal(r.host, 'target.test');
      assert.equal(r.hostPort, '443');
      assert.equal(r.bodyKind, BODY_NONE, 'the DATA is the tunnel, not a body');
      assert.equal(r.contentLength, -1, 'no length');
      assert.deepEqual(r.headers.lnames, ['host', 'x-a', 'cookie']);
      assert.equal(r.headers.get('host'), 'Target.test:443');
    }
    // A content-length makes it a body, sent at once (Traefik's connectHandler defers nothing then).
    const withBody = ok([':method', 'CONNECT', ':authority', 'a:443', 'content-length', '3'], false);
    assert.equal(withBody.bodyKind, BODY_LENGTH);
    assert.equal(withBody.contentLength, 3);
    assert.equal(withBody.upgrade, CONNECT_TUNNEL);
    // content-length: 0 forwards as none (Traefik defers it: ContentLength 0 is not > 0) but is
    // kept, so that the own engine holds the client to it (own-request-body.ts).
    const zero = ok([':method', 'CONNECT', ':authority', 'a:443', 'content-length', '0'], false);
    assert.equal(zero.bodyKind, BODY_NONE);
    assert.equal(zero.contentLength, 0);
    refused([':method', 'CONNECT', ':authority', 'a:443', 'content-length', '3'], 400, true);
    refused([':method', 'CONNECT', ':authority', 'a:443', 'content-length', 'x'], 400, false);
    refused([':method', 'CONNECT', ':authority', 'a:443', ':path', '/']);
    refused([':method', 'CONNECT', ':scheme', 'https', ':authority', 'a:443']);
    refused([':method', 'CONNECT', 'host', 'a:443']);
    refused([':method', 'CONNECT', ':authority', 'u@a:443']);
    refused([':method', 'CONNECT', ':authority', 'a:443', 'host', 'b:443']);
    refused(
      [':method', 'CONNECT', ':protocol', 'webtransport', ':scheme', 'http', ':authority', 'a', ':path', '/'],
      501,
    );
  });

  it('refuses an unsupported expectation with 417', () => {
    refused([...BASE, 'expect', 'magic'], 417);
    ok([...BASE, 'expect', '100-continue']);
  });

  it('refuses more fields than the limit with 431', () => {
    const raw = [...BASE];
    for (let i = 0; i <= 100; i++) raw.push(`x-${i}`, 'v');
    refused(raw, 431);
  });
});

describe('matchPreface', () => {
  it('tells the preface, a prefix of it, and anything else apart', () => {
    const buf = Buffer.concat([Buffer.from('xx'), H2_PREFACE, Buffer.from([0, 0, 0, 4])]);
    assert.equal(matchPreface(buf, 2, buf.length), PREFACE_FULL);
    assert.equal(matchPreface(buf, 2, 2 + 24), PREFACE_FULL);
    assert.equal(matchPreface(buf, 2, 2 + 10), PREFACE_PARTIAL);
    assert.equal(matchPreface(Buffer.from('PRI * HTTP/1.1\r\n'), 0, 16), PREFACE_NO);
    assert.equal(matchPreface(Buffer.from('POST / HTTP/1.1'), 0, 15), PREFACE_NO);
  });
});
