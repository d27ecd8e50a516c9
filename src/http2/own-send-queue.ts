import type { FrameWriter } from './frame-writer.ts';

/** The connection-wide side of sending DATA: the connection's send window and the peer's frame size. */
export interface SendWindow {
  readonly writer: FrameWriter;
  /** Bytes the peer lets us send on the connection (RFC 9113 §6.9). */
  connWindow: number;
  readonly peerMaxFrame: number;
  /** The stream waits for connection window: `pump` is called when there is some. */
  waitForWindow(q: SendQueue): void;
}

/**
 * A stream's outgoing DATA under flow control (RFC 9113 §5.2, §6.9): bytes go out as frames as
 * far as the stream's and the connection's windows allow, the rest waits here (the buffers as
 * the exchange gave them; the exchange stops writing once `data` said false) until a
 * WINDOW_UPDATE or a SETTINGS_INITIAL_WINDOW_SIZE increase.
 */
export class SendQueue {
  readonly id: number;
  /** The stream's send window; negative after the peer shrank SETTINGS_INITIAL_WINDOW_SIZE. */
  window: number;
  #bufs: Buffer[] = [];
  #head = 0;
  /** Offset into `#bufs[#head]` already sent. */
  #off = 0;
  #bytes = 0;
  /** END_STREAM goes on the last frame once the queue is empty. */
  #endAfter = false;
  #waiting = false;

  constructor(id: number, window: number) {
    this.id = id;
    this.window = window;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get empty(): boolean {
    return this.#bytes === 0;
  }

  /**
   * Sends `buf[start..end)` (all of it now, or part and the rest queued). `endStream`: these are
   * the last bytes; returns true when END_STREAM went out with them.
   */
  send(conn: SendWindow, buf: Buffer, start: number, end: number, endStream: boolean): boolean {
    if (this.#bytes === 0) {
      start = this.#sendNow(conn, buf, start, end, endStream);
      if (start === end) return endStream;
    } else if (start === end) {
      // Nothing to add: END_STREAM rides on the last queued frame.
      this.#endAfter ||= endStream;
      return false;
    }
    this.#bufs.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    this.#bytes += end - start;
    this.#endAfter = endStream;
    this.#wait(conn);
    return false;
  }

  /** Sends what the windows allow now; true when the queue emptied and END_STREAM was asked and sent. */
  pump(conn: SendWindow): boolean {
    this.#waiting = false;
    while (this.#bytes > 0) {
      const b = this.#bufs[this.#head]!;
      const last = this.#head === this.#bufs.length - 1;
      const p = this.#sendNow(conn, b, this.#off, b.length, last && this.#endAfter);
      this.#bytes -= p - this.#off;
      if (p < b.length) {
        this.#off = p;
        this.#wait(conn);
        return false;
      }
      this.#off = 0;
      this.#head++;
    }
    this.#bufs.length = 0;
    this.#head = 0;
    const ended = this.#endAfter;
    this.#endAfter = false;
    return ended;
  }

  /** Drops what waits (the stream was reset). */
  clear(): void {
    this.#bufs.length = 0;
    this.#head = 0;
    this.#off = 0;
    this.#bytes = 0;
    this.#endAfter = false;
  }

  #wait(conn: SendWindow): void {
    // Only the connection window is worth waiting on at the connection; a stream window opens
    // with a WINDOW_UPDATE on the stream, which pumps it directly.
    if (!this.#waiting && this.window > 0) {
      this.#waiting = true;
      conn.waitForWindow(this);
    }
  }

  /** Frames as much of `buf[start..end)` as the windows allow; returns where it stopped. */
  #sendNow(conn: SendWindow, buf: Buffer, start: number, end: number, endStream: boolean): number {
    if (start === end) {
      if (endStream) conn.writer.data(this.id, buf, start, end, true);
      return end;
    }
    const w = conn.writer;
    while (start < end) {
      const room = Math.min(this.window, conn.connWindow, conn.peerMaxFrame);
      if (room <= 0) return start;
      const n = Math.min(room, end - start);
      this.window -= n;
      conn.connWindow -= n;
      w.data(this.id, buf, start, start + n, endStream && start + n === end);
      start += n;
    }
    return start;
  }
}
