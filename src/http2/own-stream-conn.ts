import type { Socket } from 'node:net';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import type { HpackEncoder } from './hpack-encoder.ts';
import type { SendWindow } from './own-send-queue.ts';
import type { OwnStream } from './own-stream.ts';

/** The connection side a stream works with. */
export interface StreamConn extends SendWindow {
  readonly ctx: EntryPointContext;
  readonly clientIp: string;
  readonly socket: Socket;
  readonly encoder: HpackEncoder;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: the credit a stream starts with. */
  readonly recvWindowSize: number;
  /** The socket's buffer is full: writers wait for its drain. */
  readonly socketFull: boolean;
  /** Frames were queued: write them at the end of this tick. */
  schedule(): void;
  /** The client reset a stream before our response ended (rapid-reset accounting). */
  peerReset(): void;
  streamClosed(s: OwnStream): void;
  /** Our stream-level flow control credit back to the client. */
  windowUpdate(stream: number, n: number): void;
  /** The stream wrote while the socket was full: `onDrain` follows its drain. */
  waitForDrain(s: OwnStream): void;
  rst(stream: number, code: number): void;
}
