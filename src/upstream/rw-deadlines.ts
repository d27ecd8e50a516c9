import { ProxyError } from '../core/errors.ts';
import type { UpstreamUser } from './stream.ts';

/**
 * Traefik v3.8's `forwardingTimeouts.readTimeout` and `writeTimeout` (traefik/traefik#12716, as
 * #13747 arms them: pkg/proxy/fast/connpool.go, `timeoutReader.Read` and `conn.Write`) for one
 * exchange with a server: deadlines per operation, not for the whole exchange.
 *
 * - read: once the request was written and until its response ended, every read from the server
 *   must bring bytes within `readMs` (the deadline moves with each read). Not armed while the
 *   request is still being written (an upload slower than readTimeout is the write side's), nor
 *   while the exchange holds the server back for a slow client (Go reads nothing then: its copy
 *   is blocked writing to the client), nor on an idle or upgraded connection.
 * - write: a write the server does not take at once (bytes left queued) must complete within
 *   `writeMs`; a check that finds fewer bytes queued than when armed counts as a new write, as
 *   each of Go's `Write` calls sets its own deadline.
 *
 * One object per HTTP/1.1 connection or HTTP/2 stream, made only when a transport sets either
 * timeout: with neither, nothing of this exists and the request path tests one null field.
 */
export const RW_NONE = 0;
export const RW_READ = 1;
export const RW_WRITE = 2;
export const RW_HEADER = 3;

export class RwDeadlines {
  readonly readMs: number;
  readonly writeMs: number;
  /** Absolute deadlines on the ticker's clock; 0 = not armed. */
  header = 0;
  read = 0;
  write = 0;
  /** Bytes queued when the write deadline was armed (or last seen moving). */
  #writeMark = 0;
  /** The request was written: a response is awaited or being read. */
  #reading = false;
  /** The exchange holds the server back (a slow client). */
  #paused = false;

  constructor(readMs: number, writeMs: number) {
    this.readMs = readMs;
    this.writeMs = writeMs;
  }

  /** A new exchange: nothing armed; `header` is its responseHeaderTimeout deadline (0 = none). */
  reset(header: number): void {
    this.header = header;
    this.read = 0;
    this.write = 0;
    this.#reading = false;
    this.#paused = false;
  }

  /** The earliest armed deadline, 0 when none. */
  soonest(): number {
    let d = this.header;
    const r = this.read;
    if (r !== 0 && (d === 0 || r < d)) d = r;
    const w = this.write;
    if (w !== 0 && (d === 0 || w < d)) d = w;
    return d;
  }

  /** The request is fully written: the response's reads are timed from now. */
  requestWritten(now: number): void {
    this.#reading = true;
    if (this.readMs !== 0 && !this.#paused) this.read = now + this.readMs;
  }

  /** Bytes came from the server. */
  readSeen(now: number): void {
    if (this.readMs !== 0 && this.#reading && !this.#paused) this.read = now + this.readMs;
  }

  pause(): void {
    this.#paused = true;
    this.read = 0;
  }

  resume(now: number): void {
    this.#paused = false;
    if (this.readMs !== 0 && this.#reading) this.read = now + this.readMs;
  }

  /** A write left `pending` bytes queued: arm the write deadline, unless armed already. */
  writeBlocked(now: number, pending: number): void {
    if (this.writeMs === 0 || this.write !== 0) return;
    this.write = now + this.writeMs;
    this.#writeMark = pending;
  }

  /** Everything queued was written. */
  drained(): void {
    this.write = 0;
  }

  /**
   * A deadline came (`now`); `pending`: bytes still queued for the server. Which timeout ran
   * out (RW_READ, RW_WRITE, RW_HEADER), or RW_NONE when the writes progressed (re-armed).
   */
  expired(now: number, pending: number): number {
    const w = this.write;
    if (w !== 0 && w <= now) {
      if (pending === 0) this.write = 0;
      else if (pending < this.#writeMark) {
        this.#writeMark = pending;
        this.write = now + this.writeMs;
      } else return RW_WRITE;
    }
    if (this.read !== 0 && this.read <= now) return RW_READ;
    if (this.header !== 0 && this.header <= now) return RW_HEADER;
    return RW_NONE;
  }
}

/**
 * A readTimeout/writeTimeout deadline (or the response-header one beside them) of `s`, an
 * HTTP/1.1 connection or an HTTP/2 stream, came (`now`; `pending`: bytes still queued for the
 * server): writes that progressed re-arm it (`s.deadline`); else `s` is destroyed and `user`
 * hears which timeout ran out, a 504 before the response head (`inBody` false), as Traefik's
 * error handler answers a net.Error timeout (pkg/proxy/httputil/proxy.go), a broken response
 * after it. `reused`: the connection served before (HTTP/1.1).
 */
export function rwDeadlineCame(
  s: { deadline: number; destroy(): void },
  rw: RwDeadlines,
  now: number,
  pending: number,
  user: UpstreamUser | null,
  inBody: boolean,
  reused: boolean,
): void {
  const kind = rw.expired(now, pending);
  if (kind === RW_NONE) {
    s.deadline = rw.soonest();
    return;
  }
  s.destroy();
  user?.onUpstreamError(
    new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', rwTimeoutMessage(kind)),
    inBody ? 'body' : 'head',
    reused,
  );
}

/** What the client's error says for each timeout. */
export function rwTimeoutMessage(kind: number): string {
  return kind === RW_READ
    ? 'no byte from the server within forwardingTimeouts.readTimeout'
    : kind === RW_WRITE
      ? 'a write to the server did not complete within forwardingTimeouts.writeTimeout'
      : 'upstream response header timeout';
}
