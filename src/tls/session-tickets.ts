import { createHmac, randomBytes } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';

/**
 * How long one session-ticket key encrypts new tickets. A key then decrypts for one more period
 * (tickets it sealed late in its period still resume), and is forgotten after that: a stolen key
 * opens at most two periods of sessions (forward secrecy of resumed sessions). A ticket thus
 * resumes for one to two hours after it was issued; OpenSSL's own ticket lifetime (node sets no
 * `sessionTimeout` by default) is two hours.
 */
export const TICKET_KEY_PERIOD_MS = 60 * 60 * 1000;

/** One ticket key in node's 48-byte layout: key name, HMAC-SHA256 key, AES-128-CBC key. */
export interface TicketKey {
  readonly name: Buffer;
  readonly hmac: Buffer;
  readonly aes: Buffer;
}

export interface SessionTicketKeyOptions {
  /** The per-process secret every key derives from (32 random bytes by default). */
  readonly secret?: Buffer;
  readonly periodMs?: number;
  /** Wall clock (ms); tests inject theirs. */
  readonly now?: () => number;
}

/** `[result, hmacKey, aesKey, name?, iv?]`, what node's ticket key callback expects back. */
type TicketCallbackResult = [number, Buffer, Buffer] | [number, Buffer, Buffer, Buffer, Buffer];

/**
 * The internal hook of node's SecureContext (`enableTicketKeyCallback` + `onticketkeycallback`,
 * OpenSSL's SSL_CTX_set_tlsext_ticket_key_cb). Node exposes only one ticket key per server
 * (`ticketKeys`, `setTicketKeys`), which cannot decrypt with a previous key while sealing with a
 * new one; this hook can. It is not public API (node keeps it for its own test
 * test-https-resume-after-renew), so `install` checks for it and falls back to one fixed key.
 */
interface TicketHookContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => TicketCallbackResult;
}

// OpenSSL's ticket key callback results (ssl.h, SSL_CTX_set_tlsext_ticket_key_cb).
const TICKET_UNKNOWN = 0;
const TICKET_OK = 1;
const TICKET_OK_RENEW = 2;

/**
 * Session-ticket keys that rotate every period. Keys derive from a per-process secret, the
 * options set's fingerprint and the period number, so that:
 *   - a reload that keeps an options set keeps its tickets valid (a new tls.Server derives the
 *     same keys), as before rotation existed;
 *   - a ticket never resumes under a changed options set (other fingerprint, other keys): that
 *     would skip the new set's checks (client certificates, versions);
 *   - new tickets are sealed with the current period's key; a ticket of the previous period is
 *     still accepted and renewed (the client gets one under the current key); older ones get a
 *     full handshake.
 * A restart draws a new secret, as node and Go do.
 */
export class SessionTicketKeys {
  readonly #secret: Buffer;
  readonly #periodMs: number;
  readonly #now: () => number;

  constructor(opts: SessionTicketKeyOptions = {}) {
    this.#secret = opts.secret ?? randomBytes(32);
    this.#periodMs = opts.periodMs ?? TICKET_KEY_PERIOD_MS;
    this.#now = opts.now ?? Date.now;
    if (!(this.#periodMs > 0)) throw new RangeError(`ticket key period must be positive: ${this.#periodMs}`);
  }

  /** The number of the period the clock is in now. */
  period(): number {
    return Math.floor(this.#now() / this.#periodMs);
  }

  /** The key of `period` for the options set with `fingerprint`. */
  key(fingerprint: string, period: number): TicketKey {
    const part = (label: string): Buffer =>
      createHmac('sha256', this.#secret)
        .update(`session-ticket-key\0${label}\0${fingerprint}\0${period}`)
        .digest()
        .subarray(0, 16);
    return { name: part('name'), hmac: part('hmac'), aes: part('aes') };
  }

  /**
   * Makes `server` seal tickets with the current key of `fingerprint` and open those of the
   * current and the previous period. Returns false when node lacks the hook: the server then has
   * the current period's key only, for its whole life (no rotation, but reloads still keep it).
   */
  install(server: TlsServer, fingerprint: string): boolean {
    const context = (server as unknown as { _sharedCreds?: { context?: TicketHookContext } })._sharedCreds
      ?.context;
    if (context === undefined || typeof context.enableTicketKeyCallback !== 'function') {
      const k = this.key(fingerprint, this.period());
      server.setTicketKeys(Buffer.concat([k.name, k.hmac, k.aes]));
      return false;
    }
    // Keys of the period last seen and of the one before: recomputed once per period, not per
    // handshake.
    let period = Number.NaN;
    let current = this.key(fingerprint, 0);
    let previous = current;
    const refresh = (): void => {
      const now = this.period();
      if (now === period) return;
      previous = now === period + 1 ? current : this.key(fingerprint, now - 1);
      current = this.key(fingerprint, now);
      period = now;
    };
    context.onticketkeycallback = (name, _iv, encrypt) => {
      refresh();
      if (encrypt) return [TICKET_OK, current.hmac, current.aes, current.name, randomBytes(16)];
      if (name.equals(current.name)) return [TICKET_OK, current.hmac, current.aes];
      if (name.equals(previous.name)) return [TICKET_OK_RENEW, previous.hmac, previous.aes];
      // Node wants keys of the right size even for "unknown": the ticket is ignored.
      return [TICKET_UNKNOWN, current.hmac, current.aes];
    };
    context.enableTicketKeyCallback();
    return true;
  }
}
