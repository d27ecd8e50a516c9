import type { BodyFilter, BodyOutput } from '../middleware/middleware.ts';

/** The exchange's side of a response pipeline. */
export interface PipelineSink {
  /** Filtered bytes for the client; false when the client is slow (the source is paused). */
  pipelineData(chunk: Buffer): boolean;
  /** The filtered body is complete. */
  pipelineEnd(): void;
  /** A filter failed: the response is broken. */
  pipelineFailed(reason: string): void;
  /** Every filter takes input again: the source may resume. */
  pipelineDrained(): void;
}

/** One filter's output: the next filter's input, or the client for the last one. */
class Stage implements BodyOutput {
  readonly #pipeline: ResponsePipeline;
  readonly #index: number;

  constructor(pipeline: ResponsePipeline, index: number) {
    this.#pipeline = pipeline;
    this.#index = index;
  }

  push(chunk: Buffer): void {
    this.#pipeline.output(this.#index, chunk);
  }

  end(): void {
    this.#pipeline.ended(this.#index);
  }

  fail(reason: string): void {
    this.#pipeline.failed(reason);
  }

  drained(): void {
    this.#pipeline.drained(this.#index);
  }
}

/**
 * A response body on its way through the filters of its route's middlewares (the body phase):
 * the upstream's bytes go into the first filter, each filter's output into the next, the last
 * one's to the client. Backpressure: a filter that wants no more input, or a client that is slow,
 * pauses the source (the upstream); filters hold at most what they already took. One pipeline
 * per response that has filters; none at all for the others.
 */
export class ResponsePipeline {
  readonly #filters: readonly BodyFilter[];
  readonly #sink: PipelineSink;
  /** Filters that returned false from `write` and have not drained yet. */
  #blocked = 0;
  readonly #isBlocked: boolean[];
  #over = false;

  constructor(filters: readonly BodyFilter[], sink: PipelineSink) {
    this.#filters = filters;
    this.#sink = sink;
    this.#isBlocked = filters.map(() => false);
    for (let i = 0; i < filters.length; i++) filters[i]!.start(new Stage(this, i));
  }

  /** Source bytes; false when the source must pause until `pipelineDrained`. */
  write(chunk: Buffer): boolean {
    if (this.#over) return true;
    this.#feed(0, chunk);
    return this.#blocked === 0;
  }

  /** The source ended. */
  end(): void {
    if (!this.#over) this.#filters[0]!.end();
  }

  /** Stops everything (the exchange ended first). */
  destroy(): void {
    if (this.#over) return;
    this.#over = true;
    for (const f of this.#filters) f.destroy();
  }

  #feed(index: number, chunk: Buffer): void {
    if (!this.#filters[index]!.write(chunk) && !this.#isBlocked[index]) {
      this.#isBlocked[index] = true;
      this.#blocked++;
    }
  }

  output(index: number, chunk: Buffer): void {
    if (this.#over || chunk.length === 0) return;
    if (index + 1 < this.#filters.length) this.#feed(index + 1, chunk);
    else this.#sink.pipelineData(chunk);
  }

  ended(index: number): void {
    if (this.#over) return;
    if (index + 1 < this.#filters.length) {
      this.#filters[index + 1]!.end();
      return;
    }
    this.#over = true;
    this.#sink.pipelineEnd();
  }

  failed(reason: string): void {
    if (this.#over) return;
    this.destroy();
    this.#sink.pipelineFailed(reason);
  }

  drained(index: number): void {
    if (!this.#isBlocked[index]) return;
    this.#isBlocked[index] = false;
    this.#blocked--;
    if (this.#blocked === 0 && !this.#over) this.#sink.pipelineDrained();
  }
}
