import {
  type BrotliCompress,
  brotliCompress,
  constants,
  createBrotliCompress,
  createGzip,
  createZstdCompress,
  type Gzip,
  gzip,
  type ZstdCompress,
  zstdCompress,
} from 'node:zlib';

/** The three coders share zlib's stream interface, flush(kind) included. */
type Encoder = Gzip | BrotliCompress | ZstdCompress;

import type { CompressConfig, CompressEncoding } from '../config/dynamic/body-middlewares.ts';
import type { HeaderList } from '../core/headers.ts';
import type { RequestHead, ResponseHead } from '../core/request.ts';
import type { BodyFilter, BodyOutput, Middleware, MiddlewareFactory } from './middleware.ts';

/**
 * `compress` (Traefik v3): gzip, br and zstd from node:zlib, chosen by the client's
 * Accept-Encoding (q-values; ties go to `encodings` order), never twice, never for
 * application/grpc, HEAD, partial content or already encoded bodies. Traefik's rules
 * (pkg/middlewares/compress): no Accept-Encoding → `defaultEncoding` or nothing; an empty one →
 * nothing; bodies under `minResponseBodyBytes` are sent as they are (with an unknown length, the
 * first bytes are held until that many arrived or the body ended). The compressed response gets
 * `Vary: Accept-Encoding`, a weak ETag, and no Content-Length or Accept-Ranges.
 *
 * The coding runs in node's thread pool, off the event loop. A response of unknown length is
 * flushed after every chunk (Go's proxy flushes such responses at every write), so a compressed
 * event stream stays live; a response of known length is flushed only at its end.
 */
class Compress implements Middleware {
  readonly #c: CompressConfig;
  readonly #excludes: readonly string[];
  /** Rank of each coding in `encodings` (lower = preferred), `*` before all, identity after. */
  readonly #rank: ReadonlyMap<string, number>;

  constructor(c: CompressConfig) {
    this.#c = c;
    this.#excludes = ['application/grpc', ...c.excludedContentTypes];
    const rank = new Map<string, number>([
      ['*', -1],
      ['identity', c.encodings.length],
    ]);
    for (const [i, e] of c.encodings.entries()) rank.set(e, i);
    this.#rank = rank;
  }

  onResponseBody(req: RequestHead, res: ResponseHead): BodyFilter | null {
    if (req.method === 'HEAD') return null;
    // Traefik looks at the request's media type here too (text/event-stream requests, #2576).
    if (this.#excludes.includes(mediaType(req.headers.get('content-type')))) return null;
    const coding = this.#choose(req.headers);
    if (coding === null) return null;
    const h = res.headers;
    if (res.status === 206 || h.has('content-range')) return null;
    const ce = h.get('content-encoding');
    if (ce !== undefined && ce.trim().toLowerCase() !== 'identity') return null;
    const type = mediaType(h.get('content-type'));
    if (this.#excludes.includes(type)) return null;
    if (this.#c.includedContentTypes.length > 0 && !this.#c.includedContentTypes.includes(type)) return null;
    const cl = h.get('content-length');
    const min = this.#c.minResponseBodyBytes;
    if (cl !== undefined) {
      const n = Number(cl);
      if (n < min) return null;
      if (n <= ONE_SHOT_MAX) return new OneShotFilter(coding, this.#c.levels[coding], h, n);
      return new CompressFilter(coding, this.#c.levels[coding], h, 0, false);
    }
    // Unknown length: hold the first bytes until `min` arrived (an event stream is never held).
    return new CompressFilter(
      coding,
      this.#c.levels[coding],
      h,
      type === 'text/event-stream' ? 0 : min,
      true,
    );
  }

  /** Traefik's getCompressionEncoding, with `defaultEncoding` for requests that name no coding. */
  #choose(headers: HeaderList): CompressEncoding | null {
    const values = headers.getAll('accept-encoding');
    if (values.length === 0) return this.#c.defaultEncoding === '' ? null : this.#c.defaultEncoding;
    if (values.length === 1 && values[0]!.trim() === '') return null;
    let best: string | null = null;
    let bestQ = 0;
    for (const item of values.join(',').replaceAll(' ', '').split(',')) {
      const [name = '', param] = item.split(';', 2);
      const coding = name.toLowerCase();
      const rank = this.#rank.get(coding);
      if (rank === undefined) continue;
      let q = 1;
      if (param?.startsWith('q=')) q = Number(param.slice(2)) || 0;
      if (q <= 0) continue;
      if (best === null || q > bestQ || (q === bestQ && rank < this.#rank.get(best)!)) {
        best = coding;
        bestQ = q;
      }
    }
    if (best === null || best === 'identity') return null;
    if (best === '*') return this.#c.defaultEncoding === '' ? this.#c.encodings[0]! : this.#c.defaultEncoding;
    return best as CompressEncoding;
  }
}

/** `type/subtype` of a Content-Type value, lowercased; '' when absent. */
function mediaType(v: string | undefined): string {
  return v === undefined ? '' : v.split(';')[0]!.trim().toLowerCase();
}

/** A flush that ends a block without resetting the coder's state (the ratio survives it). */
const FLUSH: Readonly<Record<CompressEncoding, number>> = {
  gzip: constants.Z_SYNC_FLUSH,
  br: constants.BROTLI_OPERATION_FLUSH,
  zstd: constants.ZSTD_e_flush,
};

function encoder(coding: CompressEncoding, level: number): Encoder {
  switch (coding) {
    case 'gzip':
      return createGzip({ level });
    case 'br':
      return createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } });
    case 'zstd':
      return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } });
  }
}

