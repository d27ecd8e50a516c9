import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib';
import { CompressSchema } from '../config/dynamic/body-middlewares.ts';
import { compressFactory } from './compress.ts';
import { ENCODERS } from './encoder-pool.ts';
import type { BodyFilter, BodyOutput, Middleware } from './middleware.ts';
import { makeRequest, makeResponse } from './test-request.ts';

function compress(config: Record<string, unknown> = {}) {
  const mw = compressFactory.create(CompressSchema.parse(config), {} as never) as Middleware;
  return (
    accept: string | null,
    resHeaders: [string, string][] = [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '5000'],
    ],
    method = 'GET',
    status = 200,
    requestType?: string,
  ) => {
    const headers: [string, string][] = accept === null ? [] : [['Accept-Encoding', accept]];
    if (requestType !== undefined) headers.push(['Content-Type', requestType]);
    const req = makeRequest('http://app.test/', { method, headers });
    const res = makeResponse(status, resHeaders);
    // As the exchange does: the head phase, then the body phase, on the same head.
    mw.onResponse!(req, res);
    const filter = mw.onResponseBody!(req, res);
    return { filter, headers: res.headers };
  };
}

/** Runs a filter over chunks; resolves with what it pushed once it ended. */
function run(
  filter: BodyFilter,
  chunks: Buffer[],
  gapMs = -1,
): Promise<{ out: Buffer[]; failed: string | null }> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let failed: string | null = null;
    const o: BodyOutput = {
      ...NOOP_OUT,
      push: (b) => out.push(b) > 0,
      end: () => resolve({ out, failed }),
      fail: (r) => {
        failed = r;
        resolve({ out, failed });
      },
      drained: () => {},
    };
    filter.start(o);
    if (gapMs < 0) {
      for (const c of chunks) filter.write(c);
      filter.end();
      return;
    }
    let i = 0;
    const next = () => {
      if (i === chunks.length) {
        filter.end();
        return;
      }
      filter.write(chunks[i++]!);
      setTimeout(next, gapMs);
    };
    next();
  });
}

const NOOP_OUT: BodyOutput = { push: () => true, length() {}, end() {}, fail() {}, drained() {} };

const TEXT = Buffer.from('hello compressed world, '.repeat(400));

describe('compress: which coding (Traefik getCompressionEncoding)', () => {
  // [Accept-Encoding, the body's coding, config, whether a coding was chosen at all (Vary)]
  const cases: [string | null, string | null, Record<string, unknown>?, boolean?][] = [
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['zstd', 'zstd'],
    ['gzip, br, zstd', 'gzip'],
    ['br, gzip', 'gzip'],
    ['br;q=1.0, gzip;q=0.8', 'br'],
    ['gzip;q=0, br', 'br'],
    ['identity', null],
    ['deflate', null],
    ['', null],
    [null, null],
    ['gzip, br', 'br', { encodings: ['br', 'gzip'] }],
    ['GZIP', 'gzip'],
    ['zstd;q=0.5, identity;q=0.9', null],
    // `*` and defaultEncoding pick a coding; gzip's handler (gzhttp) still wants gzip named.
    ['*', 'br', { defaultEncoding: 'br' }],
    ['*', 'zstd', { encodings: ['zstd', 'gzip'] }],
    [null, 'zstd', { defaultEncoding: 'zstd' }],
    ['*', null, {}, true],
    ['gzip;q=0, *', null, {}, true],
    [null, null, { defaultEncoding: 'gzip' }, true],
    ['br;q=0.5, *;q=0.1', 'br'],
  ];
  for (const [accept, want, config, chosen] of cases) {
    it(`Accept-Encoding ${accept === null ? '(none)' : JSON.stringify(accept)}${config ? ` ${JSON.stringify(config)}` : ''} → ${want ?? 'identity'}`, () => {
      const { filter, headers } = compress(config)(accept);
      if (want === null) {
        assert.equal(filter, null);
        assert.equal(headers.get('content-encoding'), undefined);
        assert.equal(headers.get('vary'), chosen ? 'Accept-Encoding' : undefined);
        return;
      }
      assert.ok(filter);
      filter.start(NOOP_OUT);
      assert.equal(headers.get('content-encoding'), want);
      assert.equal(headers.get('vary'), 'Accept-Encoding');
      filter.destroy();
    });
  }
});

