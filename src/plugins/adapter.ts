import type { BodyFilter as PluginBodyFilter, Middleware as PluginMiddleware } from '../../types/plugin.d.ts';
import type { Logger } from '../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import {
  type BodyFilter,
  type BodyOutput,
  type Middleware,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from '../middleware/middleware.ts';
import { Before, checkDirect, checkRequest, checkResponse } from './checks.ts';

/**
 * A plugin's middleware as the proxy runs it: every call into the plugin is guarded, so that an
 * exception (or a rejected promise, or something written that the proxy cannot send) costs that
 * request a 500 and a log line naming the plugin, never the process or another request.
 *
 * - onRequest: the exception becomes a direct 500. A returned promise suspends the request
 *   (SUSPEND, then `ctl.resume`), so plugins need no symbol of ours.
 * - onResponse: the head becomes a 500 (headers dropped); a response with a body is answered with
 *   a clean 500 instead, through the body phase (`out.fail(reason, 500)` at its first byte; the
 *   upstream connection is closed). This is why a plugin with `onResponse` always gets
 *   `onResponseBody` here.
 * - onResponseBody: the same 500. An exception in the filter itself gives the 500 too while
 *   nothing of the response went out, else breaks it, as a failing compressor does.
 *
 * The phases the plugin does not have are absent, so a route pays for none of them; those it has
 * cost one try/catch and the check of what it wrote. Exceptions from work the plugin schedules on
 * its own (timers, event handlers) are beyond any wrapper: docs/plugins.md says so.
 */
export class PluginGuard {
  readonly #inner: PluginMiddleware;
  readonly #plugin: string;
  readonly #middleware: string;
  readonly #logger: Logger;
  /** Response heads the plugin's onResponse failed on: their body is replaced by the 500's. */
  readonly #failedHeads = new WeakSet<ResponseHead>();

  constructor(inner: PluginMiddleware, plugin: string, middleware: string, logger: Logger) {
    this.#inner = inner;
    this.#plugin = plugin;
    this.#middleware = middleware;
    this.#logger = logger;
  }

  /** The middleware the route runs: only the phases the plugin has (plus the body for onResponse). */
  middleware(): Middleware {
    const p = this.#inner;
    const out: {
      onRequest?: NonNullable<Middleware['onRequest']>;
      onResponse?: NonNullable<Middleware['onResponse']>;
      onResponseBody?: NonNullable<Middleware['onResponseBody']>;
    } = {};
    if (typeof p.onRequest === 'function') out.onRequest = (req, ctl) => this.request(req, ctl);
    if (typeof p.onResponse === 'function') out.onResponse = (req, res) => this.response(req, res);
    if (typeof p.onResponse === 'function' || typeof p.onResponseBody === 'function') {
      out.onResponseBody = (req, res) => this.responseBody(req, res);
    }
    return out;
  }

  request(req: RequestHead, ctl: RequestControl): RequestPhaseValue {
    const before = Before.request(req);
    let r: unknown;
    try {
      r = this.#inner.onRequest!(req, ctl);
    } catch (e) {
      return this.fail('onRequest', e, req);
    }
    // null too: JavaScript plugins return it for "nothing to say".
    if (r === undefined || r === null) return this.#afterRequest(req, before);
    if (typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
      this.#await(r as PromiseLike<unknown>, req, ctl, before);
      return SUSPEND;
    }
    return this.#direct(r, req);
  }

  #await(p: PromiseLike<unknown>, req: RequestHead, ctl: RequestControl, before: Before): void {
    Promise.resolve(p)
      .then(
        (v) =>
          ctl.resume(v === undefined || v === null ? this.#afterRequest(req, before) : this.#direct(v, req)),
        (e: unknown) => ctl.resume(this.fail('onRequest', e, req)),
      )
      .catch((e: unknown) =>
        this.#logger.error('internal error', { error: String(e), plugin: this.#plugin }),
      );
  }

