import type { CompressConfig, CompressEncoding } from '../config/dynamic/body-middlewares.ts';
import type { HeaderList } from '../core/headers.ts';
import type { RequestHead, ResponseHead } from '../core/request.ts';
import { ENCODERS, type Encoder, FINISH, FLUSH } from './encoder-pool.ts';
import type { BodyFilter, BodyOutput, Middleware, MiddlewareFactory } from './middleware.ts';

/**
 * `compress` (Traefik v3): gzip, br and zstd from node:zlib, chosen by the client's
 * Accept-Encoding (q-values; ties go to `encodings` order), never twice, never for
 * application/grpc, HEAD, partial content or already encoded bodies. Traefik's rules
 * (pkg/middlewares/compress): no Accept-Encoding → `defaultEncoding` or nothing; an empty one →
 * nothing. Once a coding is chosen every response gets `Vary: Accept-Encoding`, compressed or
 * not (Traefik adds it before calling the next handler). A body of known length under
 * `minResponseBodyBytes` is sent as it is; one of unknown length is compressed from its first
 * byte, whatever its size: Traefik's proxy flushes such a response after every write, and a
 * flush before the size is known starts the compression. The compressed response has no
 * Content-Length or Accept-Ranges; its ETag is left as it is, as Traefik does.
 *
 * Traefik's gzip handler (klauspost's gzhttp) reads Accept-Encoding again and compresses only
 * when it names gzip with a q above 0: gzip reached through `*` or `defaultEncoding` leaves the
 * body as it is (Traefik's own test says so), and so does it here.
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

  onResponse(req: RequestHead, res: ResponseHead): void {
    if (this.#handler(req) !== null) addVary(res.headers);
  }

  onResponseBody(req: RequestHead, res: ResponseHead): BodyFilter | null {
    const coding = this.#handler(req);
    if (coding === null) return null;
    if (coding === 'gzip' && !(gzipQ(req.headers.get('accept-encoding')) > 0)) return null;
    const h = res.headers;
    if (res.status === 206 || h.has('content-range')) return null;
    const ce = h.get('content-encoding');
    // Any Content-Encoding, `identity` too, as Traefik's `Header().Get(...) != ""`.
    if (ce !== undefined && ce !== '') return null;
    const type = mediaType(h.get('content-type'));
    if (this.#excludes.includes(type)) return null;
    if (this.#c.includedContentTypes.length > 0 && !this.#c.includedContentTypes.includes(type)) return null;
    const level = this.#c.levels[coding];
    const cl = h.get('content-length');
    if (cl === undefined) return new CompressFilter(coding, level, h, true);
    const n = Number(cl);
    if (n < this.#c.minResponseBodyBytes) return null;
    if (n <= ONE_SHOT_MAX) return new OneShotFilter(coding, level, h, n);
    return new CompressFilter(coding, level, h, false);
  }

  /**
   * The coding whose handler Traefik's ServeHTTP calls for this request, or null when it calls
   * the next handler directly: HEAD, a request of an excluded media type (text/event-stream
   * requests, #2576), or no acceptable coding.
   */
  #handler(req: RequestHead): CompressEncoding | null {
    if (req.method === 'HEAD') return null;
    if (this.#excludes.includes(mediaType(req.headers.get('content-type')))) return null;
    return this.#choose(req.headers);
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

/**
 * gzhttp's parseEncodingGzip: the q of the first `gzip` (any case) in the first Accept-Encoding
 * field; 0 when there is none. Each parameter resets q to 1, so the last one decides, and a q
 * that does not parse is 0, as there.
 */
function gzipQ(v: string | undefined): number {
  if (v === undefined) return 0;
  for (const item of v.split(',')) {
    const parts = item.split(';');
    if (parts[0]!.trim().toLowerCase() !== 'gzip') continue;
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!.trim();
      q = p.startsWith('q=') ? Math.min(Math.max(Number(p.slice(2)) || 0, 0), 1) : 1;
    }
    return q;
  }
  return 0;
}

/** `type/subtype` of a Content-Type value, lowercased; '' when absent. */
function mediaType(v: string | undefined): string {
  return v === undefined ? '' : v.split(';')[0]!.trim().toLowerCase();
}

