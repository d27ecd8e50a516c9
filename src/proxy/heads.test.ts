import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import { ParseError } from '../http1/parse-error.ts';
import { type ParsedResponse, parseResponseHead } from '../http1/response-head.ts';
import { requestFieldLines, responseFields } from './heads.ts';

function parse(head: string): ParsedResponse | null {
  const buf = Buffer.from(head, 'latin1');
  const r = parseResponseHead(buf, 0, buf.length, 'GET', 65536);
  return r === null || r instanceof ParseError ? null : r;
}

/** What responseFields builds field by field, without the parser's text. */
function rebuilt(r: ParsedResponse, dropLength: boolean): string {
  const raw = r.headers.raw;
  r.headers.raw = null;
  const s = responseFields(r, dropLength);
  r.headers.raw = raw;
  return s;
}

/** A small deterministic generator (xorshift32): the same heads on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const NAMES = [
  'Server',
  'date',
  'Content-Type',
  'Content-Length',
  'X-Thing',
  'Connection',
  'Keep-Alive',
  'TE',
  'Trailer',
  'Upgrade',
  'Proxy-Connection',
  'Proxy-Authenticate',
  'Set-Cookie',
];
const VALUES = ['nginx', 'a b', 'keep-alive', 'close', '0', 'x\xe9y', '"q"', 'timeout=5', 'X-Thing'];
const SEPARATORS = [': ', ': ', ': ', ':', ':  ', ':\t', ': \t'];
const ENDS = ['', '', '', ' ', '\t'];

describe('responseFields', () => {
  it("relays the parser's text of the fields byte for byte as the fields rebuilt would be", () => {
    const next = random(0x5eed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)]!;
    let relayed = 0;
    for (let k = 0; k < 3000; k++) {
      let head = 'HTTP/1.1 200 OK\r\n';
      const n = Math.floor(next() * 7);
      for (let i = 0; i < n; i++) head += `${pick(NAMES)}${pick(SEPARATORS)}${pick(VALUES)}${pick(ENDS)}\r\n`;
      const r = parse(`${head}\r\n`);
      if (r === null) continue; // refused (conflicting lengths, a transfer coding): never relayed
      for (const dropLength of [false, true]) {
        assert.equal(responseFields(r, dropLength), rebuilt(r, dropLength), JSON.stringify(head));
      }
      if (r.headers.raw !== null) relayed++;
    }
    assert.ok(relayed > 300, `the parser's text was used for ${relayed} heads`);
  });

  it('rebuilds the fields once the list changed, and re-framed bodies drop Content-Length', () => {
    const r = parse('HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n')!;
    assert.equal(responseFields(r, false), 'X-A: 1\r\nContent-Length: 2\r\n');
    assert.equal(responseFields(r, true), 'X-A: 1\r\n');
    r.headers.set('X-A', '2');
    assert.equal(responseFields(r, false), 'X-A: 2\r\nContent-Length: 2\r\n');
  });
});

describe('requestFieldLines', () => {
  // Traefik's pkg/proxy/httputil/proxy.go rewriteRequestBuilder: Go's ReverseProxy appends the
  // peer to what the outgoing X-Forwarded-For holds, its lines joined, and sets one field.
  it('appends the peer to X-Forwarded-For where the field was, its lines joined into one', () => {
    const h = HeaderList.from([
      ['x-forwarded-for', '203.0.113.1'],
      ['Connection', 'close'],
      ['X-A', '1'],
      ['X-Forwarded-For', '198.51.100.2'],
    ]);
    assert.equal(
      requestFieldLines(h, '192.0.2.1'),
      'X-Forwarded-For: 203.0.113.1, 198.51.100.2, 192.0.2.1\r\nX-A: 1\r\n',
    );
    // The list is not changed: each try, mirror or tunnel writes its own.
    assert.deepEqual(h.getAll('x-forwarded-for'), ['203.0.113.1', '198.51.100.2']);
  });

  it("adds the peer alone to a request without the field, and a trusted peer's empty one keeps its place", () => {
    assert.equal(
      requestFieldLines(HeaderList.from([['X-A', '1']]), '::1'),
      'X-A: 1\r\nX-Forwarded-For: ::1\r\n',
    );
    assert.equal(requestFieldLines(HeaderList.from([]), '::1'), 'X-Forwarded-For: ::1\r\n');
    assert.equal(
      requestFieldLines(HeaderList.from([['X-Forwarded-For', '']]), '192.0.2.1'),
      'X-Forwarded-For: , 192.0.2.1\r\n',
    );
  });

  it('writes the fields as they are without a peer (notAppendXForwardedFor, a nil field)', () => {
    const h = HeaderList.from([
      ['X-Forwarded-For', '203.0.113.1'],
      ['X-Forwarded-For', '198.51.100.2'],
    ]);
    assert.equal(
      requestFieldLines(h, null),
      'X-Forwarded-For: 203.0.113.1\r\nX-Forwarded-For: 198.51.100.2\r\n',
    );
  });
});