  #afterRequest(req: RequestHead, before: Before): DirectResponse | undefined {
    const bad = checkRequest(req, before);
    return bad === undefined ? undefined : this.fail('onRequest', new Error(bad), req);
  }

  #direct(r: unknown, req: RequestHead): DirectResponse {
    const bad = checkDirect(r);
    return bad === undefined ? (r as DirectResponse) : this.fail('onRequest', new Error(bad), req);
  }

  response(req: RequestHead, res: ResponseHead): void {
    const before = Before.response(res);
    try {
      this.#inner.onResponse!(req, res);
    } catch (e) {
      this.#failHead('onResponse', e, req, res);
      return;
    }
    const bad = checkResponse(res, before);
    if (bad !== undefined) this.#failHead('onResponse', new Error(bad), req, res);
  }

  responseBody(req: RequestHead, res: ResponseHead): BodyFilter | null {
    if (this.#failedHeads.has(res)) {
      this.#failedHeads.delete(res);
      return new FailFilter(`plugin ${this.#plugin} failed in onResponse`);
    }
    const on = this.#inner.onResponseBody;
    if (on === undefined) return null;
    const before = Before.response(res);
    let f: PluginBodyFilter | null | undefined;
    try {
      f = on.call(this.#inner, req, res);
    } catch (e) {
      this.#failHead('onResponseBody', e, req, res);
      return new FailFilter(`plugin ${this.#plugin} failed in onResponseBody`);
    }
    const bad =
      f === null || f === undefined
        ? undefined
        : typeof f.start !== 'function' ||
            typeof f.write !== 'function' ||
            typeof f.end !== 'function' ||
            typeof f.destroy !== 'function'
          ? 'returned a body filter without start, write, end and destroy'
          : undefined;
    const badHead = bad ?? checkResponse(res, before);
    if (badHead !== undefined) {
      this.#failHead('onResponseBody', new Error(badHead), req, res);
      return new FailFilter(`plugin ${this.#plugin} failed in onResponseBody`);
    }
    return f === null || f === undefined ? null : new GuardedFilter(f, this, req);
  }

  #failHead(phase: string, e: unknown, req: RequestHead, res: ResponseHead): void {
    this.log(phase, e, req);
    errorHead(res);
    this.#failedHeads.add(res);
  }

  /** Logs the failure, naming the plugin; the request's answer is a 500. */
  fail(phase: string, e: unknown, req: RequestHead): DirectResponse {
    this.log(phase, e, req);
    return FAILED;
  }

  log(phase: string, e: unknown, req: RequestHead): void {
    this.#logger.error('plugin failed', {
      plugin: this.#plugin,
      middleware: this.#middleware,
      phase,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      method: req.method,
      host: req.host,
      path: req.path,
    });
  }

  get plugin(): string {
    return this.#plugin;
  }
}

const FAILED: DirectResponse = Object.freeze({ status: 500, body: statusText(500) });

/**
 * The head of a response a plugin failed on: nothing of the original stays. A response without a
 * body goes out as this 500; one with a body is answered by the exchange (FailFilter).
 */
function errorHead(res: ResponseHead): void {
  res.status = 500;
  res.reason = statusText(500);
  res.headers.deleteWhere(() => true);
  res.headers.append('Content-Type', 'text/plain; charset=utf-8');
  res.headers.append('Content-Length', '0');
}

/**
 * Has the exchange answer 500 in place of the response, at its first byte (or its end): not in
 * `start`, which runs while the pipeline is being made.
 */
class FailFilter implements BodyFilter {
  readonly #reason: string;
  #out: BodyOutput | null = null;

