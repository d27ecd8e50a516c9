import { Duplex } from 'node:stream';
import type { ProxyError } from '../core/errors.ts';
import type { HeaderList } from '../core/headers.ts';
import type { OwnH2Stream } from './own-h2-stream.ts';
import { TUNNEL_RESET, type UpstreamResponse, type UpstreamStream, type UpstreamUser } from './stream.ts';

type WriteCallback = (err?: Error | null) => void;

/**
 * An own-engine HTTP/2 stream that answered a CONNECT with a 2xx, as the byte stream a `Tunnel`
 * pipes (RFC 9113 §8.5): the stream's DATA is what it reads, what is written goes out as DATA
 * under the server's windows, its end as END_STREAM, and destroying it before both ends resets
 * the stream (CANCEL). It is the stream's user from the switch on, so the response-body machinery
 * carries the tunnel's downward bytes: a full reader pauses the stream, whose held DATA then
 * waits uncredited (no WINDOW_UPDATE), so the server can send one window at most. Writes wait for
 * `onUpstreamDrain` (the stream's send queue emptied), so at most the Writable's high-water mark
 * and one chunk wait here. One object per tunnel, made at the switch only.
 */
export class OwnH2Tunnel extends Duplex implements UpstreamUser {
  readonly #st: OwnH2Stream;
  #writeCb: WriteCallback | null = null;
  #finalCb: WriteCallback | null = null;

  constructor(st: OwnH2Stream) {
    super({ allowHalfOpen: true });
    this.#st = st;
    // Marks an HTTP/2 upstream stream for the tunnel (proxy/exchange.ts); its reset is _destroy's.
    (this as { [TUNNEL_RESET]?: (s: Duplex) => void })[TUNNEL_RESET] = destroyTunnel;
  }

  // ---- UpstreamUser: what the stream delivers once it is a tunnel

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    if (this.destroyed) return;
    const chunk = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    // The reader is full: the stream holds what follows (uncredited) until _read.
    if (!this.push(chunk)) this.#st.pause();
  }

  /** The server's END_STREAM: this side's end of reading. */
  onUpstreamEnd(_trailers: HeaderList | null): void {
    if (!this.destroyed) this.push(null);
  }

  onUpstreamDrain(): void {
    const cb = this.#writeCb;
    this.#writeCb = null;
    cb?.();
    this.#finalDone();
  }

  /** The server reset the stream, or the connection went down: the tunnel is broken. */
  onUpstreamError(_err: ProxyError, _phase: 'connect' | 'head' | 'body', _reused: boolean): void {
    const cb = this.#writeCb;
    this.#writeCb = null;
    if (!this.destroyed) this.destroy();
    cb?.();
  }

  onInternalError(e: unknown): void {
    this.destroy(e instanceof Error ? e : new Error(String(e)));
  }

  // Never called on a tunnel (the head came before it existed).
  onUpstreamReady(_stream: UpstreamStream): void {}
  onUpstreamInterim(_res: UpstreamResponse): void {}
  onUpstreamHead(_res: UpstreamResponse, _body: Buffer | null, _start: number, _end: number): void {}
  onUpstreamUpgrade(_res: UpstreamResponse, socket: Duplex, _rest: Buffer | null): void {
    socket.destroy();
  }

  // ---- Duplex

  override _read(): void {
    this.#st.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: WriteCallback): void {
    if (this.#st.sendBody(chunk, 0, chunk.length)) cb();
    else this.#writeCb = cb;
  }

  /** END_STREAM, once what was written left (the 'finish' a clean end waits for). */
  override _final(cb: WriteCallback): void {
    this.#st.endBody(null);
    this.#finalCb = cb;
    this.#finalDone();
  }

  #finalDone(): void {
    const cb = this.#finalCb;
    if (cb !== null && this.#st.pendingBytes === 0) {
      this.#finalCb = null;
      cb();
    }
  }

  override _destroy(err: Error | null, cb: WriteCallback): void {
    this.#st.closeTunnel();
    const w = this.#writeCb;
    this.#writeCb = null;
    w?.();
    cb(err);
  }
}

function destroyTunnel(s: Duplex): void {
  s.destroy();
}