describe('compress: what is left alone', () => {
  const c = compress();
  it('HEAD requests', () => assert.equal(c('gzip', undefined, 'HEAD').filter, null));
  it('partial content', () => {
    assert.equal(c('gzip', undefined, 'GET', 206).filter, null);
    assert.equal(c('gzip', [['Content-Range', 'bytes 0-9/100']]).filter, null);
  });
  it('bodies already encoded, identity too (any Content-Encoding, as Traefik)', () => {
    assert.equal(c('gzip', [['Content-Encoding', 'br']]).filter, null);
    const id = c('gzip', [
      ['Content-Encoding', 'identity'],
      ['Content-Length', '5000'],
    ]);
    assert.equal(id.filter, null);
    assert.deepEqual(id.headers.getAll('content-encoding'), ['identity']);
  });
  it('requests of an excluded type, before any coding is chosen: no Vary either', () => {
    const r = c('gzip', undefined, 'GET', 200, 'application/grpc');
    assert.equal(r.filter, null);
    assert.equal(r.headers.get('vary'), undefined);
  });
  it('gRPC, always, and the excluded types', () => {
    assert.equal(c('gzip', [['Content-Type', 'application/grpc']]).filter, null);
    const ex = compress({ excludedContentTypes: ['image/png'] });
    assert.equal(ex('gzip', [['Content-Type', 'image/png; x=1']]).filter, null);
    assert.ok(ex('gzip', [['Content-Type', 'text/html']]).filter);
  });
  it('types outside includedContentTypes', () => {
    const inc = compress({ includedContentTypes: ['application/json'] });
    assert.equal(inc('gzip', [['Content-Type', 'text/html']]).filter, null);
    assert.ok(inc('gzip', [['Content-Type', 'application/json; charset=utf-8']]).filter);
  });
  it('bodies of known length under minResponseBodyBytes (0 means 1024, as in Traefik)', () => {
    assert.equal(c('gzip', [['Content-Length', '1023']]).filter, null);
    assert.ok(c('gzip', [['Content-Length', '1024']]).filter);
    assert.equal(compress({ minResponseBodyBytes: 0 })('gzip', [['Content-Length', '1000']]).filter, null);
    assert.equal(compress({ minResponseBodyBytes: -5 })('gzip', [['Content-Length', '1000']]).filter, null);
    assert.ok(compress({ minResponseBodyBytes: 10 })('gzip', [['Content-Length', '10']]).filter);
  });
  it('refuses configurations Traefik refuses', () => {
    assert.equal(CompressSchema.safeParse({ encodings: [] }).success, false);
    assert.equal(CompressSchema.safeParse({ encodings: ['gzip'], defaultEncoding: 'br' }).success, false);
    assert.equal(
      CompressSchema.safeParse({ excludedContentTypes: ['a/b'], includedContentTypes: ['c/d'] }).success,
      false,
    );
    assert.equal(CompressSchema.safeParse({ encodings: ['deflate'] }).success, false);
  });
});

