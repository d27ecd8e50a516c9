import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Ticker, Timed } from '../core/ticker.ts';
import {
  adoptReadSlot,
  copyOut,
  isSharedReadBuffer,
  ReadSlot,
  type ReadTarget,
  readSlotOf,
} from '../http1/read-slot.ts';
import { TUNNEL_RESET } from '../upstream/stream.ts';

/** How a tunnel ended, for the access log and metrics. */
export type TunnelEnd =
  /** Both sides closed their half (FIN both ways): a clean end. */
  | 'closed'
  /** A side went away without a clean close (reset, error): the other side is broken too. */
  | 'broken'
  /** Nothing crossed it for `idleMs`. */
  | 'idle'
  /** Closed by us: shutdown, or its route or server was removed by a reload. */
  | 'closed-by-proxy';

/** Told once when the tunnel is over. */
export interface TunnelListener {
  onTunnelEnd(tunnel: Tunnel, end: TunnelEnd): void;
}

const SIDE = Symbol('traffic.tunnel.side');

type Resettable = Duplex & { [TUNNEL_RESET]?: (s: Duplex) => void };

/**
 * One direction: the stream bytes come from, and where they go. When `from` is a plain TCP
 * socket, it reads into a buffer of its own (ReadSlot) and this side is the slot's target: each
 * read is written on at once, and the buffer is reused for the next read unless the write kept
 * it (queued): no buffer allocated per read, no Readable stream machinery per chunk.
 */
class TunnelSide implements ReadTarget {
  readonly tunnel: Tunnel;
  readonly from: Duplex;
  readonly to: Duplex;
  /** True for client → upstream. */
  readonly up: boolean;
  /** `from` sent its FIN. */
  ended = false;
  /** The ReadSlot `from` reads into, when it is ours; null: 'data' events. */
  slot: ReadSlot | null = null;
  /** `from` is a plain TCP socket read through 'data' events, which may switch to a slot. */
  adoptable = false;
  /** Slot buffers held by writes to `to` still queued: given back to the slot once `to` drains. */
  readonly lent: Buffer[] = [];

  constructor(tunnel: Tunnel, from: Duplex, to: Duplex, up: boolean) {
    this.tunnel = tunnel;
    this.from = from;
    this.to = to;
    this.up = up;
  }

  onRead(buf: Buffer, n: number): boolean {
    const to = this.to;
    if (isSharedReadBuffer(buf)) {
      // The read landed in the buffer upstream connections share (they were handed it before
      // the tunnel took the slot over, see #read): what may stay queued is a copy.
      this.tunnel.data(this, copyOut(buf, 0, n));
      return true;
    }
    this.tunnel.data(this, n === buf.length ? buf : buf.subarray(0, n));
    // Nothing left queued: the kernel (or TLS) took the bytes and the buffer can be read into
    // again. Else the queued write holds this memory: the next read goes to a fresh buffer.
    if (to.writableLength > 0) {
      const b = this.slot!.lend();
      if (this.lent.length < MAX_LENT) this.lent.push(b);
    }
    return true;
  }
}

/**
 * A read this large says the connection carries a bulk transfer: from then on its socket reads
 * into a slot. Short exchanges (a request and its answer) keep net's reads, which cost less than
 * a slot's buffer for a connection that reads once or twice.
 */
const BULK_READ = 16 * 1024;

/** Lent buffers a side remembers to give back (as many as its slack lets queue, and one more). */
const MAX_LENT = 3;

type Tagged = Duplex & { [SIDE]?: TunnelSide };

// Listeners shared by every tunnel (no closure per tunnel): `this` is the readable stream.
function onData(this: Tagged, chunk: Buffer): void {
  const side = this[SIDE]!;
  side.tunnel.data(side, chunk);
  if (chunk.length >= BULK_READ && side.adoptable) side.tunnel.adopt(side);
}
function onEnd(this: Tagged): void {
  // A node:http2 stream the peer reset ends its readable side after it was destroyed: that is no
  // FIN to pass on ('close' follows, and tells a broken tunnel).
  if (this.destroyed) return;
  this[SIDE]!.tunnel.halfClosed(this[SIDE]!);
}
function onDrainOther(this: Tagged): void {
  // `this` is the writable side that drained: resume whoever writes into it.
  this[SIDE]!.tunnel.drained(this[SIDE]!);
}
function onClose(this: Tagged): void {
  this[SIDE]!.tunnel.sideClosed(this[SIDE]!);
}
function ignoreError(): void {}

