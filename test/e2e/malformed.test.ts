/**
 * The malformed-request corpus, sent as raw bytes through the real proxy process. Each request
 * must get exactly its status with `Connection: close`, the proxy must close the connection,
 * and nothing of it may reach the backend (RFC 9112 §2.2, §3, §5, §6; edge-rules §0).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleConfig } from '../helpers/backends.ts';
import { FakeUpstream } from '../helpers/fake-upstream.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, type RawResult, rawRequest } from '../helpers/raw-client.ts';

interface Case {
  readonly name: string;
  readonly bytes: string;
  readonly status: number;
}

const H = 'Host: m.test\r\n';

/** Requests whose head is refused: the proxy must not even open an upstream connection. */
const HEAD_CASES: readonly Case[] = [
  // --- framing (RFC 9112 §6)
  {
    name: 'Content-Length and Transfer-Encoding together',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'Transfer-Encoding before Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'duplicate identical Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    status: 400,
  },
  {
    name: 'duplicate differing Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    status: 400,
  },
  {
    name: 'list-valued Content-Length',
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    status: 400,
  },
  ...['abc', '-5', '+5', '0x5', '5 5', '1234567890123456', ''].map((v) => ({
    name: `invalid Content-Length ${JSON.stringify(v)}`,
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: ${v}\r\n\r\nhello`,
    status: 400,
  })),
  {
    name: 'Transfer-Encoding gzip, chunked (unsupported coding)',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    status: 501,
  },
  ...['chunked, gzip', 'gzip', 'identity', 'xchunked', 'chunked;q=1'].map((v) => ({
    name: `Transfer-Encoding not ending in chunked: ${v}`,
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${v}\r\n\r\n0\r\n\r\n`,
    status: 400,
  })),
  {
    name: 'two Transfer-Encoding fields',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'Transfer-Encoding in an HTTP/1.0 request',
    bytes: `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'Connection naming Content-Length',
    bytes: `GET / HTTP/1.1\r\n${H}Connection: content-length\r\nContent-Length: 0\r\n\r\n`,
    status: 400,
  },
  // --- line syntax (RFC 9112 §2.2, §5)
  { name: 'bare CR in a field value', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, status: 400 },
  { name: 'bare CR ending a field line', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\r\r\n\r\n`, status: 400 },
  { name: 'bare LF line endings throughout', bytes: 'GET / HTTP/1.1\nHost: m.test\n\n', status: 400 },
  { name: 'bare LF after one field', bytes: `GET / HTTP/1.1\r\nHost: m.test\nX-A: b\r\n\r\n`, status: 400 },
  { name: 'bare LF ending the request line', bytes: `GET / HTTP/1.1\n${H}\r\n`, status: 400 },
  { name: 'obs-fold', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\r\n  folded\r\n\r\n`, status: 400 },
  {
    name: 'whitespace before the first field',
    bytes: `GET / HTTP/1.1\r\n ${H}\r\n`,
    status: 400,
  },
  { name: 'space before the colon', bytes: 'GET / HTTP/1.1\r\nHost : m.test\r\n\r\n', status: 400 },
  { name: 'tab before the colon', bytes: `GET / HTTP/1.1\r\n${H}X-A\t: b\r\n\r\n`, status: 400 },
  { name: 'empty field name', bytes: `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`, status: 400 },
  { name: 'NUL in a field value', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, status: 400 },
  // --- request line (RFC 9112 §3)
  { name: 'HTTP/0.9 simple request', bytes: 'GET /\r\n\r\n', status: 400 },
  { name: 'HTTP/0.9 request followed by fields', bytes: `GET /x\r\n${H}\r\n`, status: 400 },
  { name: 'HTTP/2.0 on an HTTP/1 port', bytes: `GET / HTTP/2.0\r\n${H}\r\n`, status: 400 },
  // The HTTP/2 preface is served as h2c with prior knowledge (test/e2e/http2.test.ts), as Traefik does.
  { name: 'lowercase protocol name', bytes: `GET / http/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'space inside the target', bytes: `GET /a b HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'fragment in the target', bytes: `GET /a#frag HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'asterisk-form on GET', bytes: `GET * HTTP/1.1\r\n${H}\r\n`, status: 400 },
  // Traefik v3.7.13's "Request Target Validation": a rootless target is a 400 (always ours).
  ...['a/b', '?q=1', 'm.test/x', '%2Fx', 'ftp://m.test/x'].map((t) => ({
    name: `rootless request target ${JSON.stringify(t)}`,
    bytes: `GET ${t} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
  })),
  {
    name: 'absolute-form target disagreeing with Host',
    bytes: 'GET http://other.test/ HTTP/1.1\r\nHost: m.test\r\n\r\n',
    status: 400,
  },
  { name: 'unknown method', bytes: `FOO / HTTP/1.1\r\n${H}\r\n`, status: 501 },
  { name: 'lowercase method', bytes: `get / HTTP/1.1\r\n${H}\r\n`, status: 501 },
  // A CONNECT is routed (test/e2e/h1-connect.test.ts), with the authority-form only (RFC 9112
  // §3.2.3) and a Host that agrees with it.
  ...['/', 'm.test', 'm.test:', 'http://m.test:443/', 'u@m.test:443', 'm.test:443/x'].map((t) => ({
    name: `CONNECT to ${JSON.stringify(t)}`,
    bytes: `CONNECT ${t} HTTP/1.1\r\nHost: m.test:443\r\n\r\n`,
    status: 400,
  })),
  {
    name: 'CONNECT whose Host disagrees with its authority',
    bytes: 'CONNECT m.test:443 HTTP/1.1\r\nHost: other.test:443\r\n\r\n',
    status: 400,
  },
  { name: 'invalid character in the method', bytes: `G(T / HTTP/1.1\r\n${H}\r\n`, status: 400 },
  // --- Host (RFC 9112 §3.2)
  { name: 'missing Host in HTTP/1.1', bytes: 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n', status: 400 },
  { name: 'duplicate Host', bytes: `GET / HTTP/1.1\r\n${H}Host: other.test\r\n\r\n`, status: 400 },
  // `a[::1]`, `[::1]a`: an IPv6 literal not the whole host (Go's net/url accepted such hosts
  // until Go 1.26.1, CVE-2026-25679); brackets around no IPv6 address (Go 1.25.1, CVE-2025-47912).
  ...[
    'a b.test',
    'a/b.test',
    'user@m.test',
    'm.test:99999',
    'm.test:8x',
    '[::1',
    '[zz::1]',
    ':80',
    'a[::1]',
    '[::1]a',
    'a.test[::1]:80',
    '[1.2.3.4]',
    '[a.test]',
    '[::ffff:1.2.3.4x]',
  ].map((v) => ({
    name: `invalid Host ${JSON.stringify(v)}`,
    bytes: `GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`,
    status: 400,
  })),
  // --- expectations and limits
  { name: 'unsupported expectation', bytes: `POST / HTTP/1.1\r\n${H}Expect: magic\r\n\r\n`, status: 417 },
  {
    name: 'header block too large',
    bytes: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 20 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(1000)}\r\n`).join('')}\r\n`,
    status: 431,
  },
  {
    name: 'too many fields',
    bytes: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 250 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`,
    status: 431,
  },
  {
    name: 'request line too long',
    bytes: `GET /${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
  },
  {
    name: 'request line too long, still incomplete',
    bytes: `GET /${'a'.repeat(20_000)}`,
    status: 414,
  },
];

/**
 * Requests whose head is valid but whose chunked body is not. The proxy streams bodies, so the
 * head may already be on its way upstream when the bad chunk line is parsed; what must never
 * happen is a complete request (one the backend could act on, or misframe) reaching it.
 */
const BODY_CASES: readonly Case[] = [
  ...['zz', '-1', '0x5', ' 5', '5 ', '1234567890abcdef0', ''].map((v) => ({
    name: `chunk size ${JSON.stringify(v)}`,
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${v}\r\nhello\r\n0\r\n\r\n`,
    status: 400,
  })),
  {
    name: 'chunk data longer than its size',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'bare LF after the chunk size',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'bare LF after the chunk data',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
    status: 400,
  },
  {
    // Go's net/http took a bare LF as the end of a chunk-size line (CVE-2025-22871): with a
    // front that reads it as part of the extension, the two frame the body differently.
    name: 'bare LF inside a chunk extension',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'invalid chunk extension',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    // "Funky chunks": Jetty (CVE-2026-2332) ran a quoted extension value on past the CRLF, so
    // `X` and what follows were read as extension and `GET /smuggled` as a second request.
    name: 'an unclosed quoted chunk extension',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;ext="val\r\nX\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`,
    status: 400,
  },
  {
    // "Funky chunks 2": the two bytes after chunk data taken as CRLF whatever they are.
    name: 'two other bytes in place of the CRLF after chunk data',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'bare CR after the last chunk',
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\rX`,
    status: 400,
  },
];

/**
 * `body` must be a strict prefix of a chunked body as we would write it: lowercase hex sizes
 * without extensions, exact CRLFs, and no zero-size chunk (the request never completed).
 */
function assertChunkPrefix(body: Buffer): void {
  let p = 0;
  while (p < body.length) {
    const eol = body.indexOf('\r\n', p);
    if (eol === -1) {
      assert.match(body.latin1Slice(p), /^[0-9a-f]*$/, 'partial size line');
      return;
    }
    const line = body.latin1Slice(p, eol);
    assert.match(line, /^[1-9a-f][0-9a-f]*$/, `chunk size line ${JSON.stringify(line)}`);
    const end = eol + 2 + Number.parseInt(line, 16);
    if (end + 2 > body.length) return; // cut inside the data or its CRLF
    assert.equal(body.latin1Slice(end, end + 2), '\r\n');
    p = end + 2;
  }
}

function assertRefused(r: RawResult, status: number): void {
  assert.equal(r.parseError, null, `unparseable answer ${JSON.stringify(r.data.toString('latin1', 0, 300))}`);
  assert.equal(r.responses.length, 1, `answer: ${JSON.stringify(r.data.toString('latin1', 0, 300))}`);
  const res = r.responses[0]!;
  assert.equal(res.status, status);
  assert.equal(header(res, 'connection'), 'close');
  assert.equal(res.complete, true);
  assert.equal(r.rest.length, 0, 'nothing after the error response');
  assert.equal(r.closedBy, 'fin', 'the proxy closes the connection');
}

describe('malformed requests', () => {
  let upstream: FakeUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await FakeUpstream.start();
    proxy = await startProxy({ config: simpleConfig([`http://127.0.0.1:${upstream.port}`]) });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  for (const c of HEAD_CASES) {
    it(`refuses ${c.name} with ${c.status} and closes`, async () => {
      const r = await rawRequest(proxy.port, c.bytes, { timeoutMs: 5000 });
      assertRefused(r, c.status);
    });
  }

  it('never opened a backend connection for any of them', async () => {
    // A good request afterwards proves the route works, and is the only thing the backend sees.
    const r = await rawRequest(proxy.port, `GET /sentinel HTTP/1.1\r\n${H}\r\n`, { responses: 1 });
    assert.equal(r.responses[0]?.status, 200);
    assert.equal(upstream.connections.length, 1);
    assert.deepEqual(
      upstream.requests.map((q) => q.target),
      ['/sentinel'],
    );
  });
});

describe('malformed chunked request bodies', () => {
  let upstream: FakeUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await FakeUpstream.start();
    proxy = await startProxy({ config: simpleConfig([`http://127.0.0.1:${upstream.port}`]) });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  for (const c of BODY_CASES) {
    it(`refuses a body with ${c.name} with ${c.status}, and the backend never gets a complete request`, async () => {
      const r = await rawRequest(proxy.port, c.bytes, { timeoutMs: 5000 });
      assertRefused(r, c.status);
      assert.equal(upstream.requests.length, 0);
      // Whatever upstream connection carried the partial request is torn down, never reused.
      await Promise.all(upstream.connections.map((u) => u.closed));
    });
  }

  it('forwarded only rebuilt, well-formed chunks and never a last chunk', () => {
    assert.equal(upstream.connections.length, BODY_CASES.length);
    for (const u of upstream.connections) {
      const data = u.received;
      const headEnd = data.indexOf('\r\n\r\n');
      assert.ok(headEnd > 0);
      assert.match(data.latin1Slice(0, headEnd), /\r\nTransfer-Encoding: chunked$/);
      assertChunkPrefix(data.subarray(headEnd + 4));
    }
  });
});
