import type { FrameHandler } from '../http2/frame-reader.ts';
import * as h2 from '../http2/frames.ts';
import { HPACK_ERROR, HPACK_TOO_LARGE } from '../http2/hpack-decoder.ts';
// PING, SETTINGS or empty DATA frames a server may send a second: what the server side allows a client.
import { CONTROL_PER_SECOND, MAX_SETTINGS_ENTRIES } from '../http2/own-limits.ts';
import type { OwnH2Session } from './own-h2-session.ts';

/** Our receive windows (as the node engine's session): a paused response buffers at most this. */
export const STREAM_WINDOW = 256 * 1024;
export const SESSION_WINDOW = 1024 * 1024;
/** Streams counted when the server sets no limit (as the node engine's session). */
const UNLIMITED_CAP = 1000;
/** A header block larger than this (HEADERS + CONTINUATION) ends the connection. */
const MAX_BLOCK = 1024 * 1024;

const NO_BYTES = Buffer.alloc(0);

/**
 * Reads the frames an HTTP/2 server sends our own client (RFC 9113 §6): checks each against the
 * frame and stream rules of a client, keeps the books of the connection's receive window
 * (credit goes back as bytes arrive; stream windows bound what waits), assembles header blocks
 * and hands responses, DATA, trailers and resets to the streams.
 */
export class OwnH2Frames implements FrameHandler {
  readonly #s: OwnH2Session;
  #settled = false;
  #recvWindow = SESSION_WINDOW;
  #consumed = 0;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS (unset: no limit). */
  #peerMaxStreams = Number.POSITIVE_INFINITY;
  /** A header block cut by CONTINUATION: its stream (0: none), END_STREAM, and bytes so far. */
  #blockStream = 0;
  #blockEnd = false;
  #block: Buffer = NO_BYTES;
  #blockLen = 0;
  readonly #fields: string[] = [];
  /** Frames we must answer (PING, SETTINGS) or that carry nothing (empty DATA) this second. */
  #control = 0;
  #controlWindow = 0;

  constructor(s: OwnH2Session) {
    this.#s = s;
  }

  ourSettings(): number[] {
    return [
      h2.S_ENABLE_PUSH,
      0,
      h2.S_INITIAL_WINDOW_SIZE,
      STREAM_WINDOW,
      h2.S_MAX_HEADER_LIST_SIZE,
      this.#s.pool.options.maxResponseHeaderBytes,
    ];
  }

  onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    const s = this.#s;
    if (this.#blockStream !== 0 && type !== h2.F_CONTINUATION)
      return this.#fail(h2.E_PROTOCOL_ERROR, 'no CONTINUATION');
    if (!this.#settled) {
      // §3.4: the server's preface is a SETTINGS frame.
      if (type !== h2.F_SETTINGS || (flags & h2.FLAG_ACK) !== 0)
        return this.#fail(h2.E_PROTOCOL_ERROR, 'no SETTINGS first');
      this.#settled = true;
    }
    const len = end - start;
    switch (type) {
      case h2.F_DATA:
        return this.#data(flags, id, buf, start, end);
      case h2.F_HEADERS: {
        if (id === 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'HEADERS on stream 0');
        let from = start;
        let to = end;
        if ((flags & h2.FLAG_PADDED) !== 0) {
          if (len < 1 || buf[start]! >= len) return this.#fail(h2.E_PROTOCOL_ERROR, 'HEADERS padding');
          to -= buf[start]!;
          from++;
        }
        if ((flags & h2.FLAG_PRIORITY) !== 0) from += 5;
        if (from > to) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'HEADERS size');
        const endStream = (flags & h2.FLAG_END_STREAM) !== 0;
        if ((flags & h2.FLAG_END_HEADERS) !== 0) return this.#headerBlock(id, endStream, buf, from, to);
        this.#blockStream = id;
        this.#blockEnd = endStream;
        this.#blockLen = 0;
        return this.#collect(buf, from, to);
      }
      case h2.F_CONTINUATION: {
        if (id === 0 || id !== this.#blockStream)
          return this.#fail(h2.E_PROTOCOL_ERROR, 'unexpected CONTINUATION');
        if (!this.#collect(buf, start, end)) return false;
        if ((flags & h2.FLAG_END_HEADERS) === 0) return true;
        this.#blockStream = 0;
        return this.#headerBlock(id, this.#blockEnd, this.#block, 0, this.#blockLen);
      }
      case h2.F_PRIORITY:
        return id !== 0 || this.#fail(h2.E_PROTOCOL_ERROR, 'PRIORITY on stream 0');
      case h2.F_RST_STREAM:
        if (id === 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        if (len !== 4) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'RST_STREAM size');
        if (id >= s.nextId) return this.#fail(h2.E_PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
        s.streams.get(id)?.onReset(buf.readUInt32BE(start));
        return this.#alive();
      case h2.F_SETTINGS:
        return this.#settings(flags, id, buf, start, end);
      case h2.F_PUSH_PROMISE:
        // We said SETTINGS_ENABLE_PUSH 0 (§8.4).
        return this.#fail(h2.E_PROTOCOL_ERROR, 'PUSH_PROMISE with push disabled');
      case h2.F_PING:
        if (id !== 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'PING on a stream');
        if (len !== 8) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'PING size');
        if ((flags & h2.FLAG_ACK) !== 0) s.keepalive.pingAnswered();
        else if (this.#controlFrame('PING')) s.writer.pingAck(buf, start);
        else return false;
        return true;
      case h2.F_GOAWAY:
        if (id !== 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'GOAWAY on a stream');
        if (len < 8) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'GOAWAY size');
        s.onGoaway(buf.readUInt32BE(start) & 0x7fff_ffff);
        return this.#alive();
      case h2.F_WINDOW_UPDATE:
        return this.#windowUpdate(id, buf, start, end);
      default:
        return true; // §5.5: unknown frame types are ignored
    }
  }

