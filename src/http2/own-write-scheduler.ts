import type { Socket } from 'node:net';
import type { FrameWriter } from './frame-writer.ts';
import type { SendQueue } from './own-send-queue.ts';

/** A stream of an own-engine connection, as the scheduler wakes it. */
export interface ScheduledStream {
  /** The connection window opened: send what waits. */
  pump(): void;
  /** The socket drained after the stream wrote into a full one. */
  onDrain(): void;
}

/** The connection's open streams by id (its StreamMap). */
export interface StreamLookup {
  get(id: number): ScheduledStream | undefined;
}

/** What the scheduler needs of the connection's reader: whether a read is being processed. */
export interface ReadState {
  readonly inRead: boolean;
}

function flushLater(w: WriteScheduler): void {
  w.flushNow();
}

/**
 * When an own-engine connection (the server's own-connection.ts, the upstream's
 * own-h2-session.ts) writes its gathered frames, and which streams wait to write: frames queued
 * during a read go out at its end (the connection flushes then), others at the end of the tick
 * (one writev for all the streams that wrote in it); a stream short of connection window waits
 * for a WINDOW_UPDATE on stream 0, one that wrote into a full socket for its drain. One per
 * connection: nothing here allocates per frame or per stream beyond the waiting lists' slots.
 */
export class WriteScheduler {
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #input: ReadState;
  readonly #streams: StreamLookup;
  #flushScheduled = false;
  /** Stream ids waiting for connection window, in arrival order, from `#waitHead` on. */
  #windowWaiters: number[] = [];
  #waitHead = 0;
  #drainWaiters: ScheduledStream[] = [];

  /** `streams`: the connection's open streams by id (the map itself, read when the window opens). */
  constructor(socket: Socket, writer: FrameWriter, input: ReadState, streams: StreamLookup) {
    this.#socket = socket;
    this.#writer = writer;
    this.#input = input;
    this.#streams = streams;
  }

  /** The socket's buffer is full: writers wait for its drain. */
  get socketFull(): boolean {
    return this.#socket.writableNeedDrain;
  }

  /** Frames were gathered: written at the end of the read, or else of this tick. */
  schedule(): void {
    if (this.#input.inRead || this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(flushLater, this);
  }

  flushNow(): void {
    this.#flushScheduled = false;
    if (this.#writer.pending) this.#writer.flush();
  }

  /** The stream of `q` waits for connection window: `pump` is called when there is some. */
  waitForWindow(q: SendQueue): void {
    this.#windowWaiters.push(q.id);
  }

  /**
   * The connection window opened: streams waiting on it send, in the order they began to wait,
   * while `conn` has window left; the others keep their turn for the next update, and a stream
   * the window ran out on waits again at the end. One closed meanwhile is no longer in the map and
   * is passed over. An update wakes only the streams it can feed: a peer sending 1-byte
   * WINDOW_UPDATEs to a connection with many waiting streams costs one stream's pump each, not a
   * walk over all of them (each gets its turn, round robin).
   */
  pumpWaiting(conn: { readonly connWindow: number }): void {
    const ids = this.#windowWaiters;
    // Those waiting now: a stream that waits again while pumped is behind them.
    const end = ids.length;
    let i = this.#waitHead;
    while (i < end && conn.connWindow > 0) this.#streams.get(ids[i++]!)?.pump();
    if (i === ids.length) {
      ids.length = 0;
      this.#waitHead = 0;
    } else if (i >= 64 && i * 2 >= ids.length) {
      // Served slots are dropped once they are half the list.
      ids.splice(0, i);
      this.#waitHead = 0;
    } else this.#waitHead = i;
  }

  /** The stream wrote while the socket was full: `onDrain` follows its drain. */
  waitForDrain(s: ScheduledStream): void {
    this.#drainWaiters.push(s);
  }

  /** The socket drained: every stream waiting for it hears it (and may wait again). */
  onDrain(): void {
    const w = this.#drainWaiters;
    this.#drainWaiters = [];
    for (let i = 0; i < w.length; i++) w[i]!.onDrain();
  }
}
