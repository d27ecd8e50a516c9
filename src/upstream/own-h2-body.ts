import type { HeaderList } from '../core/headers.ts';
import type { OwnH2Stream } from './own-h2-stream.ts';

/**
 * The response body side of an own-engine stream: DATA goes to the user as it arrives, or waits
 * here while the user paused (the client side is slow). Only bytes the user took are credited
 * back to the server (the stream's WINDOW_UPDATE), so a paused stream holds at most its window.
 * The end (with the trailers) waits behind what is held.
 */
export class OwnH2Body {
  paused = false;
  /** Bytes the user took (or padding) not yet credited to the server. */
  unacked = 0;
  readonly #st: OwnH2Stream;
  #held: Buffer[] | null = null;
  #ending = false;
  #trailers: HeaderList | null = null;

  constructor(st: OwnH2Stream) {
    this.#st = st;
  }

  /** `chunk` (a buffer the user may keep), `padding` bytes of flow control beside it. */
  data(chunk: Buffer, padding: number, endStream: boolean): void {
    const st = this.#st;
    if (padding > 0) st.credit(padding);
    if (chunk.length > 0) {
      if (this.#held !== null) this.#held.push(chunk);
      else if (this.paused) this.#held = [chunk];
      else {
        st.user?.onUpstreamData(chunk, 0, chunk.length);
        st.credit(chunk.length);
      }
    }
    if (endStream) this.end(null);
  }

  end(trailers: HeaderList | null): void {
    if (this.paused || this.#held !== null) {
      this.#ending = true;
      this.#trailers = trailers;
    } else this.#st.remoteEnded(trailers);
  }

  resume(): void {
    this.paused = false;
    const st = this.#st;
    const held = this.#held;
    if (held !== null) {
      let i = 0;
      while (i < held.length && !this.paused) {
        const b = held[i++]!;
        st.user?.onUpstreamData(b, 0, b.length);
        if (st.user === null) {
          this.#held = null;
          return;
        }
        st.credit(b.length);
      }
      if (i < held.length) {
        held.splice(0, i);
        return;
      }
      this.#held = null;
    }
    if (this.#ending && !this.paused) {
      this.#ending = false;
      st.remoteEnded(this.#trailers);
    }
  }
}
