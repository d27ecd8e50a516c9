import type { Ticker } from '../core/ticker.ts';
import type { Http2Settings } from './settings.ts';

/**
 * Frames of PING, SETTINGS or empty DATA a client may send per second before it is a flood; the
 * upstream side (own-h2-frames.ts) allows a server as many.
 */
export const CONTROL_PER_SECOND = 1000;

/**
 * Entries one SETTINGS frame may carry before it is a flood, either way: nghttp2's
 * NGHTTP2_DEFAULT_MAX_SETTINGS, which the node engine applies. Each SETTINGS_INITIAL_WINDOW_SIZE
 * entry walks every open stream (RFC 9113 §6.9.2): unbounded, one 16 KiB frame of 2,730 entries
 * against 250 streams is 680,000 window updates (Go CVE-2026-78669, x/net v0.61.0: "excessive
 * CPU consumption from repeated initial window changes").
 */
export const MAX_SETTINGS_ENTRIES = 32;

/**
 * PING and SETTINGS acknowledgements and RST_STREAMs an own-engine connection writes into a socket
 * that has not drained since, before it ends as a flood: nghttp2's NGHTTP2_DEFAULT_MAX_OBQ_FLOOD_ITEM
 * (max_outbound_ack, 1000), which the node engine applies.
 */
export const MAX_UNSENT_CONTROL = 1000;

/** Who ends the connection when a limit is crossed. */
export interface FloodTarget {
  flood(what: string): void;
}

/**
 * What one client may cost an own-engine connection before it is a flood and the connection
 * ends with GOAWAY(ENHANCE_YOUR_CALM): streams reset before our response ended (rapid reset,
 * CVE-2023-44487; `maxResetsPerSecond` as session.ts), PING/SETTINGS/empty DATA frames per second
 * (CVE-2019-9512, -9515, -9518), streams refused at the concurrency limit, and stream errors.
 * Counted per second on the ticker's clock: nothing is allocated per frame.
 */
export class FloodLimits {
  readonly #ticker: Ticker;
  readonly #settings: Http2Settings;
  readonly #target: FloodTarget;
  #resets = 0;
  #resetWindow = 0;
  #control = 0;
  #controlWindow = 0;
  #rejected = 0;
  #invalid = 0;

  constructor(ticker: Ticker, settings: Http2Settings, target: FloodTarget) {
    this.#ticker = ticker;
    this.#settings = settings;
    this.#target = target;
  }

  /** The client reset a stream before our response ended. */
  peerReset(): void {
    const now = this.#ticker.now;
    if (now - this.#resetWindow >= 1000) {
      this.#resetWindow = now;
      this.#resets = 0;
    }
    if (++this.#resets > this.#settings.maxResetsPerSecond) this.#target.flood('rapid reset');
  }

  /** A PING, SETTINGS or empty DATA frame: false once they are a flood (the connection ends). */
  controlFrame(what: string): boolean {
    const now = this.#ticker.now;
    if (now - this.#controlWindow >= 1000) {
      this.#controlWindow = now;
      this.#control = 0;
    }
    if (++this.#control <= CONTROL_PER_SECOND) return true;
    this.#target.flood(what);
    return false;
  }

  /** A stream refused for the concurrency limit: false once too many (the connection ends). */
  refused(): boolean {
    if (++this.#rejected <= this.#settings.maxRejectedStreams) return true;
    this.#target.flood('refused streams');
    return false;
  }

  /** A frame that broke a stream rule (stream error): false once too many. */
  invalid(): boolean {
    if (++this.#invalid <= this.#settings.maxInvalidFrames) return true;
    this.#target.flood('invalid frames');
    return false;
  }
}
