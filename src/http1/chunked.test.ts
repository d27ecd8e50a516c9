import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from './chunked.ts';

const ERROR = -2;

class Collect implements ChunkSink {
  readonly parts: Buffer[] = [];
  onChunkData(buf: Buffer, start: number, end: number): void {
    assert.ok(start < end, 'a sink never receives an empty slice');
    this.parts.push(Buffer.from(buf.subarray(start, end)));
  }
  get text(): string {
    return Buffer.concat(this.parts).toString('latin1');
  }
}

interface Decoded {
  readonly result: number;
  readonly data: string;
  readonly error: string | null;
}

/** Feeds `body` (plus `after`) in one buffer and reports what came out. */
function decode(body: string, after = '', decoder = new ChunkedDecoder()): Decoded {
  const buf = Buffer.from(body + after, 'latin1');
  const sink = new Collect();
  const result = decoder.feed(buf, 0, buf.length, sink);
  return { result, data: sink.text, error: decoder.error };
}

/** Feeds `body` in pieces cut at `cuts`, each piece in a buffer of its own. */
function decodeSplit(body: string, cuts: readonly number[]): Decoded {
  const decoder = new ChunkedDecoder();
  const sink = new Collect();
  let result = CHUNKED_INCOMPLETE;
  const bounds = [0, ...cuts, body.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const piece = Buffer.from(body.slice(bounds[k], bounds[k + 1]), 'latin1');
    result = decoder.feed(piece, 0, piece.length, sink);
    if (k + 2 < bounds.length)
      assert.equal(result, CHUNKED_INCOMPLETE, `cut ${bounds[k + 1]} of ${JSON.stringify(body)}`);
  }
  return { result, data: sink.text, error: decoder.error };
}

function rejects(body: string, decoder?: ChunkedDecoder): string {
  const d = decode(body, '', decoder);
  assert.equal(d.result, ERROR, `expected an error for ${JSON.stringify(body)}, got ${d.result}`);
  assert.ok(d.error !== null);
  return d.error;
}

const VALID = [
  { body: '5\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  { body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', data: 'hello world' },
  {
    body: `A\r\n${'x'.repeat(10)}\r\nf\r\n${'y'.repeat(15)}\r\n0\r\n\r\n`,
    data: `${'x'.repeat(10)}${'y'.repeat(15)}`,
  },
  { body: '0\r\n\r\n', data: '' },
  { body: '3;a=b;c\r\nabc\r\n0;z="q r"\r\n\r\n', data: 'abc' },
  { body: '2\r\nhi\r\n0\r\nX-Trailer: 1\r\nY: two words\r\n\r\n', data: 'hi' },
  { body: '4\r\n\r\n\r\n\r\n0\r\n\r\n', data: '\r\n\r\n' },
];

describe('ChunkedDecoder: valid bodies', () => {
  it('decodes the data of each chunk and returns the index after the final CRLF', () => {
    for (const { body, data } of VALID) {
      const d = decode(body);
      assert.equal(d.data, data);
      assert.equal(d.result, body.length);
    }
  });

  it('gives identical data for every single split point', () => {
    for (const { body, data } of VALID) {
      for (let cut = 1; cut < body.length; cut++) {
        const d = decodeSplit(body, [cut]);
        assert.equal(d.data, data, `cut at ${cut}`);
        assert.equal(d.result, body.length - cut, `cut at ${cut}`);
      }
    }
  });

  it('gives identical data when fed one byte at a time', () => {
    for (const { body, data } of VALID) {
      const cuts = Array.from({ length: body.length - 1 }, (_, k) => k + 1);
      const d = decodeSplit(body, cuts);
      assert.equal(d.data, data);
      assert.equal(d.result, 1);
    }
  });

  it('drops chunk extensions and trailers from the data', () => {
    assert.equal(decode('1;ext=1\r\nx\r\n0;last\r\nT: v\r\n\r\n').data, 'x');
  });

  it('does not consume the bytes after the final CRLF', () => {
    const body = '2\r\nhi\r\n0\r\n\r\n';
    const next = 'GET / HTTP/1.1\r\n';
    const d = decode(body, next);
    assert.equal(d.result, body.length);
    assert.equal(d.data, 'hi');
  });

  it('honours the start offset and stops at end', () => {
    const buf = Buffer.from('XXXX3\r\nabc\r\n0\r\n\r\nYYYY', 'latin1');
    const sink = new Collect();
    const decoder = new ChunkedDecoder();
    assert.equal(decoder.feed(buf, 4, 10, sink), CHUNKED_INCOMPLETE);
    assert.equal(decoder.feed(buf, 10, buf.length, sink), 4 + '3\r\nabc\r\n0\r\n\r\n'.length);
    assert.equal(sink.text, 'abc');
    assert.equal(decoder.done, true);
  });

  it('returns -1 for every proper prefix of a valid body', () => {
    for (const { body } of VALID) {
      for (let end = 0; end < body.length; end++) {
        assert.equal(
          decode(body.slice(0, end)).result,
          CHUNKED_INCOMPLETE,
          JSON.stringify(body.slice(0, end)),
        );
      }
    }
  });

  it('can be reused after reset()', () => {
    const decoder = new ChunkedDecoder();
    assert.equal(decode('1\r\na\r\n0\r\n\r\n', '', decoder).data, 'a');
    decoder.reset();
    assert.equal(decoder.done, false);
    assert.equal(decode('1\r\nb\r\n0\r\n\r\n', '', decoder).data, 'b');
    decoder.reset();
    rejects('x\r\n', decoder);
    decoder.reset();
    assert.equal(decoder.error, null);
    assert.equal(decode('0\r\n\r\n', '', decoder).result, 5);
  });
});