/** Vary: Accept-Encoding, unless a Vary field already lists it (or `*`). */
function addVary(h: HeaderList): void {
  const vary = h.getAll('vary');
  if (!vary.some((v) => /(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(v))) h.append('Vary', 'Accept-Encoding');
}

/** The head of a response the proxy encodes (Vary was added by `onResponse`). */
function markEncoded(h: HeaderList, coding: CompressEncoding): void {
  h.set('Content-Encoding', coding);
  h.delete('content-length');
  h.delete('accept-ranges');
}

/**
 * Bodies of known length up to this are compressed in one go: gathered (they are small), then
 * written to a pooled coder at once and finished, and sent with a Content-Length. Larger bodies
 * stream through the coder.
 */
const ONE_SHOT_MAX = 256 * 1024;

/** A body of known, small length: gathered, compressed in one go, sent with its length. */
class OneShotFilter implements BodyFilter {
  readonly #coding: CompressEncoding;
  readonly #level: number;
  /**
   * The whole body, in one buffer of the announced length: one allocation per response (each
   * large Buffer is V8 external memory, and their rate is what drives its full collections).
   */
  #body: Buffer;
  #n = 0;
  #out!: BodyOutput;
  #over = false;

  constructor(coding: CompressEncoding, level: number, headers: HeaderList, length: number) {
    this.#coding = coding;
    this.#level = level;
    this.#body = Buffer.allocUnsafe(length);
    markEncoded(headers, coding);
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    // A chunk is only ours during the call (BodyFilter): copied. The upstream's framing keeps
    // the body within its Content-Length.
    this.#n += chunk.copy(this.#body, this.#n);
    return true;
  }

  end(): void {
    const body = this.#n === this.#body.length ? this.#body : this.#body.subarray(0, this.#n);
    const coding = this.#coding;
    const level = this.#level;
    const z = ENCODERS.acquire(coding, level);
    const parts: Buffer[] = [];
    let n = 0;
    z.on('data', (b: Buffer) => {
      parts.push(b);
      n += b.length;
    });
    z.on('error', (e: Error) => {
      if (this.#over) return;
      this.#over = true;
      this.#out.fail(`${coding}: ${e.message}`, 502);
    });
    z.write(body);
    z.flush(FINISH[coding], () => {
      ENCODERS.release(coding, level, z);
      if (this.#over) return;
      this.#over = true;
      const r = parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
      this.#out.length(r.length);
      this.#out.push(r);
      this.#out.end();
    });
  }

  destroy(): void {
    this.#over = true;
  }
}

/**
 * One response's compressor. The coder starts at the first byte: a body that turns out empty
 * goes out as it is, head untouched, rather than as an empty compressed stream.
 */
class CompressFilter implements BodyFilter {
  readonly #coding: CompressEncoding;
  readonly #level: number;
  readonly #headers: HeaderList;
  readonly #flushEachWrite: boolean;
  #out!: BodyOutput;
  #z: Encoder | null = null;
  #flushing = false;
  /** The FINISH flush is queued: no other flush may follow it (the coder goes back to the pool). */
  #ending = false;
  #dead = false;

  constructor(coding: CompressEncoding, level: number, headers: HeaderList, flushEachWrite: boolean) {
    this.#coding = coding;
    this.#level = level;
    this.#headers = headers;
    this.#flushEachWrite = flushEachWrite;
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    if (this.#z === null) this.#begin();
    // A chunk is only ours during the call (BodyFilter): what the coder queues is a copy.
    return this.#writeAll(Buffer.from(chunk));
  }

  end(): void {
    const z = this.#z;
    if (z === null) {
      // No byte came: nothing to compress, the head goes out as it was.
      if (!this.#dead) this.#out.end();
      return;
    }
    this.#ending = true;
    z.flush(FINISH[this.#coding], () => {
      this.#z = null;
      ENCODERS.release(this.#coding, this.#level, z);
      if (!this.#dead) this.#out.end();
    });
  }

  resume(): void {
    this.#z?.resume();
  }

  destroy(): void {
    this.#dead = true;
    // Mid-body, the coder's state belongs to this response: it is not pooled. Once its FINISH
    // is queued, the flush's callback gives it back.
    if (!this.#ending) {
      this.#z?.destroy();
      this.#z = null;
    }
  }

  /** Compress from now on: the head says so before its first byte goes out. */
  #begin(): void {
    markEncoded(this.#headers, this.#coding);
    const z = ENCODERS.acquire(this.#coding, this.#level);
    this.#z = z;
    // A full next stage (a slow client) pauses the coder's output; its input then fills up and
    // `write` says so, which pauses the upstream.
    z.on('data', (b: Buffer) => {
      if (!this.#dead && !this.#out.push(b)) z.pause();
    });
    z.on('error', (e: Error) => {
      if (!this.#dead) this.#out.fail(`${this.#coding}: ${e.message}`);
    });
    z.on('drain', () => this.#out.drained());
  }

  #writeAll(chunk: Buffer): boolean {
    const z = this.#z!;
    const ok = z.write(chunk);
    if (this.#flushEachWrite && !this.#flushing) {
      // One flush per turn of writes: what arrived goes out now, as a whole compressed block.
      this.#flushing = true;
      setImmediate(() => {
        this.#flushing = false;
        if (!this.#ending && !this.#dead) this.#z?.flush(FLUSH[this.#coding]);
      });
    }
    return ok;
  }
}

export const compressFactory: MiddlewareFactory<CompressConfig> = {
  type: 'compress',
  create: (config) => new Compress(config),
};