  constructor(reason: string) {
    this.#reason = reason;
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(): boolean {
    this.end();
    return true;
  }

  end(): void {
    const out = this.#out;
    this.#out = null;
    out?.fail(this.#reason, 500);
  }

  destroy(): void {
    this.#out = null;
  }
}

/** A plugin's body filter, guarded: its exceptions (and bad output) break the response. */
class GuardedFilter implements BodyFilter {
  readonly #inner: PluginBodyFilter;
  readonly #guard: PluginGuard;
  readonly #req: RequestHead;
  #out: BodyOutput | null = null;
  /** An exception from `start`: reported at the first write or the end, once the pipeline exists. */
  #startError: unknown = undefined;
  #over = false;

  constructor(inner: PluginBodyFilter, guard: PluginGuard, req: RequestHead) {
    this.#inner = inner;
    this.#guard = guard;
    this.#req = req;
  }

  start(out: BodyOutput): void {
    this.#out = out;
    try {
      this.#inner.start(new CheckedOutput(this));
    } catch (e) {
      // Failing the pipeline from inside its constructor would end the exchange under it.
      this.#startError = e ?? new Error('start threw');
    }
  }

  write(chunk: Buffer): boolean {
    if (this.#over) return true;
    if (this.#startError !== undefined) {
      this.broken('body filter start', this.#startError);
      return true;
    }
    try {
      return this.#inner.write(chunk) !== false;
    } catch (e) {
      this.broken('body filter write', e);
      return true;
    }
  }

  end(): void {
    if (this.#over) return;
    if (this.#startError !== undefined) {
      this.broken('body filter start', this.#startError);
      return;
    }
    try {
      this.#inner.end();
    } catch (e) {
      this.broken('body filter end', e);
    }
  }

  resume(): void {
    if (this.#over || this.#startError !== undefined) return;
    try {
      this.#inner.resume?.();
    } catch (e) {
      this.broken('body filter resume', e);
    }
  }

  destroy(): void {
    if (this.#over) return;
    this.#over = true;
    try {
      this.#inner.destroy();
    } catch (e) {
      this.#guard.log('body filter destroy', e, this.#req);
    }
  }

  /** Where the plugin's output goes, until the filter is over. */
  get out(): BodyOutput | null {
    return this.#over ? null : this.#out;
  }

  /** The plugin gave up (`out.fail`): nothing is logged as its bug. */
  failed(reason: string, status: number | undefined): void {
    const out = this.out;
    if (out === null) return;
    this.#over = true;
    out.fail(`plugin ${this.#guard.plugin}: ${reason}`, status);
  }

  /**
   * The plugin's filter threw (or wrote what is not bytes): logged, and the request fails with
   * 500, or breaks if the head is gone already.
   */
  broken(phase: string, e: unknown): void {
    const out = this.out;
    if (out === null) return;
    this.#over = true;
    this.#guard.log(phase, e, this.#req);
    try {
      this.#inner.destroy();
    } catch {
      // Already failing: its first exception is the one logged.
    }
    out.fail(`plugin ${this.#guard.plugin} failed in its ${phase}`, 500);
  }
}

/** The BodyOutput a plugin's filter writes to: bytes only, nothing after its end or failure. */
class CheckedOutput implements BodyOutput {
  readonly #filter: GuardedFilter;
  #ended = false;

  constructor(filter: GuardedFilter) {
    this.#filter = filter;
  }

  push(chunk: Buffer): boolean {
    const out = this.#ended ? null : this.#filter.out;
    if (out === null) return true;
    // Typed as bytes, but it comes from the plugin's code (JavaScript, perhaps).
    const c: unknown = chunk;
    if (Buffer.isBuffer(c)) return out.push(c);
    if (c instanceof Uint8Array) return out.push(Buffer.from(c.buffer, c.byteOffset, c.length));
    if (typeof c === 'string') return out.push(Buffer.from(c));
    this.#filter.broken('body filter push', new TypeError(`pushed ${typeof c}, not bytes`));
    return true;
  }

  length(n: number): void {
    const out = this.#ended ? null : this.#filter.out;
    if (out === null) return;
    if (Number.isSafeInteger(n) && n >= 0) out.length(n);
    else this.#filter.broken('body filter length', new RangeError(`announced a length of ${String(n)}`));
  }

  end(): void {
    const out = this.#ended ? null : this.#filter.out;
    this.#ended = true;
    out?.end();
  }

  fail(reason: string, status?: number): void {
    if (this.#ended) return;
    const valid = Number.isInteger(status) && status! >= 200 && status! <= 599;
    this.#filter.failed(String(reason), valid ? status : undefined);
  }

  drained(): void {
    if (!this.#ended) this.#filter.out?.drained();
  }
}