  /**
   * A PING, SETTINGS or empty DATA frame from the server: false once more than the server side
   * allows a client per second (CVE-2019-9512, -9515, -9518 the other way round), and the
   * session ends. Counted on the ticker's clock: nothing allocated per frame.
   */
  #controlFrame(what: string): boolean {
    const now = this.#s.pool.ticker.now;
    if (now - this.#controlWindow >= 1000) {
      this.#controlWindow = now;
      this.#control = 0;
    }
    if (++this.#control <= CONTROL_PER_SECOND) return true;
    this.#s.flood(what);
    return false;
  }

  #alive(): boolean {
    return this.#s.socket.destroyed === false;
  }

  #fail(code: number, why: string): boolean {
    this.#s.connError(code, why);
    return false;
  }

  #collect(buf: Buffer, start: number, end: number): boolean {
    const n = end - start;
    if (this.#blockLen + n > MAX_BLOCK) return this.#fail(h2.E_PROTOCOL_ERROR, 'header block too large');
    if (this.#blockLen + n > this.#block.length) {
      const bigger = Buffer.allocUnsafe(Math.max(16 * 1024, 2 * (this.#blockLen + n)));
      this.#block.copy(bigger, 0, 0, this.#blockLen);
      this.#block = bigger;
    }
    buf.copy(this.#block, this.#blockLen, start, end);
    this.#blockLen += n;
    return true;
  }

  /** A whole header block: decoded even for a stream that is gone (the table must stay in step). */
  #headerBlock(id: number, endStream: boolean, buf: Buffer, start: number, end: number): boolean {
    const s = this.#s;
    const fields = this.#fields;
    fields.length = 0;
    const r = s.decoder.decode(buf, start, end, fields);
    if (r === HPACK_ERROR) return this.#fail(h2.E_COMPRESSION_ERROR, `HPACK: ${s.decoder.error}`);
    const st = s.streams.get(id);
    if (st === undefined) {
      // A server opens no stream (push is off); a closed one of ours is ignored (§5.1).
      if ((id & 1) === 0 || id >= s.nextId)
        return this.#fail(h2.E_PROTOCOL_ERROR, 'HEADERS on a stream we did not open');
      return true;
    }
    st.onHeaders(fields, endStream, r === HPACK_TOO_LARGE);
    return this.#alive();
  }

  #data(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    const s = this.#s;
    if (id === 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'DATA on stream 0');
    const len = end - start;
    // §6.9.1: the whole payload counts, padding included; credit goes back at half the window.
    if (len > this.#recvWindow) return this.#fail(h2.E_FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.#recvWindow -= len;
    this.#consumed += len;
    if (this.#consumed >= SESSION_WINDOW >> 1) {
      s.writer.windowUpdate(0, this.#consumed);
      this.#recvWindow += this.#consumed;
      this.#consumed = 0;
    }
    let from = start;
    let to = end;
    if ((flags & h2.FLAG_PADDED) !== 0) {
      if (len < 1 || buf[start]! >= len) return this.#fail(h2.E_PROTOCOL_ERROR, 'DATA padding');
      to -= buf[start]!;
      from++;
    }
    const endStream = (flags & h2.FLAG_END_STREAM) !== 0;
    if (from === to && !endStream && !this.#controlFrame('empty DATA')) return false;
    const st = s.streams.get(id);
    if (st === undefined) {
      if (id >= s.nextId) return this.#fail(h2.E_PROTOCOL_ERROR, 'DATA on an idle stream');
      return true; // a stream we reset or finished: ignored
    }
    st.onData(buf, from, to, len, endStream);
    return this.#alive();
  }

  #settings(flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
    const s = this.#s;
    if (id !== 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & h2.FLAG_ACK) !== 0) {
      if (end !== start) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'SETTINGS ACK size');
      s.keepalive.settingsAcked();
      return true;
    }
    if ((end - start) % 6 !== 0) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'SETTINGS size');
    if (!this.#controlFrame('SETTINGS')) return false;
    // More entries than nghttp2's client accepts (max_settings, the node engine): each window
    // change walks every stream (Go CVE-2026-78669), so a server sending more is a flood.
    if (end - start > 6 * MAX_SETTINGS_ENTRIES) {
      this.#s.flood('SETTINGS entries');
      return false;
    }
    let grew = false;
    for (let p = start; p < end; p += 6) {
      const v = buf.readUInt32BE(p + 2);
      switch (buf.readUInt16BE(p)) {
        case h2.S_HEADER_TABLE_SIZE:
          s.encoder.tableSizeChanged();
          break;
        case h2.S_ENABLE_PUSH:
          if (v !== 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH from a server');
          break;
        case h2.S_MAX_CONCURRENT_STREAMS:
          this.#peerMaxStreams = v;
          break;
        case h2.S_INITIAL_WINDOW_SIZE: {
          if (v > h2.MAX_WINDOW) return this.#fail(h2.E_FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE');
          // §6.9.2: applies to every open stream's send window, which may go negative.
          const delta = v - s.peerInitialWindow;
          s.peerInitialWindow = v;
          for (const st of s.streams.values()) {
            if (!st.addSendWindow(delta))
              return this.#fail(h2.E_FLOW_CONTROL_ERROR, 'stream window overflow');
          }
          grew ||= delta > 0;
          break;
        }
        case h2.S_MAX_FRAME_SIZE:
          if (v < h2.DEFAULT_MAX_FRAME || v > 0xff_ffff)
            return this.#fail(h2.E_PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE');
          s.peerMaxFrame = v;
          break;
        case h2.S_MAX_HEADER_LIST_SIZE:
          // Advisory (§6.5.2), but a server that says so resets a larger head: not sent.
          s.peerMaxHeaderList = v;
          break;
      }
    }
    s.writer.settingsAck();
    if (grew) for (const st of [...s.streams.values()]) st.pump();
    s.onSettings(Math.min(this.#peerMaxStreams, UNLIMITED_CAP));
    return this.#alive();
  }

  #windowUpdate(id: number, buf: Buffer, start: number, end: number): boolean {
    const s = this.#s;
    if (end - start !== 4) return this.#fail(h2.E_FRAME_SIZE_ERROR, 'WINDOW_UPDATE size');
    const inc = buf.readUInt32BE(start) & 0x7fff_ffff;
    if (id === 0) {
      if (inc === 0) return this.#fail(h2.E_PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      s.connWindow += inc;
      if (s.connWindow > h2.MAX_WINDOW)
        return this.#fail(h2.E_FLOW_CONTROL_ERROR, 'connection window overflow');
      s.writes.pumpWaiting(s);
      return this.#alive();
    }
    const st = s.streams.get(id);
    if (st === undefined) {
      return id < s.nextId || this.#fail(h2.E_PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
    }
    st.onWindowUpdate(inc);
    return this.#alive();
  }
}
