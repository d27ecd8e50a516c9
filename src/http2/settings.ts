import type { RequestLimits } from '../http1/request-head.ts';

/** Limits of an entry point's HTTP/2 sessions. Every one bounds what a single client can cost. */
export interface Http2Settings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (Traefik's `http2.maxConcurrentStreams`). */
  readonly maxConcurrentStreams: number;
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send on one stream ahead of
   * the upstream reading them. A paused stream buffers at most this much, so the worst case
   * per session is this times `maxConcurrentStreams`.
   */
  readonly initialWindowSize: number;
  /** The session's receive window; node returns connection credit as soon as bytes arrive. */
  readonly connectionWindowSize: number;
  /**
   * SETTINGS_HEADER_TABLE_SIZE: the largest HPACK dynamic table a client's encoder may fill in our
   * decoder (Traefik v3.6's `http2.maxDecoderHeaderTableSize`, Go's default 4096).
   */
  readonly headerTableSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE, in RFC 9113 terms (name + value + 32 per field). */
  readonly maxHeaderListSize: number;
  /** Header fields per request, pseudo-header fields included (node's `maxHeaderListPairs`). */
  readonly maxHeaderListPairs: number;
  /** nghttp2 memory (header tables, queued frames, streams) per session before new streams are refused. */
  readonly maxSessionMemoryMb: number;
  /**
   * Streams a client may reset before our response ended, per second and session (rapid reset,
   * CVE-2023-44487). Above it the session gets GOAWAY(ENHANCE_YOUR_CALM) and is closed.
   */
  readonly maxResetsPerSecond: number;
  /** Streams refused (over the concurrency limit, …) before node closes the session. */
  readonly maxRejectedStreams: number;
  /** Invalid frames tolerated before node closes the session. */
  readonly maxInvalidFrames: number;
}

/**
 * Defaults: Traefik's 250 concurrent streams; the header list bound derived from the entry
 * point's `maxHeaderBytes` (plus RFC 9113's 32 bytes of accounting per field, so that a head
 * HTTP/1.1 accepts is accepted here too); node's own limits made stricter where a flood would
 * otherwise run long (invalid frames 1000 → 100).
 */
export function defaultHttp2Settings(limits: RequestLimits): Http2Settings {
  return {
    maxConcurrentStreams: 250,
    headerTableSize: 4096,
    initialWindowSize: 256 * 1024,
    connectionWindowSize: 1024 * 1024,
    maxHeaderListSize: limits.maxHeaderBytes + 32 * limits.maxHeaderCount,
    maxHeaderListPairs: limits.maxHeaderCount + 8,
    maxSessionMemoryMb: 10,
    maxResetsPerSecond: 200,
    maxRejectedStreams: 100,
    maxInvalidFrames: 100,
  };
}
