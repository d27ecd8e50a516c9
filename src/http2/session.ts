import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { unwrapIp } from '../core/ip.ts';
import type { RequestTls } from '../core/request.ts';
import type { Timed } from '../core/ticker.ts';
import { ParseError } from '../http1/parse-error.ts';
import { type EntryPointContext, outlivedKeepAlive } from '../proxy/entry-point-context.ts';
import type { Exchange } from '../proxy/exchange.ts';
import type { UpstreamAffinity } from '../upstream/affinity.ts';
import { type RequestOrigin, streamExchange } from './own-request.ts';
import type { Http2Settings } from './settings.ts';
import { H2_ENHANCE_YOUR_CALM, Http2StreamSink, type StreamOwner } from './stream-sink.ts';

function ignoreError(): void {}

function startQueued(s: H2Session): void {
  s.startQueued();
}

/**
 * One HTTP/2 connection: turns each stream into an `Exchange` of the same pipeline as HTTP/1.1,
 * closes the session when it has been idle, and closes it at once when its client floods
 * (resets streams faster than `maxResetsPerSecond`): a flood costs the client its connection,
 * never the proxy its health.
 */
export class H2Session implements StreamOwner, Timed, RequestOrigin {
  /** The session's own upstream pools (NTLM, Negotiate servers); closed with it. */
  affinity: UpstreamAffinity | null = null;
  readonly ctx: EntryPointContext;
  readonly clientIp: string;
  readonly trusted: boolean;
  /** session.socket on TLS (node's proxy to the TLSSocket, the same object for the whole session). */
  readonly tls: RequestTls | undefined;
  deadline = 0;
  tickerSlot = -1;
  readonly #session: ServerHttp2Session;
  readonly #settings: Http2Settings;
  readonly #onClosed: (s: H2Session) => void;
  #streams = 0;
  #requests = 0;
  /** When the session began (ticker ms), for keepAliveMaxTime. */
  readonly #openedAt: number;
  #resets = 0;
  #resetWindow = 0;
  /** Streams whose HEADERS arrived in the read being processed; started after it. */
  #queue: Http2StreamSink[] = [];
  #queued: Exchange[] = [];
  #scheduled = false;
  #closed = false;

