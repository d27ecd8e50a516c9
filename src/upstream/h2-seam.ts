import type { ProxyError } from '../core/errors.ts';
import type { UpstreamUser } from './stream.ts';

/**
 * What an `H2Pool` needs of its sessions and streams, whichever engine carries them
 * (static `experimental.http2Engine`): node:http2 (h2-session, h2-stream) or our own client
 * (own-h2-session, own-h2-stream). The sessions of one pool are all of one engine, so a stream
 * sent again after a refusal always lands on a session of its own kind.
 */

/** A stream the server refused unprocessed, waiting to be sent again on another session. */
export interface ReplayStream {
  readonly user: UpstreamUser | null;
  /** No session could take it: the user hears `err` (phase 'connect'). */
  replayFailed(err: ProxyError): void;
}

/** What a session waits to serve once it is up: a new request, or a refused stream sent again. */
export interface Waiter {
  user: UpstreamUser;
  method: string;
  replay: ReplayStream | null;
}

/** One HTTP/2 connection of a pool (state: the S_* constants of h2-session.ts). */
export interface PoolSession {
  readonly state: number;
  /** Streams taken (handed out, not yet closed). */
  readonly active: number;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS (capped), or the assumed initial value. */
  readonly maxStreams: number;
  /** Streams started on this session in all. */
  readonly uses: number;
  /** Users waiting for this session to come up. */
  waiters: Waiter[];
  readonly hasRoom: boolean;
  /** Hands `user` a stream of this session. */
  startStream(user: UpstreamUser, method: string): void;
  /** Takes a refused stream of another session of the same pool. */
  resumeStream(st: ReplayStream): void;
  /** Graceful: GOAWAY, open streams finish, then the connection closes. */
  close(): void;
}
