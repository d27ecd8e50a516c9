import type { ContentTypeConfig } from '../../config/dynamic/content-type.ts';
import type { RequestHead, ResponseHead } from '../../core/request.ts';
import { bodyAllowed } from '../../core/status-text.ts';
import type { BodyFilter, BodyOutput, Middleware, MiddlewareFactory } from '../middleware.ts';
import { detectContentType, SNIFF_LEN } from './sniff.ts';

/**
 * Holds the first bytes of a response that came without Content-Type (up to 512, or all of a
 * shorter body), names their type in the head, which is still unsent, then lets everything
 * through unchanged.
 */
class Sniffer implements BodyFilter {
  readonly #res: ResponseHead;
  #out: BodyOutput | null = null;
  #held: Buffer[] | null = [];
  #heldBytes = 0;
  /** The next stage said it was full: our writer waits for `drained`. */
  #waiting = false;

  constructor(res: ResponseHead) {
    this.#res = res;
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    const held = this.#held;
    if (held === null) return this.#push(chunk);
    held.push(chunk);
    this.#heldBytes += chunk.length;
    return this.#heldBytes >= SNIFF_LEN ? this.#release(false) : true;
  }

  #push(chunk: Buffer): boolean {
    if (!this.#out!.push(chunk)) this.#waiting = true;
    return !this.#waiting;
  }

  /** Names the type from what is held and lets it go; `whole`: the body ended, its length is known. */
  #release(whole: boolean): boolean {
    const held = this.#held!;
    this.#held = null;
    const all = held.length === 1 ? held[0]! : Buffer.concat(held);
    // Go sniffs only a non-empty body (chunkWriter.writeHeader: len(p) > 0).
    if (all.length > 0) this.#res.headers.set('Content-Type', detectContentType(all));
    // A body that ended before 512 bytes keeps a Content-Length (nothing went out yet).
    if (whole) this.#out!.length(all.length);
    return all.length === 0 || this.#push(all);
  }

  resume(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#out!.drained();
  }

  end(): void {
    if (this.#held !== null) this.#release(true);
    this.#out!.end();
  }

  destroy(): void {
    this.#held = null;
  }
}

/**
 * Traefik v3's contentType middleware: a response the backend sent without Content-Type gets the
 * type sniffed from its first bytes (Go's DetectContentType, sniff.ts), as Traefik v2 did for
 * every response; without the middleware such a response goes out without one. The deprecated
 * `autoDetect: false` turns it off. Only responses without Content-Type pass through a filter
 * (the body phase: they are then re-framed); the others cost nothing.
 */
class ContentType implements Middleware {
  onResponseBody = (req: RequestHead, res: ResponseHead): BodyFilter | null => {
    if (req.method === 'HEAD' || !sniffable(res)) return null;
    return new Sniffer(res);
  };

  /**
   * An answer written after this middleware (a redirect's `Found`, ipAllowList's `Forbidden`, the
   * proxy's `Bad Gateway`…): Traefik's entry point leaves it without a type, and this middleware
   * having turned Go's sniffing back on for what it wraps, Go names the type from the body, HEAD
   * included (chunkWriter.writeHeader sniffs the bytes the handler wrote).
   */
  onDirectResponse = (_req: RequestHead, res: ResponseHead, body: string): void => {
    if (body === '' || !sniffable(res)) return;
    const bytes = Buffer.from(body.length > SNIFF_LEN ? body.slice(0, SNIFF_LEN) : body, 'utf8');
    res.headers.set('Content-Type', detectContentType(bytes.subarray(0, SNIFF_LEN)));
  };
}

/**
 * Whether Go's server (chunkWriter.writeHeader), which does Traefik's sniffing, would name this
 * response's type: none set, a status with a body, and no Content-Encoding (compressed bytes do
 * not show their type).
 */
function sniffable(res: ResponseHead): boolean {
  if (res.headers.has('content-type') || !bodyAllowed(res.status)) return false;
  const ce = res.headers.get('content-encoding');
  return ce === undefined || ce === '';
}

export const contentTypeFactory: MiddlewareFactory<ContentTypeConfig> = {
  type: 'contentType',
  create(config) {
    return config.autoDetect === false ? {} : new ContentType();
  },
};
