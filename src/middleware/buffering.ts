import type { BufferingConfig } from '../config/dynamic/body-middlewares.ts';
import { SpooledBody, type SpoolReplay } from '../core/spooled-body.ts';
import type { BodyFilter, BodyOutput, BufferingSpec, MiddlewareFactory } from './middleware.ts';
import { compileRetryExpression } from './retry-expression.ts';

/**
 * `buffering` (Traefik v3 over oxy's buffer). The request side is the exchange's (BufferingSpec:
 * the body is read whole, kept in memory then in a temporary file, before the request is sent,
 * and replayed for each try); the response side is this filter: the response is read whole, then
 * relayed with a Content-Length. Past `maxResponseBodyBytes` the client gets 500 (Traefik's
 * documented behaviour) and the upstream connection is closed.
 */
class BufferFilter implements BodyFilter {
  readonly #spool: SpooledBody;
  readonly #max: number;
  #out!: BodyOutput;
  #replay: SpoolReplay | null = null;
  #over = false;

  constructor(mem: number, max: number) {
    this.#spool = new SpooledBody(mem);
    this.#max = max;
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    if (this.#over) return true;
    if (this.#max > 0 && this.#spool.length + chunk.length > this.#max) {
      this.#over = true;
      this.#spool.dispose();
      this.#out.fail(`response body larger than maxResponseBodyBytes (${this.#max})`, 500);
      return true;
    }
    return this.#spool.add(chunk, 0, chunk.length, () => this.#out.drained());
  }

  end(): void {
    if (this.#over) return;
    const spool = this.#spool;
    void spool.settled().then(() => {
      if (this.#over || spool.disposed) return;
      if (spool.error !== null) {
        this.#over = true;
        this.#out.fail(spool.error, 500);
        return;
      }
      this.#out.length(spool.length);
      this.#replay = spool.replay({
        write: (c) => this.#out.push(c),
        end: () => {
          spool.dispose();
          this.#out.end();
        },
        fail: (reason) => this.#out.fail(reason),
      });
    });
  }

  resume(): void {
    this.#replay?.drained();
  }

  destroy(): void {
    this.#over = true;
    this.#replay?.stop();
    this.#spool.dispose();
  }
}

export const bufferingFactory: MiddlewareFactory<BufferingConfig> = {
  type: 'buffering',
  create(c) {
    let retry: BufferingSpec['retry'] = null;
    if (c.retryExpression.trim() !== '') {
      const r = compileRetryExpression(c.retryExpression);
      if (!r.ok) return { error: `retryExpression: ${r.error}` };
      retry = r.predicate;
    }
    const spec: BufferingSpec = {
      maxRequestBodyBytes: c.maxRequestBodyBytes,
      memRequestBodyBytes: c.memRequestBodyBytes,
      retry,
    };
    // Traefik's DisableRequestBuffer / DisableResponseBuffer: that side is not buffered at all.
    return {
      ...(c.disableRequestBuffer === true ? {} : { buffering: spec }),
      ...(c.disableResponseBuffer === true
        ? {}
        : { onResponseBody: () => new BufferFilter(c.memResponseBodyBytes, c.maxResponseBodyBytes) }),
    };
  },
};
