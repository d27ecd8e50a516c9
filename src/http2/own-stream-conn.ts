import type { Socket } from 'node:net';
import type { EntryPointContext } from '../proxy/entry-point-context.ts';
import type { UpstreamAffinity } from '../upstream/affinity.ts';
import type { HpackEncoder } from './hpack-encoder.ts';
import type { SendWindow } from './own-send-queue.ts';
import type { OwnStream } from './own-stream.ts';
import type { WriteScheduler } from './own-write-scheduler.ts';

/** The connection side a stream works with. */
export interface StreamConn extends SendWindow {
  readonly ctx: EntryPointContext;
  /** The connection's own upstream pools (NTLM, Negotiate servers): ClientSink.affinity. */
  affinity?: UpstreamAffinity | null;
  readonly clientIp: string;
  readonly socket: Socket;
  readonly encoder: HpackEncoder;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: the credit a stream starts with. */
  readonly recvWindowSize: number;
  /** When gathered frames are written; the streams waiting for window or the socket's drain. */
  readonly writes: WriteScheduler;
  /** The client reset a stream before our response ended (rapid-reset accounting). */
  peerReset(): void;
  streamClosed(s: OwnStream): void;
  /** Our stream-level flow control credit back to the client. */
  windowUpdate(stream: number, n: number): void;
  rst(stream: number, code: number): void;
}
