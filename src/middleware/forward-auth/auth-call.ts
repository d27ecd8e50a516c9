import type { Duplex } from 'node:stream';
import type { ProxyError } from '../../core/errors.ts';
import type { HeaderList } from '../../core/headers.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import type { Ticker, Timed } from '../../core/ticker.ts';
import type { StreamSource, UpstreamResponse, UpstreamStream, UpstreamUser } from '../../upstream/stream.ts';
import {
  type CallTrace,
  type Lease,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from '../middleware.ts';
import type { AuthRequest } from './auth-request.ts';

/** What the middleware does with the auth server's answer. */
export interface AuthVerdict {
  /** A complete answer: `body` holds its bytes. */
  answered(call: AuthCall, res: UpstreamResponse, body: Buffer): void;
  /**
   * No usable answer (refused, reset, timeout: Traefik answers 500), or `tooLarge`: its body went
   * past the limit; `inBody`: its head had come (what failed is the reading of its body).
   * `cause`: the upstream's error, or `timeout` (the call's deadline), when that is what failed.
   */
  failed(call: AuthCall, reason: string, tooLarge: boolean, inBody: boolean, cause?: AuthFailureCause): void;
}

/** What made an auth call fail, for the verdicts that word it as Go does (core/go-net-error.ts). */
export type AuthFailureCause =
  | { readonly kind: 'timeout' }
  | { readonly kind: 'upstream'; readonly error: ProxyError; readonly phase: 'connect' | 'head' | 'body' };

/**
 * The auth server's answer is read whole; past this it is refused when `maxResponseBodySize` is
 * not set (Traefik's -1 means no limit; ours is this).
 */
export const DEFAULT_MAX_AUTH_BODY = 4 * 1024 * 1024;

const TIMEOUT: AuthFailureCause = { kind: 'timeout' };

/**
 * One request to the auth server for one suspended client request: a user of the auth server's
 * pool (keep-alive connections, the proxy's own HTTP/1.1 client), a deadline on the shared
 * ticker, and a lease on the client request so that a client that goes away ends it too.
 */
export class AuthCall implements UpstreamUser, Timed, Lease {
  deadline = 0;
  tickerSlot = -1;
  readonly req: RequestHead;
  readonly ctl: RequestControl;
  readonly #pool: StreamSource;
  readonly #ticker: Ticker;
  readonly #out: AuthRequest;
  readonly #authority: string;
  readonly #verdict: AuthVerdict;
  /** Body bytes of the answer at most (`maxResponseBodySize`). */
  readonly #maxBody: number;
  /** The call's span (a traced request), ended when the call is over. */
  readonly #trace: CallTrace | null;
  #stream: UpstreamStream | null = null;
  #res: UpstreamResponse | null = null;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #retried = false;
  #finished = false;
  #suspended = false;
  #early = false;
  #earlyResponse: DirectResponse | undefined = undefined;

  constructor(
    req: RequestHead,
    ctl: RequestControl,
    pool: StreamSource,
    ticker: Ticker,
    out: AuthRequest,
    authority: string,
    verdict: AuthVerdict,
    maxBody: number = DEFAULT_MAX_AUTH_BODY,
    trace: CallTrace | null = null,
  ) {
    this.#trace = trace;
    this.req = req;
    this.ctl = ctl;
    this.#pool = pool;
    this.#ticker = ticker;
    this.#out = out;
    this.#authority = authority;
    this.#verdict = verdict;
    this.#maxBody = maxBody;
  }

  start(timeoutMs: number): void {
    this.ctl.onEnd(this);
    if (timeoutMs > 0) {
      // add() refreshes ticker.now when the sweep was idle.
      this.#ticker.add(this);
      this.deadline = this.#ticker.now + timeoutMs;
    }
    this.#pool.acquire(this, this.#out.method);
  }

  /**
   * The verdict: resumes the suspended request. A verdict reached before onRequest returned (a
   * closed pool fails at once) is kept for `phase()` instead: resuming a request that has not
   * suspended yet would do nothing.
   */
  resolve(response?: DirectResponse): void {
    if (this.#suspended) this.ctl.resume(response);
    else {
      this.#early = true;
      this.#earlyResponse = response;
    }
  }

  /** What onRequest returns after start(): SUSPEND, or the verdict already reached. */
  phase(): RequestPhaseValue {
    if (this.#early) return this.#earlyResponse;
    this.#suspended = true;
    return SUSPEND;
  }

  /** Whether the request is traced (sampled): its call has a span. */
  get traced(): boolean {
    return this.#trace !== null;
  }

  #finish(): boolean {
    if (this.#finished) return false;
    this.#finished = true;
    this.#trace?.close();
    this.#stream = null;
    this.deadline = 0;
    this.#ticker.delete(this);
    return true;
  }

  #fail(reason: string, tooLarge = false, cause?: AuthFailureCause): void {
    const stream = this.#stream;
    if (stream !== null) stream.destroy();
    const inBody = this.#res !== null;
    if (this.#finish()) this.#verdict.failed(this, reason, tooLarge, inBody, cause);
  }

  onDeadline(): void {
    if (this.#stream === null && !this.#finished) this.#pool.cancel(this);
    this.#fail('timeout', false, TIMEOUT);
  }

  /** Lease: the client request ended (normally after our verdict; early when the client left). */
  release(): void {
    if (this.#finished) return;
    const stream = this.#stream;
    if (stream !== null) stream.destroy();
    else this.#pool.cancel(this);
    this.#finish();
  }

  // ---- UpstreamUser

  onUpstreamReady(stream: UpstreamStream): void {
    if (this.#finished) {
      stream.destroy();
      return;
    }
    this.#stream = stream;
    const body = this.#out.body;
    stream.cork();
    stream.sendHead(this.#out, this.#authority);
    if (body !== null) {
      stream.sendBody(body, 0, body.length);
      stream.endBody();
    }
    stream.uncork();
  }

  onUpstreamInterim(_res: UpstreamResponse): void {}

  onUpstreamHead(res: UpstreamResponse, body: Buffer | null, start: number, end: number): void {
    const stream = this.#stream;
    // An answer before the whole request was written: the connection is not reusable.
    if (stream !== null && stream.pendingBytes > 0) stream.markNotReusable();
    this.#res = res;
    if (body !== null) this.onUpstreamData(body, start, end);
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    if (end <= start || this.#finished) return;
    this.#bytes += end - start;
    if (this.#bytes > this.#maxBody) {
      this.#fail('auth response body too large', true);
      return;
    }
    // The stream's bytes are ours to keep (UpstreamUser.onUpstreamData): no copy.
    this.#chunks.push(buf.subarray(start, end));
  }

  onUpstreamEnd(_trailers: HeaderList | null): void {
    const res = this.#res;
    if (res === null || !this.#finish()) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#verdict.answered(this, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  onUpstreamError(err: ProxyError, phase: 'connect' | 'head' | 'body', reused: boolean): void {
    if (this.#finished) return;
    this.#stream = null;
    if (phase === 'head' && reused && !this.#retried && this.#out.body === null) {
      // The keep-alive race: the server closed an idle connection as we wrote. Once more on a
      // fresh connection (RFC 9112 §9.3.1), as the exchange does.
      this.#retried = true;
      this.#res = null;
      this.#chunks = [];
      this.#bytes = 0;
      this.#pool.acquire(this, this.#out.method, true);
      return;
    }
    this.#fail(`${err.code}: ${err.message}`, false, { kind: 'upstream', error: err, phase });
  }

  onInternalError(e: unknown): void {
    this.#stream = null;
    this.#fail(`internal: ${e instanceof Error ? e.message : String(e)}`);
  }

  onUpstreamUpgrade(_res: UpstreamResponse, socket: Duplex, _rest: Buffer | null): void {
    socket.destroy();
    this.#stream = null;
    this.#fail('unexpected protocol switch');
  }

  onUpstreamDrain(): void {}
}