describe('ChunkedDecoder: errors', () => {
  it('rejects chunk data not followed by CRLF', () => {
    rejects('5\r\nhelloXX0\r\n\r\n');
    rejects('3\r\nhello\r\n0\r\n\r\n');
    rejects('5\r\nhello\rX');
  });

  it('rejects a bare LF anywhere a CRLF belongs', () => {
    rejects('5\nhello\r\n0\r\n\r\n');
    rejects('5\r\nhello\n0\r\n\r\n');
    rejects('5\r\nhello\r\n0\n\r\n');
    rejects('5\r\nhello\r\n0\r\n\n');
    rejects('0\r\nX: a\nY: b\r\n\r\n');
  });

  it('rejects a bare CR after the size, after the last chunk and in a trailer', () => {
    rejects('5\rhello');
    rejects('0\r\n\rX');
    rejects('0\r\nX: a\rb\r\n\r\n');
  });

  it('rejects a size that is not hex digits', () => {
    for (const size of ['g', '0x5', '-5', '-1', '', '+5', '5.0']) rejects(`${size}\r\nhello\r\n0\r\n\r\n`);
  });

  it('rejects whitespace around the size', () => {
    for (const line of [' 5', '5 ', '5\t', '5 ;a=b']) rejects(`${line}\r\nhello\r\n0\r\n\r\n`);
  });

  it('rejects sizes of 16 or more hex digits (overflow)', () => {
    assert.match(rejects('ffffffffffffffff\r\n'), /too large/);
    assert.match(rejects('10000000000000005\r\n'), /too large/);
  });

  it('rejects control bytes, bare CR/LF and unterminated quotes in an extension', () => {
    for (const ext of [';a\rb', ';a\nb', ';a=\x00', ';a="b', ';a b', ';a = b'])
      rejects(`5${ext}\r\nhello\r\n0\r\n\r\n`);
  });

  it('accepts quoted-pairs inside a quoted extension value (RFC 9112 §7.1.1, RFC 9110 §5.6.4)', () => {
    for (const ext of [';a="b\\"c"', ';a="\\\\"', ';a="x\\\\\\"y";b', ';a="\\\t\\ \\\xe9"']) {
      const input = `5${ext}\r\nhello\r\n0\r\n\r\n`;
      const d = decode(input);
      assert.equal(d.result, input.length, `${JSON.stringify(ext)}: ${d.error}`);
      assert.equal(d.data, 'hello');
    }
  });

  it('rejects a quoted-pair escaping a control byte or left open at the end of the line', () => {
    for (const ext of [';a="b\\\r\n', ';a="\\\x00"', ';a="\\\x7f"', ';a="b\\"', ';a="b\\"\r\n'])
      rejects(`5${ext}\r\nhello\r\n0\r\n\r\n`);
  });

  it('rejects extensions beyond the limit (extension flood)', () => {
    const decoder = new ChunkedDecoder(16);
    const within = `1;${'a'.repeat(14)}\r\nx\r\n0\r\n\r\n`;
    assert.equal(decode(within, '', decoder).result, within.length);
    decoder.reset();
    assert.match(rejects(`1;${'a'.repeat(20)}\r\nx\r\n0\r\n\r\n`, decoder), /extensions too long/);
    assert.match(rejects(`1;${'a'.repeat(5000)}\r\n`), /extensions too long/);
  });

  it('rejects trailers beyond the limit', () => {
    assert.match(
      rejects(`0\r\nX: ${'v'.repeat(100)}\r\n\r\n`, new ChunkedDecoder(4096, 64)),
      /trailers too large/,
    );
  });

  it('rejects malformed trailer lines: obs-fold, whitespace before the colon, no colon, NUL', () => {
    for (const t of ['X: a\r\n b', 'X : a', 'Xa', 'X: a\x00', ': a']) rejects(`0\r\n${t}\r\n\r\n`);
  });
});

describe('ChunkedDecoder: as strict as llhttp', () => {
  // Each of these is refused by node:http (HPE_STRICT "Invalid character in chunk extensions…");
  // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-name = token.
  for (const ext of [';', ';a==b', ';a=b;', ';"a"', ';a="b"c']) {
    it(`rejects the chunk extension ${JSON.stringify(ext)}`, () => {
      rejects(`5${ext}\r\nhello\r\n0\r\n\r\n`);
    });
  }

  // llhttp parses trailers as fields of the message: framing fields there are refused
  // (HPE_INVALID_CONTENT_LENGTH / HPE_INVALID_TRANSFER_ENCODING), and RFC 9110 §6.5.1 forbids them.
  for (const trailer of ['Content-Length: 5', 'Transfer-Encoding: chunked', 'content-length: 0']) {
    it(`rejects the trailer ${JSON.stringify(trailer)}`, () => {
      rejects(`0\r\n${trailer}\r\n\r\n`);
    });
  }

  // llhttp applies `Connection: close` (and Proxy-Connection) found in trailers: node then refuses
  // the next pipelined request with HPE_CLOSED_CONNECTION, while we would keep reading.
  for (const trailer of ['Connection: close', 'Proxy-Connection: close']) {
    it(`rejects the trailer ${JSON.stringify(trailer)}`, () => {
      rejects(`0\r\n${trailer}\r\n\r\n`);
    });
  }
});