describe('compress: the body', () => {
  for (const [coding, decode] of [
    ['gzip', gunzipSync],
    ['br', brotliDecompressSync],
    ['zstd', zstdDecompressSync],
  ] as const) {
    it(`${coding}: decodes to the same bytes, head fixed to match`, async () => {
      const { filter, headers } = compress()(coding, [
        ['Content-Type', 'text/plain'],
        ['Content-Length', String(TEXT.length)],
        ['ETag', '"abc"'],
        ['Accept-Ranges', 'bytes'],
      ]);
      const { out, failed } = await run(filter!, [TEXT.subarray(0, 3000), TEXT.subarray(3000)]);
      assert.equal(failed, null);
      const body = Buffer.concat(out);
      assert.ok(body.length < TEXT.length / 10, `${coding} compressed ${TEXT.length} to ${body.length}`);
      assert.deepEqual(decode(body), TEXT);
      assert.equal(headers.get('content-encoding'), coding);
      assert.equal(headers.get('content-length'), undefined);
      assert.equal(headers.get('accept-ranges'), undefined);
      // Traefik leaves the ETag as the backend sent it (a client's If-Match keeps working).
      assert.equal(headers.get('etag'), '"abc"');
      assert.equal(headers.get('vary'), 'Accept-Encoding');
    });
  }

  it('adds to an existing Vary without repeating Accept-Encoding', async () => {
    const a = compress()('gzip', [
      ['Vary', 'Origin'],
      ['Content-Length', '5000'],
    ]);
    a.filter!.start(NOOP_OUT);
    assert.deepEqual(a.headers.getAll('vary'), ['Origin', 'Accept-Encoding']);
    a.filter!.destroy();
    const b = compress()('gzip', [
      ['Vary', 'accept-encoding'],
      ['Content-Length', '5000'],
    ]);
    b.filter!.start(NOOP_OUT);
    assert.deepEqual(b.headers.getAll('vary'), ['accept-encoding']);
    b.filter!.destroy();
  });

  it('unknown length: compressed from the first byte, however short (Traefik flushes such bodies)', async () => {
    const { filter, headers } = compress()('gzip', [['Content-Type', 'text/plain']]);
    const { out } = await run(filter!, [Buffer.from('short'), Buffer.from(' body')]);
    assert.equal(gunzipSync(Buffer.concat(out)).toString(), 'short body');
    assert.equal(headers.get('content-encoding'), 'gzip');
    assert.equal(headers.get('vary'), 'Accept-Encoding');
  });

  it('unknown length: an empty body goes out as it came, head untouched but for Vary', async () => {
    const { filter, headers } = compress()('br', [['Content-Type', 'text/plain']]);
    const { out } = await run(filter!, [Buffer.alloc(0)]);
    assert.equal(Buffer.concat(out).length, 0);
    assert.equal(headers.get('content-encoding'), undefined);
    assert.equal(headers.get('vary'), 'Accept-Encoding');
  });

  it('unknown length: a body in several chunks decodes whole', async () => {
    const { filter, headers } = compress()('br', [['Content-Type', 'text/plain']]);
    const chunks = [TEXT.subarray(0, 500), TEXT.subarray(500, 900), TEXT.subarray(900)];
    const { out } = await run(filter!, chunks);
    assert.equal(headers.get('content-encoding'), 'br');
    assert.deepEqual(brotliDecompressSync(Buffer.concat(out)), TEXT);
  });

  it('Vary: Accept-Encoding once a coding is chosen, whether or not the body is compressed', () => {
    const c = compress({ excludedContentTypes: ['image/png'] });
    for (const [what, headers, status] of [
      ['short known length', [['Content-Length', '10']], 200],
      ['excluded type', [['Content-Type', 'image/png']], 200],
      ['already encoded', [['Content-Encoding', 'gzip']], 200],
      ['not modified', [], 304],
      ['partial', [['Content-Range', 'bytes 0-9/100']], 206],
    ] as const) {
      const r = c(
        'gzip',
        headers.map(([n, v]) => [n, v]),
        'GET',
        status,
      );
      // A 304 has no body: the exchange asks no filter for it, only its head gets Vary.
      if (status !== 304) assert.equal(r.filter, null, what);
      assert.deepEqual(r.headers.getAll('vary'), ['Accept-Encoding'], what);
    }
    // Not for HEAD, nor for a client that accepts no coding we have.
    assert.equal(c('gzip', undefined, 'HEAD').headers.get('vary'), undefined);
    assert.equal(c('deflate').headers.get('vary'), undefined);
  });

  it('an event stream is flushed at every write: each event can be decoded as it arrives', async () => {
    const { filter } = compress()('gzip', [['Content-Type', 'text/event-stream']]);
    const events = ['data: one\n\n', 'data: two\n\n', 'data: three\n\n'].map((s) => Buffer.from(s));
    const out: Buffer[] = [];
    const seen: string[] = [];
    const { createGunzip } = await import('node:zlib');
    const gunzip = createGunzip();
    gunzip.on('data', (b: Buffer) => seen.push(b.toString()));
    filter!.start({
      ...NOOP_OUT,
      push: (b) => {
        out.push(b);
        return gunzip.write(b);
      },
    });
    for (const e of events) {
      filter!.write(e);
      const want = e.toString();
      const deadline = Date.now() + 5000;
      while (!seen.join('').endsWith(want) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      assert.ok(seen.join('').endsWith(want), `event ${JSON.stringify(want)} decodable before the next one`);
    }
    filter!.destroy();
    gunzip.destroy();
  });

  it('levels: a higher level compresses at least as well', async () => {
    const sizes: number[] = [];
    for (const level of [1, 9]) {
      const { filter } = compress({ levels: { gzip: level } })('gzip', [
        ['Content-Length', String(TEXT.length)],
      ]);
      const { out } = await run(filter!, [TEXT]);
      sizes.push(Buffer.concat(out).length);
    }
    assert.ok(sizes[1]! <= sizes[0]!, `level 9 ${sizes[1]} vs level 1 ${sizes[0]}`);
  });
});

describe('compress: coders are pooled', () => {
  it('gives a coder back once its response ended, and the next response reuses it cleanly', async () => {
    const c = compress({ levels: { gzip: 7 } });
    for (let i = 0; i < 3; i++) {
      const { filter } = c('gzip', [['Content-Length', String(TEXT.length)]]);
      const { out } = await run(filter!, [TEXT.subarray(0, 1000), TEXT.subarray(1000)]);
      assert.deepEqual(gunzipSync(Buffer.concat(out)), TEXT, `response ${i}`);
      assert.equal(ENCODERS.idleCount('gzip', 7), 1);
    }
    // Streamed (unknown length) responses too.
    const s = c('gzip', [['Content-Type', 'text/plain']]);
    const { out } = await run(s.filter!, [TEXT.subarray(0, 5000), TEXT.subarray(5000)], 1);
    assert.deepEqual(gunzipSync(Buffer.concat(out)), TEXT);
    assert.equal(ENCODERS.idleCount('gzip', 7), 1);
  });

  it('never pools a coder dropped mid-body', async () => {
    const c = compress({ levels: { gzip: 8 } });
    const { filter } = c('gzip', [['Content-Type', 'text/plain']]);
    filter!.start(NOOP_OUT);
    filter!.write(TEXT);
    filter!.write(TEXT);
    filter!.destroy();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(ENCODERS.idleCount('gzip', 8), 0);
  });
});
