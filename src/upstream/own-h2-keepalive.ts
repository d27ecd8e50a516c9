import { ProxyError } from '../core/errors.ts';
import { E_SETTINGS_TIMEOUT } from '../http2/frames.ts';
import { S_CONNECTING, S_READY } from './h2-session.ts';
import type { OwnH2Session } from './own-h2-session.ts';

/** The opaque data of our PINGs; the server echoes it (RFC 9113 §6.7). */
const PING_DATA = Buffer.from('trafficP', 'latin1');

/**
 * The deadlines of one own-engine session, on the pool's ticker (the session is the Timed entry,
 * this sets its `deadline`): the connect (and TLS handshake) timeout; the idle timeout of a
 * session without streams; and liveness as the node engine's session keeps it (Traefik's
 * `readIdleTimeout`/`pingTimeout`): after `readIdleTimeout` without a byte from the server a PING
 * goes out, and no answer within `pingTimeout` takes the session down, its streams broken; and
 * the server's acknowledgement of our SETTINGS (RFC 9113 §6.5.3), due within `pingTimeout` too
 * (it answers a control frame of ours as a PING ACK does; the server side holds a client to its
 * readHeaderTimeout the same way): none, and the session ends with GOAWAY(SETTINGS_TIMEOUT), its
 * streams broken, where it would otherwise wait on a server that reads nothing. A read costs one
 * field write (the time of the last read); nothing runs per request.
 */
export class OwnH2Keepalive {
  readonly #s: OwnH2Session;
  #lastReadAt = 0;
  #idleSince = 0;
  #pingSentAt = 0;
  /** When our SETTINGS must have been acknowledged, on the pool's clock; 0 = done (or no limit). */
  #ackBy = 0;

  constructor(s: OwnH2Session) {
    this.#s = s;
  }

  connecting(): void {
    const pool = this.#s.pool;
    const t = pool.options.connectTimeoutMs;
    this.#s.deadline = t > 0 ? pool.ticker.now + t : 0;
    pool.ticker.add(this.#s);
  }

  /** The preface and our SETTINGS went out. */
  up(): void {
    const now = this.#s.pool.ticker.now;
    this.#lastReadAt = now;
    this.#idleSince = now;
    const t = this.#s.pool.options.pingTimeoutMs;
    this.#ackBy = t > 0 ? now + t : 0;
    this.#arm(now);
  }

  /** The server acknowledged our SETTINGS. */
  settingsAcked(): void {
    if (this.#ackBy === 0) return;
    this.#ackBy = 0;
    this.#arm(this.#s.pool.ticker.now);
  }

  /** The session's last stream closed: its idle time starts. */
  idle(): void {
    const now = this.#s.pool.ticker.now;
    this.#idleSince = now;
    this.#arm(now);
  }

  read(): void {
    this.#lastReadAt = this.#s.pool.ticker.now;
  }

  pingAnswered(): void {
    if (this.#pingSentAt === 0) return;
    this.#pingSentAt = 0;
    this.#arm(this.#s.pool.ticker.now);
  }

  #arm(now: number): void {
    const s = this.#s;
    const o = s.pool.options;
    let d = 0;
    if (this.#pingSentAt !== 0) d = this.#pingSentAt + o.pingTimeoutMs;
    else if (o.readIdleTimeoutMs > 0) d = this.#lastReadAt + o.readIdleTimeoutMs;
    if (s.active === 0 && s.state === S_READY && o.idleTimeoutMs > 0) {
      const idle = this.#idleSince + o.idleTimeoutMs;
      if (d === 0 || idle < d) d = idle;
    }
    if (this.#ackBy !== 0 && (d === 0 || this.#ackBy < d)) d = this.#ackBy;
    s.deadline = d === 0 ? 0 : Math.max(d, now + 1);
  }

  onDeadline(now: number): void {
    const s = this.#s;
    const o = s.pool.options;
    if (s.state === S_CONNECTING) {
      const what = s.tcpUp ? 'upstream TLS handshake timeout' : 'upstream connect timeout';
      s.fail(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', what));
      return;
    }
    if (this.#ackBy !== 0 && now >= this.#ackBy) {
      this.#ackBy = 0;
      s.connError(E_SETTINGS_TIMEOUT, `SETTINGS not acknowledged within ${o.pingTimeoutMs}ms`);
      return;
    }
    if (this.#pingSentAt !== 0 && now >= this.#pingSentAt + o.pingTimeoutMs) {
      s.pool.streams.pingTimeouts++;
      const why = `upstream session did not answer a PING within ${o.pingTimeoutMs}ms`;
      s.destroy(new ProxyError('UPSTREAM_RESET', why));
      return;
    }
    if (
      s.active === 0 &&
      s.state === S_READY &&
      o.idleTimeoutMs > 0 &&
      now >= this.#idleSince + o.idleTimeoutMs
    ) {
      s.close();
      return;
    }
    if (this.#pingSentAt === 0 && o.readIdleTimeoutMs > 0 && now >= this.#lastReadAt + o.readIdleTimeoutMs) {
      this.#pingSentAt = now;
      s.writer.ping(PING_DATA, 0);
      s.writes.flushNow();
    }
    this.#arm(now);
  }
}
