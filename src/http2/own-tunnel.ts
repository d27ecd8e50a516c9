import { Duplex } from 'node:stream';
import { E_CANCEL, E_INTERNAL_ERROR } from './frames.ts';
import type { OwnStream } from './own-stream.ts';

type WriteCallback = (err?: Error | null) => void;

/**
 * The client side of a WebSocket over HTTP/2 (RFC 8441) as the byte stream a `Tunnel` pipes:
 * the stream's DATA is what it reads (credit goes back to the client as it is read), what is
 * written goes out as DATA, its end as END_STREAM, and destroying it resets the stream.
 * One per tunnel, not per frame.
 */
export class OwnTunnel extends Duplex {
  readonly #s: OwnStream;
  /** Bytes pushed while the reader was full: their credit waits for `_read`. */
  #owed = 0;
  #writeCb: WriteCallback | null = null;

  constructor(s: OwnStream) {
    super({ allowHalfOpen: true });
    this.#s = s;
  }

  onData(b: Buffer): void {
    if (this.destroyed) return;
    if (this.push(b)) this.#s.tunnelConsumed(b.length);
    else this.#owed += b.length;
  }

  onEnd(): void {
    if (!this.destroyed) this.push(null);
  }

  onDrain(): void {
    const cb = this.#writeCb;
    this.#writeCb = null;
    cb?.();
  }

  onStreamClosed(): void {
    const cb = this.#writeCb;
    this.#writeCb = null;
    if (!this.destroyed) this.destroy();
    cb?.();
  }

  override _read(): void {
    const n = this.#owed;
    if (n > 0) {
      this.#owed = 0;
      this.#s.tunnelConsumed(n);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: WriteCallback): void {
    if (this.#s.tunnelWrite(chunk)) cb();
    else this.#writeCb = cb;
  }

  override _final(cb: WriteCallback): void {
    this.#s.tunnelEnd();
    cb();
  }

  /**
   * A plain CONNECT's tunnel broke on the upstream's side: RST_STREAM(INTERNAL_ERROR), as
   * Traefik's reverse proxy aborts the handler (http.ErrAbortHandler) on the copy's error and
   * x/net/http2's server resets the stream so (handlerPanicRST). The tunnel calls it (TUNNEL_RESET).
   */
  static broken(t: Duplex): void {
    const s = (t as OwnTunnel).#s;
    if (!s.closed) s.resetStream(E_INTERNAL_ERROR);
    t.destroy();
  }

  override _destroy(err: Error | null, cb: WriteCallback): void {
    if (!this.#s.closed) this.#s.resetStream(E_CANCEL);
    cb(err);
  }
}
