import type { BodyFilter, BodyOutput } from '../middleware/middleware.ts';

/** The exchange's side of a response pipeline. */
export interface PipelineSink {
  /** Filtered bytes for the client; false when the client is slow (the source is paused). */
  pipelineData(chunk: Buffer): boolean;
  /** The last filter announced the output's length before its first byte. */
  pipelineLength(n: number): void;
  /** The filtered body is complete. */
  pipelineEnd(): void;
  /**
   * A filter failed: the response is broken (or answered `status` if nothing was sent);
   * `filter` is the failed filter's index in the pipeline.
   */
  pipelineFailed(reason: string, status: number | undefined, filter: number): void;
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

  push(chunk: Buffer): boolean {
    return this.#pipeline.output(this.#index, chunk);
  }

  length(n: number): void {
    this.#pipeline.length(this.#index, n);
  }

  end(): void {
    this.#pipeline.ended(this.#index);
  }

  fail(reason: string, status?: number): void {
    this.#pipeline.failed(this.#index, reason, status);
  }

  drained(): void {
    this.#pipeline.drained(this.#index);
  }
}

/**
 * A response body on its way through the filters of its route's middlewares (the body phase):
 * the upstream's bytes go into the first filter, each filter's output into the next, the last
 * one's to the client. Backpressure both ways: a filter that wants no more input pauses the
 * source (the upstream) until it drained; a stage that is full (the next filter, or a slow
 * client) tells the filter before it through `push`'s result, and calls its `resume` once it
 * takes bytes again. One pipeline per response that has filters; none for the others.
 */
export class ResponsePipeline {
  readonly #filters: readonly BodyFilter[];
  readonly #sink: PipelineSink;
  /** Filters that returned false from `write` and have not drained yet. */
  #blocked = 0;
  readonly #isBlocked: boolean[];
  #clientFull = false;
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

  /** The client takes bytes again. */
  clientDrained(): void {
    if (!this.#clientFull || this.#over) return;
    this.#clientFull = false;
    this.#filters[this.#filters.length - 1]!.resume?.();
  }

  /** Stops everything (the exchange ended first). */
  destroy(): void {
    if (this.#over) return;
    this.#over = true;
    for (const f of this.#filters) f.destroy();
  }

  #feed(index: number, chunk: Buffer): boolean {
    if (this.#filters[index]!.write(chunk)) return true;
    if (!this.#isBlocked[index]) {
      this.#isBlocked[index] = true;
      this.#blocked++;
    }
    return false;
  }

  output(index: number, chunk: Buffer): boolean {
    if (this.#over) return true;
    if (chunk.length === 0) return true;
    if (index + 1 < this.#filters.length) return this.#feed(index + 1, chunk);
    if (this.#sink.pipelineData(chunk)) return true;
    this.#clientFull = true;
    return false;
  }

  length(index: number, n: number): void {
    if (!this.#over && index === this.#filters.length - 1) this.#sink.pipelineLength(n);
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

  failed(index: number, reason: string, status: number | undefined): void {
    if (this.#over) return;
    this.destroy();
    this.#sink.pipelineFailed(reason, status, index);
  }

  drained(index: number): void {
    if (this.#over || !this.#isBlocked[index]) return;
    this.#isBlocked[index] = false;
    this.#blocked--;
    // The filter before it may push again; the source once no filter is blocked.
    if (index > 0) this.#filters[index - 1]!.resume?.();
    if (this.#blocked === 0) this.#sink.pipelineDrained();
  }
}