  constructor(
    session: ServerHttp2Session,
    ctx: EntryPointContext,
    settings: Http2Settings,
    onClosed: (s: H2Session) => void,
  ) {
    this.#session = session;
    this.ctx = ctx;
    this.#settings = settings;
    this.#onClosed = onClosed;
    this.#openedAt = ctx.ticker.now;
    this.clientIp = unwrapIp(session.socket?.remoteAddress);
    this.trusted = ctx.isTrusted(this.clientIp);
    const socket = session.socket;
    // Duck-typed: importing node:tls here would load it in proxies that have no TLS.
    this.tls =
      (socket as { encrypted?: boolean } | null | undefined)?.encrypted === true
        ? (socket as unknown as RequestTls)
        : undefined;
    session.on(
      'stream',
      (stream: ServerHttp2Stream, _h: IncomingHttpHeaders, _flags: number, raw: string[]) =>
        this.#onStreamSafely(stream, raw),
    );
    session.on('error', (err: Error) =>
      ctx.logger.debug('http2 session error', { error: err.message, clientIp: this.clientIp }),
    );
    session.on('close', () => this.#onClose());
    if (settings.connectionWindowSize > 65_535) session.setLocalWindowSize(settings.connectionWindowSize);
    // Until its first request, a connection is on readHeaderTimeout, as an HTTP/1.1 one is: a
    // client that sends the preface (or half a HEADERS block) and then nothing would otherwise
    // hold the connection for idleTimeout, which is a slowloris at HTTP/2's price. (Go's HTTP/2
    // server, hence Traefik, waits 10 s for the preface and then idles: ours is stricter.)
    this.deadline = ctx.ticker.now + ctx.readHeaderTimeoutMs;
    ctx.ticker.add(this);
  }

  get streams(): number {
    return this.#streams;
  }

  /** A bug in handling one stream costs that stream (RST_STREAM), never the process. */
  #onStreamSafely(stream: ServerHttp2Stream, raw: string[]): void {
    try {
      this.#onStream(stream, raw);
    } catch (e) {
      this.ctx.logger.error('internal error', {
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
        entryPoint: this.ctx.name,
        protocol: 'HTTP/2.0',
      });
      stream.on('error', ignoreError);
      if (!stream.destroyed) stream.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #onStream(stream: ServerHttp2Stream, raw: string[]): void {
    if (stream.closed || stream.destroyed) {
      // Reset before we even saw it: node delivers 'stream' after the whole read has been
      // processed when the bytes were buffered (the h2c hand-over), so a burst of HEADERS +
      // RST_STREAM pairs arrives here already closed. That is the rapid-reset pattern.
      stream.on('error', ignoreError);
      this.peerReset();
      return;
    }
    this.#streams++;
    this.deadline = 0;
    // keepAliveMaxRequests: for HTTP/2, a GOAWAY once the session has carried that many (as
    // Traefik); the streams already open finish.
    const max = this.ctx.keepAliveMaxRequests;
    if ((max > 0 && ++this.#requests >= max) || outlivedKeepAlive(this.ctx, this.#openedAt)) this.close();
    // END_STREAM on the HEADERS frame: the request has no body.
    const endStream = stream.endAfterHeaders;
    const sink = new Http2StreamSink(stream, this, endStream);
    // The same request rules, path policy, forwarded fields and WebSocket key as the own
    // engine's streams (own-request.ts).
    const ex = streamExchange(sink, this, raw, endStream);
    if (ex instanceof ParseError) {
      this.#refuse(sink, ex);
      return;
    }
    this.#queue.push(sink);
    this.#queued.push(ex);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(startQueued, this);
    }
  }

  /** A request we will not route: its status on this stream, the connection goes on. */
  #refuse(sink: Http2StreamSink, err: ParseError): void {
    this.ctx.logger.debug('rejected request', {
      status: err.status,
      reason: err.reason,
      clientIp: this.clientIp,
      entryPoint: this.ctx.name,
      protocol: 'HTTP/2.0',
    });
    sink.reject(err.status);
  }

  /**
   * Starts the exchanges of the streams opened by the last read. Deferred to the end of that
   * read on purpose: a client that opens and resets streams in one burst (rapid reset) has its
   * streams closed by then, and they cost no routing and no upstream connection.
   */
  startQueued(): void {
    const sinks = this.#queue;
    const exchanges = this.#queued;
    this.#queue = [];
    this.#queued = [];
    this.#scheduled = false;
    for (let i = 0; i < sinks.length; i++) {
      if (this.#closed) return;
      const ex = exchanges[i]!;
      try {
        sinks[i]!.start(ex);
      } catch (e) {
        ex.onInternalError(e);
      }
    }
  }

  peerReset(): void {
    if (this.#closed) return;
    const now = this.ctx.ticker.now;
    if (now - this.#resetWindow >= 1000) {
      this.#resetWindow = now;
      this.#resets = 0;
    }
    if (++this.#resets > this.#settings.maxResetsPerSecond) this.#flood('rapid reset');
  }

  streamClosed(): void {
    if (--this.#streams === 0 && !this.#closed) this.deadline = this.ctx.ticker.now + this.ctx.idleTimeoutMs;
  }

  #flood(what: string): void {
    this.ctx.logger.warn('http2 flood: session closed', {
      flood: what,
      clientIp: this.clientIp,
      entryPoint: this.ctx.name,
    });
    this.#closed = true;
    // GOAWAY(ENHANCE_YOUR_CALM), then the socket goes; every stream of the session is aborted.
    // (An error must be passed: destroy(undefined, code) sends NO_ERROR, the parameter's default.)
    this.#session.destroy(new Error(`http2 flood: ${what}`), H2_ENHANCE_YOUR_CALM);
  }

  /** No first request within `readHeaderTimeout`, or no stream for `idleTimeout` since the last. */
  onDeadline(): void {
    if (this.#streams === 0) this.close();
  }

  /** Graceful: GOAWAY, let open streams finish, then the connection closes. */
  close(): void {
    if (!this.#session.closed && !this.#session.destroyed) this.#session.close();
  }

  destroy(): void {
    if (!this.#session.destroyed) this.#session.destroy();
  }

  #onClose(): void {
    this.#closed = true;
    if (this.affinity !== null) this.affinity.close();
    this.ctx.ticker.delete(this);
    this.#onClosed(this);
  }
}
