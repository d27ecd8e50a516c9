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
  #windowWaiters: number[] = [];
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
   * The connection window opened: streams waiting on it send (those it does not reach wait
   * again); one closed meanwhile is no longer in the map and is passed over.
   */
  pumpWaiting(): void {
    const ids = this.#windowWaiters;
    this.#windowWaiters = [];
    for (let i = 0; i < ids.length; i++) this.#streams.get(ids[i]!)?.pump();
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