/**
 * Two byte streams joined after a protocol switch (a 101 to a WebSocket handshake, an HTTP/2
 * extended CONNECT): bytes are piped both ways with backpressure (a side that cannot write pauses
 * the other's reading), a FIN is passed on as a FIN (half-close), a reset or error on one side
 * destroys the other (the peer must see a broken connection, never a clean close), and an idle
 * timer closes it when nothing crossed for `idleMs`. Bytes are counted each way, and the end is
 * reported once.
 */
export class Tunnel implements Timed {
  readonly client: Duplex;
  readonly upstream: Duplex;
  readonly #ticker: Ticker;
  readonly #idleMs: number;
  /** After one side's FIN, how long the other may take to finish before both are closed. */
  readonly #terminationMs: number;
  readonly #listener: TunnelListener;
  /** Bytes a side may hold unsent before the other stops reading (0: as soon as write() says full). */
  readonly #slack: number;
  /**
   * TCP routers: a side that resets (or fails) ends like a FIN (Traefik's connCopy, pkg/tcp/proxy.go:
   * the read error ends that copy, then CloseWrite sends a FIN to the other peer). Else the other
   * side is reset too (WebSocket and CONNECT tunnels).
   */
  readonly #finOnReset: boolean;
  /** finOnReset: a side went away without its FIN (the end is `broken`, closed with FINs). */
  #broken = false;
  readonly #up: TunnelSide;
  readonly #down: TunnelSide;
  /** Bytes client → upstream, and upstream → client. */
  bytesUp = 0;
  bytesDown = 0;
  readonly startedAt: number;
  deadline = 0;
  tickerSlot = -1;
  #lastActivity: number;
  /** One side sent its FIN: the other has until `deadline` to finish. */
  #terminating = false;
  /** The client's FIN starts no termination delay (see the constructor). */
  readonly #clientFinWaits: boolean;
  #timed = false;
  #over = false;

  /**
   * `idleMs`: close when nothing crossed for that long (0 = never). `terminationMs`: once one
   * side has sent its FIN (passed on to the other), how long the other may keep its half open
   * before both are closed (Traefik's TCP `terminationDelay`; negative = as long as it wants).
   * `slack` (TCP routers): a side's reading stops only when more than this many bytes wait
   * unsent on the other; 0 = as soon as the writer reports its buffer full. A read chunk (64
   * KiB) fills a socket's buffer at once, so with 0 bulk transfers stop and restart reading at
   * every chunk even when the kernel took it all (two epoll changes per chunk). `finOnReset`
   * (TCP routers): a side's reset reaches the other as a FIN, as in Traefik (see the field).
   * `clientFinWaits`: after the client's FIN the upstream's half may stay open as long as it
   * wants (the idle timer still runs): an HTTP/2 upstream's CONNECT stream, which Traefik's
   * transport ends with END_STREAM at the request body's EOF and then reads until the backend
   * ends (x/net/http2; no delay of its own). The upstream's FIN still starts `terminationMs`.
   */
  constructor(
    client: Duplex,
    upstream: Duplex,
    ticker: Ticker,
    idleMs: number,
    terminationMs: number,
    listener: TunnelListener,
    slack = 0,
    finOnReset = false,
    clientFinWaits = false,
  ) {
    this.client = client;
    this.upstream = upstream;
    this.#ticker = ticker;
    this.#idleMs = idleMs;
    this.#terminationMs = terminationMs;
    this.#listener = listener;
    this.#slack = slack;
    this.#finOnReset = finOnReset;
    this.#clientFinWaits = clientFinWaits;
    this.startedAt = performance.now();
    this.#lastActivity = ticker.now;
    this.#up = new TunnelSide(this, client, upstream, true);
    this.#down = new TunnelSide(this, upstream, client, false);
  }

