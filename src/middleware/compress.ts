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
 * written to a pooled coder at once and finished, and sent with a Content-Length. Larger bodies
 * stream through the coder.
 */
const ONE_SHOT_MAX = 256 * 1024;

/**
 * Gathering buffers of ONE_SHOT_MAX bytes, used again from one response to the next: a fresh
 * 100 KB Buffer per response is V8 external memory whose rate drives full collections (the GC
 * was a sixth of the proxy's time on the compress bench). A buffer comes back when the coder is
 * done reading it (its FINISH flush called back), never while the thread pool may still read it.
 */
const GATHER_IDLE: Buffer[] = [];
const GATHER_MAX_IDLE = 16;

function gatherBuffer(length: number): Buffer {
  return GATHER_IDLE.pop() ?? Buffer.allocUnsafe(Math.max(length, ONE_SHOT_MAX));
}

function returnGatherBuffer(b: Buffer): void {
  if (GATHER_IDLE.length < GATHER_MAX_IDLE) GATHER_IDLE.push(b);
}

/** A body of known, small length: gathered, compressed in one go, sent with its length. */
class OneShotFilter implements BodyFilter {
  readonly #coding: CompressEncoding;
  readonly #level: number;
  /** The whole body, gathered in a pooled buffer (gatherBuffer) of at least its announced length. */
  #body: Buffer;
  readonly #length: number;
  #n = 0;
  #out!: BodyOutput;
  #over = false;

  constructor(coding: CompressEncoding, level: number, headers: HeaderList, length: number) {
    this.#coding = coding;
    this.#level = level;
    this.#length = length;
    this.#body = gatherBuffer(length);
    markEncoded(headers, coding);
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    // A chunk is only ours during the call (BodyFilter): copied. The upstream's framing keeps
    // the body within its Content-Length (the copy stops there anyway).
    this.#n += chunk.copy(this.#body, this.#n, 0, Math.min(chunk.length, this.#length - this.#n));
    return true;
  }

  end(): void {
    const gathered = this.#body;
    const body = gathered.subarray(0, this.#n);
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
      returnGatherBuffer(gathered);
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
  /** The FINISH flush is queued: no other flush may follow it (the coder goes back to the pool). */
  #ending = false;
  #dead = false;

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
    // A chunk is only ours during the call (BodyFilter): what is kept (held, or queued in the
    // coder) is a copy.
    const copy = Buffer.from(chunk);
    const held = this.#held;
    if (held !== null) {
      held.push(copy);
      this.#heldBytes += copy.length;
      if (this.#heldBytes < this.#holdUntil) return true;
      this.#held = null;
      this.#begin();
      return this.#writeAll(held);
    }
    return this.#writeAll([copy]);
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
    const z = this.#z;
    if (z === null) return;
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
    this.#held = null;
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

  #writeAll(chunks: readonly Buffer[]): boolean {
    const z = this.#z!;
    let ok = true;
    for (const c of chunks) ok = z.write(c);
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
