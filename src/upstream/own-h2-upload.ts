import { MAX_WINDOW } from '../http2/frames.ts';
import { SendQueue } from '../http2/own-send-queue.ts';
import type { OwnH2Stream } from './own-h2-stream.ts';

const NO_BYTES = Buffer.alloc(0);

/**
 * The request side of an own-engine stream on the wire: body bytes as DATA frames as far as the
 * server's windows allow (the rest queued, the user told to wait and, once it all left and the
 * socket drained, `onUpstreamDrain`), then END_STREAM on the last frame or on the client's
 * trailers, which wait behind queued DATA.
 */
export class OwnH2Upload {
  /** Our END_STREAM is out (or queued behind the DATA). */
  ended = false;
  /** The user was told to wait and hears `onUpstreamDrain` once the bytes left. */
  wantDrain = false;
  readonly #st: OwnH2Stream;
  #q: SendQueue | null = null;
  #trailers: string[] | null = null;

  constructor(st: OwnH2Stream) {
    this.#st = st;
  }

  get pending(): number {
    return this.#q?.bytes ?? 0;
  }

  #queue(): SendQueue {
    this.#q ??= new SendQueue(this.#st.id, this.#st.host.peerInitialWindow);
    return this.#q;
  }

  /** Sends `data`; true when the user may send more at once. */
  send(data: Buffer): boolean {
    const host = this.#st.host;
    const q = this.#queue();
    q.send(host, data, 0, data.length, false);
    host.writes.schedule();
    if (q.empty && !host.writes.socketFull) return true;
    this.wantDrain = true;
    if (q.empty) host.writes.waitForDrain(this.#st);
    return false;
  }

  /** Bytes sent before on another session (a refused stream), queued again as they were. */
  resend(bufs: readonly Buffer[]): void {
    const host = this.#st.host;
    const q = this.#queue();
    for (let i = 0; i < bufs.length; i++) q.send(host, bufs[i]!, 0, bufs[i]!.length, false);
  }

  /** END_STREAM: on `trailers` (`name, value, …`, not empty) or on the last DATA frame. */
  finish(trailers: string[] | null): void {
    if (this.ended) return;
    this.ended = true;
    if (trailers !== null && trailers.length > 0 && !this.#queue().empty) this.#trailers = trailers;
    else this.#end(trailers);
  }

  #end(trailers: string[] | null): void {
    const host = this.#st.host;
    if (trailers === null || trailers.length === 0) this.#queue().send(host, NO_BYTES, 0, 0, true);
    else {
      const len = host.encoder.encode(trailers);
      host.writer.headers(this.#st.id, host.encoder.buffer, len, true, host.peerMaxFrame);
    }
    host.writes.schedule();
  }

  /** The windows opened (or the socket drained): queued DATA goes out, then what waited on it. */
  pump(): void {
    const q = this.#q;
    const st = this.#st;
    const host = st.host;
    if (q !== null) {
      q.pump(host);
      host.writes.schedule();
      if (!q.empty) return;
    }
    const t = this.#trailers;
    if (t !== null) {
      this.#trailers = null;
      this.#end(t);
    }
    if (!this.wantDrain) return;
    if (host.writes.socketFull) host.writes.waitForDrain(st);
    else {
      this.wantDrain = false;
      st.user?.onUpstreamDrain();
    }
  }

  /** The send window moves by `delta` (SETTINGS, WINDOW_UPDATE); false when it overflows. */
  addWindow(delta: number): boolean {
    const q = this.#queue();
    q.window += delta;
    return q.window <= MAX_WINDOW;
  }

  /** Drops what waits (the stream closed, or goes to another session: a new stream id). */
  clear(): void {
    this.#q?.clear();
    this.#q = null;
    this.#trailers = null;
    this.ended = false;
  }
}
