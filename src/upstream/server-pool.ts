import type { PoolStats } from './pool.ts';
import type { StreamSource } from './stream.ts';

/** HTTP/2 stream counts of a pool whose connections are multiplexed sessions. */
export interface StreamStats {
  /** Streams open now. */
  active: number;
  /** Streams started in all. */
  opened: number;
  /**
   * Streams the server refused unprocessed (REFUSED_STREAM, or above the last stream id of its
   * GOAWAY), which were sent again on another session.
   */
  refused: number;
  /** GOAWAY frames received (the session drains, new streams go elsewhere). */
  goaways: number;
  /** Sessions closed because a PING was not answered within `pingTimeout`. */
  pingTimeouts: number;
  /** Sessions closed because the server flooded PING, SETTINGS or empty DATA frames. */
  floods: number;
}

/**
 * A server's pool as the runtime holds it: where requests get their upstream streams, read by
 * metrics and the admin API at scrape time, and closed when no generation uses it any more.
 * Two kinds: HTTP/1.1 connections (`UpstreamPool`) and HTTP/2 sessions (`H2Pool`); `AlpnPool`
 * is either, depending on what an `https://` server picks.
 */
export interface ServerPool extends StreamSource {
  /** Connections by state (HTTP/2: sessions; a session is busy while it has streams). */
  readonly stats: PoolStats;
  /** HTTP/2 streams; absent or null for HTTP/1.1. */
  readonly streams?: StreamStats | null;
  /**
   * Where upgrade requests (WebSocket) go when this pool does not speak HTTP/1.1: the same
   * server over HTTP/1.1 (Traefik sends them so to h2c and https servers). Absent: this pool.
   */
  readonly upgrades?: StreamSource;
  /** Stops reuse: idle connections close now, busy ones when their last exchange ends. */
  close(): void;
}