  /**
   * Starts piping. `clientRest`: bytes the client sent past its handshake (for the upstream);
   * `upstreamRest`: bytes the upstream sent past its 101 (for the client).
   */
  start(clientRest: Buffer | null, upstreamRest: Buffer | null): void {
    const c = this.client as Tagged;
    const u = this.upstream as Tagged;
    // One side object per stream: a stream's events are about what it reads (data, end) and
    // what is written to it (drain) — the side reading from it is the one both concern.
    c[SIDE] = this.#up;
    u[SIDE] = this.#down;
    for (const s of [c, u]) {
      // A FIN from one side must not close the other half: it is passed on, not acted upon.
      (s as { allowHalfOpen?: boolean }).allowHalfOpen = true;
      s.on('error', ignoreError);
      s.on('close', onClose);
      s.on('end', onEnd);
      s.on('drain', onDrainOther);
    }
    if (upstreamRest !== null && upstreamRest.length > 0) this.data(this.#down, upstreamRest);
    if (clientRest !== null && clientRest.length > 0) this.data(this.#up, clientRest);
    this.#read(this.#up);
    this.#read(this.#down);
    c.resume();
    u.resume();
    if (this.#idleMs > 0) {
      this.deadline = this.#ticker.now + this.#idleMs;
      this.#timed = true;
      this.#ticker.add(this);
    }
  }

  /**
   * How `side.from` is read: into the ReadSlot the socket has already (an HTTP/1.1 connection or
   * upstream connection that switched protocols: a WebSocket), retargeted to this side; else
   * through 'data' events, switching to a slot of its own on the first large read when it is a
   * plain TCP socket (`adopt`).
   */
  #read(side: TunnelSide): void {
    const s = side.from as Socket;
    if (s.readableLength === 0) {
      const slot = readSlotOf(s);
      if (slot !== null) {
        // A tunnel lends the buffers it reads into: never the one upstream connections share.
        slot.unshare();
        side.slot = slot;
        slot.target = side;
        return;
      }
    }
    side.adoptable = typeof s.resetAndDestroy === 'function';
    s.on('data', onData);
  }

  /** `side.from` carries a bulk transfer: its reads go to a slot of its own from now on. */
  adopt(side: TunnelSide): void {
    side.adoptable = false;
    if (this.#over) return;
    const s = side.from as Socket;
    const slot = new ReadSlot(true);
    if (!adoptReadSlot(s, slot)) return;
    side.slot = slot;
    slot.target = side;
    s.off('data', onData);
    // Paused by backpressure: with a slot, reading stops only through pause() (net's rule).
    if (s.readableFlowing === false) s.pause();
  }

  /** Bytes read from `side.from`: written to `side.to`, whose backpressure pauses the reader. */
  data(side: TunnelSide, chunk: Buffer): void {
    if (this.#over) return;
    if (this.#broken && side.to.destroyed) {
      // finOnReset: the other peer is gone; Traefik's copy toward it fails on this write and
      // both connections are closed.
      this.#finish('broken');
      return;
    }
    this.#lastActivity = this.#ticker.now;
    if (side.up) this.bytesUp += chunk.length;
    else this.bytesDown += chunk.length;
    // A write that reports a full buffer always brings a 'drain' later, which resumes the reader.
    if (!side.to.write(chunk) && (this.#slack === 0 || side.to.writableLength > this.#slack))
      side.from.pause();
  }

  /** `side.to` drained (the event fires on the stream written to, whose own side is the other one). */
  drained(writtenSide: TunnelSide): void {
    // The stream that drained is `writtenSide.from`; the one writing into it is the other side's `from`.
    const other = writtenSide === this.#up ? this.#down : this.#up;
    const lent = other.lent;
    // Nothing queued any more (a write issued since the drain would show): no write holds them.
    if (lent.length > 0 && other.to.writableLength === 0) {
      for (let i = 0; i < lent.length; i++) other.slot!.recycle(lent[i]!);
      lent.length = 0;
    }
    if (!other.ended && !this.#over) other.from.resume();
  }

  /** `side.from` sent its FIN: pass it on; when both have, the tunnel is done. */
  halfClosed(side: TunnelSide): void {
    if (this.#over) return;
    side.ended = true;
    endOnce(side.to);
    if (this.#up.ended && this.#down.ended) {
      this.#finish(this.#broken ? 'broken' : 'closed');
      return;
    }
    if (this.#terminationMs === 0) {
      // Traefik's SetReadDeadline(now): the other side's reading stops at once.
      this.#terminate();
      return;
    }
    if (this.#terminationMs >= 0 && !this.#terminating && !(side.up && this.#clientFinWaits)) {
      this.#terminating = true;
      this.deadline = this.#ticker.now + this.#terminationMs;
      if (!this.#timed) {
        this.#timed = true;
        this.#ticker.add(this);
      }
    }
  }

  /** A stream closed: if not after a clean FIN both ways, the other side is broken too. */
  sideClosed(side: TunnelSide): void {
    if (this.#over) return;
    if (this.#up.ended && this.#down.ended) {
      this.#finish(this.#broken ? 'broken' : 'closed');
      return;
    }
    if (!this.#finOnReset || side.ended) {
      this.#finish('broken');
      return;
    }
    // finOnReset: `side.from` went away without its FIN (a reset, an error): its reading ends as
    // at a FIN, passed on as one; the other peer may finish within terminationDelay.
    this.#broken = true;
    this.halfClosed(side);
  }

  onDeadline(now: number): void {
    if (this.#over) return;
    if (this.#terminating) {
      this.#terminate();
      return;
    }
    const idleFor = now - this.#lastActivity;
    if (idleFor < this.#idleMs) {
      this.deadline = this.#lastActivity + this.#idleMs;
      return;
    }
    this.close('idle');
  }

  /** The other side kept its half open past terminationDelay: both closed, as a clean end. */
  #terminate(): void {
    this.#up.ended = true;
    this.#down.ended = true;
    endOnce(this.client);
    endOnce(this.upstream);
    this.#finish(this.#broken ? 'broken' : 'closed');
  }

  /** Ends the tunnel from our side: both streams get a FIN (then are freed). */
  close(end: TunnelEnd = 'closed-by-proxy'): void {
    if (this.#over) return;
    endOnce(this.client);
    endOnce(this.upstream);
    this.#finish(end);
  }

  #finish(end: TunnelEnd): void {
    this.#over = true;
    if (this.#timed) this.#ticker.delete(this);
    const c = this.client;
    const u = this.upstream;
    for (const side of [this.#up, this.#down]) {
      if (side.slot === null) side.from.off('data', onData);
      else if (side.slot.target === side) side.slot.target = null;
    }
    if (end === 'closed' || (end === 'broken' && this.#finOnReset)) {
      // Both FINs were passed on: free the sockets once the writes are out.
      endOnce(c);
      endOnce(u);
      if (c.writableFinished) c.destroy();
      else c.once('finish', destroyStream);
      if (u.writableFinished) u.destroy();
      else u.once('finish', destroyStream);
      // A peer that stopped reading never lets the FIN out: freed after a while all the same.
      if (end === 'broken') setTimeout(destroyBoth, 5000, c, u).unref();
    } else if (end === 'broken') {
      // One side vanished: the other must see a broken connection, never a clean close.
      destroyWithReset(c);
      destroyWithReset(u);
    } else {
      // Idle or closed by us: FIN sent above; free both soon whatever the peers do.
      setTimeout(destroyBoth, 5000, c, u).unref();
    }
    this.#listener.onTunnelEnd(this, end);
  }
}

/**
 * A FIN unless one was sent already: end() on a finished stream builds an
 * ERR_STREAM_ALREADY_FINISHED error (a stack trace) that nobody reads, once per connection.
 */
function endOnce(s: Duplex): void {
  if (!s.writableEnded && !s.destroyed) s.end();
}

function destroyStream(this: Duplex): void {
  this.destroy();
}

function destroyBoth(a: Duplex, b: Duplex): void {
  a.destroy();
  b.destroy();
}

/**
 * A TCP socket is reset (RST) rather than closed, so the peer knows the stream broke; an HTTP/2
 * stream with a TUNNEL_RESET function is reset through it.
 */
export function destroyWithReset(s: Duplex): void {
  const own = (s as Resettable)[TUNNEL_RESET];
  if (own !== undefined) {
    own(s);
    return;
  }
  const r = (s as { resetAndDestroy?: () => void }).resetAndDestroy;
  if (typeof r === 'function' && !s.destroyed) {
    try {
      r.call(s);
      return;
    } catch {
      // Not a plain TCP socket (TLS, HTTP/2 stream): a destroy is the strongest signal.
    }
  }
  s.destroy();
}
