import { ParseError } from '../http1/parse-error.ts';
import { headerListOf } from '../upstream/h2-fields.ts';
import type { FrameHandler } from './frame-reader.ts';
import {
  E_COMPRESSION_ERROR,
  E_ENHANCE_YOUR_CALM,
  E_FLOW_CONTROL_ERROR,
  E_FRAME_SIZE_ERROR,
  E_PROTOCOL_ERROR,
  E_REFUSED_STREAM,
  E_STREAM_CLOSED,
  F_CONTINUATION,
  F_DATA,
  F_GOAWAY,
  F_HEADERS,
  F_PING,
  F_PRIORITY,
  F_PUSH_PROMISE,
  F_RST_STREAM,
  F_SETTINGS,
  F_WINDOW_UPDATE,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  S_ENABLE_CONNECT_PROTOCOL,
  S_HEADER_TABLE_SIZE,
  S_INITIAL_WINDOW_SIZE,
  S_MAX_CONCURRENT_STREAMS,
  S_MAX_HEADER_LIST_SIZE,
} from './frames.ts';
import { HPACK_ERROR, HPACK_TOO_LARGE } from './hpack-decoder.ts';
import type { OwnConnection } from './own-connection.ts';
import { type FrameFailures, settingsFrame, windowUpdateFrame } from './own-control.ts';
import { malformedRequest, malformedTrailers } from './own-fields.ts';
import { streamExchange } from './own-request.ts';
import { OwnStream } from './own-stream.ts';

/** CONTINUATION frames one header block may take before the client is flooding (CVE-2024-27316). */
const MAX_CONTINUATIONS = 64;
/**
 * Closed streams remembered with how they closed, for the rules of frames on closed streams
 * (§5.1): the last 16, as nghttp2 keeps recently closed streams; older ones count as unknown.
 * 16 uint32 stay inside V8's on-heap typed-array limit (64 bytes).
 */
const CLOSED_KEPT = 16;
/** Flag of a remembered closed stream: the client's END_STREAM had arrived (else it reset it). */
const CLOSED_ENDED = 0x8000_0000;

/**
 * Reads the frames of an own-engine connection (RFC 9113 §6): checks each against the frame
 * and stream rules, keeps the flow-control books of what the client sends, assembles header
 * blocks (HEADERS + CONTINUATION) and turns new streams into exchanges. A breach of a stream
 * rule resets that stream; of a connection rule, ends the connection with GOAWAY.
 */
export class OwnFrames implements FrameHandler, FrameFailures {
  readonly #c: OwnConnection;
  /** The connection's receive window left, and credit consumed but not yet returned. */
  #recvWindow: number;
  #unacked = 0;
  /** A header block waiting for CONTINUATION: its stream (0: none), flags and bytes. */
  #hbStream = 0;
  #hbFlags = 0;
  #hb: Buffer = Buffer.alloc(0);
  #hbLen = 0;
  #hbFrames = 0;
  readonly #maxBlock: number;
  readonly #fields: string[] = [];
  /** Recently closed streams (id | CLOSED_ENDED), a ring allocated at the first close. */
  #closed: Uint32Array | null = null;
  #closedAt = 0;
  /** The last ids a client skipped when it opened a stream (§5.1.1: closed, never opened). */
  #skipLo = 0;
  #skipHi = 0;

  constructor(c: OwnConnection) {
    this.#c = c;
    this.#recvWindow = Math.max(c.settings.connectionWindowSize, 65_535);
    this.#maxBlock = Math.max(4 * c.settings.maxHeaderListSize, 64 * 1024);
  }

  ourSettings(): number[] {
    const s = this.#c.settings;
    // SETTINGS_HEADER_TABLE_SIZE (`http2.maxDecoderHeaderTableSize`) only when it is not the
    // protocol's default, which needs no announcing: the common SETTINGS frame stays as it was.
    const table = s.headerTableSize === 4096 ? [] : [S_HEADER_TABLE_SIZE, s.headerTableSize];
    return [
      ...table,
      S_MAX_CONCURRENT_STREAMS,
      s.maxConcurrentStreams,
      S_INITIAL_WINDOW_SIZE,
      s.initialWindowSize,
      S_MAX_HEADER_LIST_SIZE,
      s.maxHeaderListSize,
      // RFC 8441: WebSocket over HTTP/2, as the node engine offers it.
      S_ENABLE_CONNECT_PROTOCOL,
      1,
    ];
  }

  onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    const c = this.#c;
    if (this.#hbStream !== 0 && type !== F_CONTINUATION)
      return this.fail(E_PROTOCOL_ERROR, 'expected CONTINUATION');
    if (!c.settled) {
      // §3.4: the preface ends with a SETTINGS frame.
      if (type !== F_SETTINGS || (flags & FLAG_ACK) !== 0)
        return this.fail(E_PROTOCOL_ERROR, 'no SETTINGS after the preface');
      // The connection's first deadline (readHeaderTimeout, set when it was accepted) runs on
      // until its first stream: a client that sends the preface and nothing else is closed by
      // it, not held for idleTimeout (as the node engine's session does).
      c.settled = true;
    }
    const len = end - start;
    switch (type) {
      case F_DATA:
        return this.#data(flags, id, buf, start, end);
      case F_HEADERS:
        return this.#headers(flags, id, buf, start, end);
      case F_CONTINUATION:
        return this.#continuation(flags, id, buf, start, end);
      case F_PRIORITY:
        // Ignored (RFC 9113 deprecates the scheme), but still a frame with rules.
        if (id === 0) return this.fail(E_PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (len !== 5) this.streamError(id, E_FRAME_SIZE_ERROR);
        return !c.closed;
      case F_RST_STREAM:
        if (id === 0) return this.fail(E_PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        if (len !== 4) return this.fail(E_FRAME_SIZE_ERROR, 'RST_STREAM size');
        if (id > c.lastStream) return this.fail(E_PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
        c.streams.get(id)?.onReset();
        return !c.closed;
      case F_SETTINGS:
        return settingsFrame(this, this.#c, flags, id, buf, start, end);
      case F_PUSH_PROMISE:
        return this.fail(E_PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      case F_PING:
        if (id !== 0) return this.fail(E_PROTOCOL_ERROR, 'PING on a stream');
        if (len !== 8) return this.fail(E_FRAME_SIZE_ERROR, 'PING size');
        if ((flags & FLAG_ACK) === 0 && c.limits.controlFrame('PING') && c.controlQueued())
          c.writer.pingAck(buf, start);
        return !c.closed;
      case F_GOAWAY:
        if (id !== 0) return this.fail(E_PROTOCOL_ERROR, 'GOAWAY on a stream');
        // The client leaves: its open streams finish, and it opens no more.
        c.close();
        return !c.closed;
      case F_WINDOW_UPDATE:
        return windowUpdateFrame(this, this.#c, id, buf, start, end);
      default:
        return true; // §5.5: unknown frame types are ignored
    }
  }

  fail(code: number, why: string): boolean {
    this.#c.connError(code, why);
    return false;
  }

  /**
   * A stream left the connection: remembered when the client's side of it had ended (its
   * END_STREAM, or its RST_STREAM). One we reset first is not: what the client sent before it
   * saw our RST_STREAM must be discarded (§5.1), which is what an unknown stream gets.
   */
  streamClosed(id: number, clientEnded: boolean, resetByUs: boolean): void {
    if (!clientEnded && resetByUs) return;
    if (this.#closed === null) this.#closed = new Uint32Array(CLOSED_KEPT);
    this.#closed[this.#closedAt] = clientEnded ? (id | CLOSED_ENDED) >>> 0 : id;
    this.#closedAt = (this.#closedAt + 1) % CLOSED_KEPT;
  }

  /**
   * HEADERS on a stream id at or below the highest the client opened, no longer open. nghttp2's
   * rule (nghttp2_session_on_request_headers_received): a stream known to be closed after the
   * client's END_STREAM is a connection error STREAM_CLOSED; else the frame is ignored. Two
   * cases nghttp2 cannot tell and we can: an id the client skipped never existed (§5.1.1,
   * "unexpected stream identifier": connection error PROTOCOL_ERROR, as Go's server); a stream
   * the client reset gets a stream error STREAM_CLOSED (RFC 7540 §5.1, "closed"). A stream we
   * reset, or one forgotten, is ignored (§5.1: frames in flight before our RST_STREAM).
   */
  #onClosedStream(id: number): boolean {
    if (id >= this.#skipLo && id <= this.#skipHi)
      return this.fail(E_PROTOCOL_ERROR, 'HEADERS on a stream id the client skipped');
    return this.#onRemembered(id, 'HEADERS on a closed stream');
  }

  /**
   * A frame on a closed stream this connection still remembers: after the client's END_STREAM a
   * connection error STREAM_CLOSED (§5.1 "closed"; nghttp2 alike), after the client's
   * RST_STREAM a stream error STREAM_CLOSED; a stream we reset or one forgotten: ignored.
   */
  #onRemembered(id: number, what: string): boolean {
    const ring = this.#closed;
    if (ring === null) return true;
    for (let i = 0; i < CLOSED_KEPT; i++) {
      const e = ring[i]!;
      if ((e & 0x7fff_ffff) !== id) continue;
      if (e >= CLOSED_ENDED) return this.fail(E_STREAM_CLOSED, what);
      this.streamError(id, E_STREAM_CLOSED);
      return !this.#c.closed;
    }
    return true;
  }

  /** A stream error (§5.4.2): RST_STREAM, counted against the invalid-frame budget. */
  streamError(id: number, code: number): void {
    const c = this.#c;
    const s = c.streams.get(id);
    if (s !== undefined) s.resetStream(code);
    else c.rst(id, code);
    c.limits.invalid();
  }

  /** Payload bounds past the padding (§6.1), or -1 when the padding is impossible. */
  #padEnd(flags: number, buf: Buffer, start: number, end: number): number {
    if ((flags & FLAG_PADDED) === 0) return end;
    if (start >= end) return -1;
    const pad = buf[start]!;
    return pad >= end - start ? -1 : end - pad;
  }

  #data(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    const c = this.#c;
    if (id === 0) return this.fail(E_PROTOCOL_ERROR, 'DATA on stream 0');
    const len = end - start;
    // Connection flow control counts the whole payload, padding included (§6.9.1).
    if (len > this.#recvWindow) return this.fail(E_FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.#recvWindow -= len;
    this.#unacked += len;
    if (this.#unacked >= c.settings.connectionWindowSize >> 1) {
      // Connection credit goes back as bytes arrive (as node does): stream windows bound the rest.
      c.writer.windowUpdate(0, this.#unacked);
      this.#recvWindow += this.#unacked;
      this.#unacked = 0;
    }
    const pe = this.#padEnd(flags, buf, start, end);
    if (pe < 0) return this.fail(E_PROTOCOL_ERROR, 'DATA padding');
    const ds = (flags & FLAG_PADDED) !== 0 ? start + 1 : start;
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    const s = c.streams.get(id);
    if (s === undefined) {
      if (id > c.lastStream) return this.fail(E_PROTOCOL_ERROR, 'DATA on an idle stream');
      // Closed after the client's END_STREAM: connection error, as nghttp2
      // (session_on_data_received_fail_fast, "DATA: stream closed"); a stream we reset: ignored
      // (frames in flight, §5.4.2), its bytes counted in the connection window above.
      return this.#onRemembered(id, 'DATA on a closed stream');
    }
    if (s.remoteEnded) {
      this.streamError(id, E_STREAM_CLOSED);
      return !c.closed;
    }
    if (len > s.body.recvWindow) {
      this.streamError(id, E_FLOW_CONTROL_ERROR);
      return !c.closed;
    }
    s.body.recvWindow -= len;
    if (pe === ds && !endStream && !c.limits.controlFrame('empty DATA frames')) return false;
    s.body.onData(pe === ds ? EMPTY : c.keep(buf, ds, pe), endStream);
    return !c.closed;
  }

  #headers(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (id === 0 || (id & 1) === 0)
      return this.fail(E_PROTOCOL_ERROR, 'HEADERS on a stream a client cannot open');
    let s = start;
    const e = this.#padEnd(flags, buf, start, end);
    if (e < 0) return this.fail(E_PROTOCOL_ERROR, 'HEADERS padding');
    if ((flags & FLAG_PADDED) !== 0) s++;
    if ((flags & FLAG_PRIORITY) !== 0) {
      if (e - s < 5) return this.fail(E_FRAME_SIZE_ERROR, 'HEADERS priority');
      s += 5;
    }
    if ((flags & FLAG_END_HEADERS) !== 0) return this.#block(id, flags, buf, s, e);
    this.#hbStream = id;
    this.#hbFlags = flags;
    this.#hbLen = 0;
    this.#hbFrames = 0;
    this.#append(buf, s, e);
    return true;
  }

  #continuation(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    if (this.#hbStream === 0 || id !== this.#hbStream)
      return this.fail(E_PROTOCOL_ERROR, 'unexpected CONTINUATION');
    if (++this.#hbFrames > MAX_CONTINUATIONS || this.#hbLen + end - start > this.#maxBlock) {
      return this.fail(E_ENHANCE_YOUR_CALM, 'CONTINUATION flood: header block too long');
    }
    this.#append(buf, start, end);
    if ((flags & FLAG_END_HEADERS) === 0) return true;
    this.#hbStream = 0;
    return this.#block(id, this.#hbFlags, this.#hb, 0, this.#hbLen);
  }

  #append(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.#hbLen + n > this.#hb.length) {
      const b = Buffer.allocUnsafe(Math.max(this.#hbLen + n, 2 * this.#hb.length, 16 * 1024));
      this.#hb.copy(b, 0, 0, this.#hbLen);
      this.#hb = b;
    }
    buf.copy(this.#hb, this.#hbLen, start, end);
    this.#hbLen += n;
  }

  /** A whole header block: a new request, or the trailers of an open one. */
  #block(id: number, flags: number, buf: Buffer, start: number, end: number): boolean {
    const c = this.#c;
    const fields = this.#fields;
    fields.length = 0;
    const r = c.decoder.decode(buf, start, end, fields);
    if (r === HPACK_ERROR) return this.fail(E_COMPRESSION_ERROR, `HPACK: ${c.decoder.error}`);
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    const open = c.streams.get(id);
    if (open !== undefined) {
      // Trailers (§8.1): they end the stream, and carry no pseudo-header field. After the
      // client's END_STREAM (half-closed remote), nghttp2 goes past §5.1's stream error to a
      // connection error STREAM_CLOSED (nghttp2_session_on_headers_received): so do we.
      if (open.remoteEnded) return this.fail(E_STREAM_CLOSED, 'HEADERS after END_STREAM');
      if (!endStream || r === HPACK_TOO_LARGE || malformedTrailers(fields) !== null) open.protocolError();
      else open.body.onEnd(headerListOf(fields));
      return !c.closed;
    }
    // A closed stream's (the block was decoded: the HPACK table stays in step).
    if (id <= c.lastStream) return this.#onClosedStream(id);
    if (id > c.lastStream + 2) {
      this.#skipLo = c.lastStream + 1;
      this.#skipHi = id - 1;
    }
    c.lastStream = id;
    if (c.goawaySent) return true; // §6.8: streams above the GOAWAY's last id are not processed
    // Streams whose last frames still wait in a full socket count too (own-connection `unsent`).
    if (c.streams.size + c.unsent >= c.settings.maxConcurrentStreams) {
      c.rst(id, E_REFUSED_STREAM);
      return c.limits.refused();
    }
    const s = new OwnStream(id, c, c.peerInitialWindow, endStream);
    c.streams.set(id, s);
    c.deadline = c.ackBy;
    if (r === HPACK_TOO_LARGE) {
      s.reject(431);
      return !c.closed;
    }
    const bad = malformedRequest(fields);
    if (bad !== null) {
      c.ctx.logger.debug('malformed HTTP/2 request: stream reset', {
        reason: bad,
        clientIp: c.clientIp,
        entryPoint: c.ctx.name,
      });
      s.protocolError();
      c.limits.invalid();
      return !c.closed;
    }
    const ex = streamExchange(s, c, fields, endStream);
    if (ex instanceof ParseError) {
      c.ctx.logger.debug('rejected request', {
        status: ex.status,
        reason: ex.reason,
        clientIp: c.clientIp,
        entryPoint: c.ctx.name,
        protocol: 'HTTP/2.0',
      });
      s.reject(ex.status);
      return !c.closed;
    }
    s.body.expectLength(ex.parsed);
    c.enqueue(s, ex);
    return !c.closed;
  }
}

const EMPTY = Buffer.alloc(0);