/** The head of a response the proxy encodes: what a cache and a client must know. */
function markEncoded(h: HeaderList, coding: CompressEncoding): void {
  h.set('Content-Encoding', coding);
  h.delete('content-length');
  h.delete('accept-ranges');
  const vary = h.getAll('vary');
  if (!vary.some((v) => /(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(v))) h.append('Vary', 'Accept-Encoding');
  const etag = h.get('etag');
  if (etag !== undefined && !etag.startsWith('W/')) h.set('ETag', `W/${etag}`);
}

/**
 * Bodies of known length up to this are compressed in one go: gathered (they are small), then
 * one task in the thread pool (zlib's one-shot call), and sent with a Content-Length. Cheaper
 * than a stream's per-chunk hand-offs; larger bodies stream.
 */
const ONE_SHOT_MAX = 256 * 1024;

const ONE_SHOT: Readonly<
  Record<CompressEncoding, (b: Buffer, level: number, cb: (e: Error | null, r: Buffer) => void) => void>
> = {
  gzip: (b, level, cb) => gzip(b, { level }, cb),
  br: (b, level, cb) => brotliCompress(b, { params: { [constants.BROTLI_PARAM_QUALITY]: level } }, cb),
  zstd: (b, level, cb) => zstdCompress(b, { params: { [constants.ZSTD_c_compressionLevel]: level } }, cb),
};

/** A body of known, small length: gathered, compressed in one task, sent with its length. */
class OneShotFilter implements BodyFilter {
  readonly #coding: CompressEncoding;
  readonly #level: number;
  readonly #chunks: Buffer[] = [];
  #out!: BodyOutput;
  #over = false;

  constructor(coding: CompressEncoding, level: number, headers: HeaderList, _length: number) {
    this.#coding = coding;
    this.#level = level;
    markEncoded(headers, coding);
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    // The chunk may be a view of a socket's read buffer, reused after this call: copied.
    this.#chunks.push(Buffer.from(chunk));
    return true;
  }

  end(): void {
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks.length = 0;
    ONE_SHOT[this.#coding](body, this.#level, (e, r) => {
      if (this.#over) return;
      this.#over = true;
      if (e !== null) {
        this.#out.fail(`${this.#coding}: ${e.message}`, 502);
        return;
      }
      this.#out.length(r.length);
      this.#out.push(r);
      this.#out.end();
    });
  }

  destroy(): void {
    this.#over = true;
    this.#chunks.length = 0;
  }
}

/** One response's compressor (or, when its body turns out too short, its pass-through). */
class CompressFilter implements BodyFilter {
  readonly #coding: CompressEncoding;
  readonly #level: number;
  readonly #headers: HeaderList;
  /** Bytes to hold before deciding (0 = decided: compress). */
  readonly #holdUntil: number;
  readonly #flushEachWrite: boolean;
  #out!: BodyOutput;
  #held: Buffer[] | null = null;
  #heldBytes = 0;
  #z: Encoder | null = null;
  #flushing = false;

  constructor(
    coding: CompressEncoding,
    level: number,
    headers: HeaderList,
    holdUntil: number,
    flushEachWrite: boolean,
  ) {
    this.#coding = coding;
    this.#level = level;
    this.#headers = headers;
    this.#holdUntil = holdUntil;
    this.#flushEachWrite = flushEachWrite;
  }

  start(out: BodyOutput): void {
    this.#out = out;
    if (this.#holdUntil === 0) this.#begin();
    else this.#held = [];
  }

  write(chunk: Buffer): boolean {
    const held = this.#held;
    if (held !== null) {
      held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes < this.#holdUntil) return true;
      this.#held = null;
      this.#begin();
      return this.#writeAll(held);
    }
    return this.#writeAll([chunk]);
  }

  end(): void {
    const held = this.#held;
    if (held !== null) {
      // Shorter than minResponseBodyBytes: sent as it came, head untouched.
      this.#held = null;
      for (const b of held) this.#out.push(b);
      this.#out.end();
      return;
    }
    this.#z?.end();
  }

  resume(): void {
    this.#z?.resume();
  }

  destroy(): void {
    this.#held = null;
    this.#z?.destroy();
    this.#z = null;
  }

  /** Compress from now on: the head says so before its first byte goes out. */
  #begin(): void {
    markEncoded(this.#headers, this.#coding);
    const z = encoder(this.#coding, this.#level);
    this.#z = z;
    // A full next stage (a slow client) pauses the coder's output; its input then fills up and
    // `write` says so, which pauses the upstream.
    z.on('data', (b: Buffer) => {
      if (!this.#out.push(b)) z.pause();
    });
    z.on('end', () => this.#out.end());
    z.on('error', (e: Error) => this.#out.fail(`${this.#coding}: ${e.message}`));
    z.on('drain', () => this.#out.drained());
  }

  #writeAll(chunks: readonly Buffer[]): boolean {
    const z = this.#z!;
    let ok = true;
    for (const c of chunks) ok = z.write(c);
    if (this.#flushEachWrite && !this.#flushing) {
      // One flush per turn of writes: what arrived goes out now, as a whole compressed block.
      this.#flushing = true;
      setImmediate(() => {
        this.#flushing = false;
        this.#z?.flush(FLUSH[this.#coding]);
      });
    }
    return ok;
  }
}

export const compressFactory: MiddlewareFactory<CompressConfig> = {
  type: 'compress',
  create: (config) => new Compress(config),
};
