import {
  DEFAULT_MAX_FRAME,
  E_FLOW_CONTROL_ERROR,
  E_FRAME_SIZE_ERROR,
  E_PROTOCOL_ERROR,
  FLAG_ACK,
  MAX_WINDOW,
  S_ENABLE_CONNECT_PROTOCOL,
  S_ENABLE_PUSH,
  S_HEADER_TABLE_SIZE,
  S_INITIAL_WINDOW_SIZE,
  S_MAX_FRAME_SIZE,
} from './frames.ts';
import type { OwnConnection } from './own-connection.ts';
import { MAX_SETTINGS_ENTRIES } from './own-limits.ts';

/** How a frame handler fails: a connection error (false: stop reading), or a stream error. */
export interface FrameFailures {
  fail(code: number, why: string): boolean;
  streamError(id: number, code: number): void;
}

/** SETTINGS (RFC 9113 §6.5): the client's parameters, applied and acknowledged. */
export function settingsFrame(
  f: FrameFailures,
  c: OwnConnection,
  flags: number,
  id: number,
  buf: Buffer,
  start: number,
  end: number,
): boolean {
  if (id !== 0) return f.fail(E_PROTOCOL_ERROR, 'SETTINGS on a stream');
  const len = end - start;
  if ((flags & FLAG_ACK) !== 0) {
    if (len !== 0) return f.fail(E_FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
    c.settingsAcked();
    return true;
  }
  if (len % 6 !== 0) return f.fail(E_FRAME_SIZE_ERROR, 'SETTINGS size');
  if (!c.limits.controlFrame('SETTINGS')) return false;
  // More entries than nghttp2 accepts (max_settings, the node engine's limit): a flood, as
  // each window change walks every stream (Go CVE-2026-78669).
  if (len > 6 * MAX_SETTINGS_ENTRIES) {
    c.flood('SETTINGS entries');
    return false;
  }
  let grew = false;
  for (let p = start; p < end; p += 6) {
    const key = buf.readUInt16BE(p);
    const v = buf.readUInt32BE(p + 2);
    switch (key) {
      case S_HEADER_TABLE_SIZE:
        c.encoder.tableSizeChanged();
        break;
      case S_ENABLE_PUSH:
      case S_ENABLE_CONNECT_PROTOCOL:
        if (v > 1) return f.fail(E_PROTOCOL_ERROR, 'SETTINGS value');
        break;
      case S_INITIAL_WINDOW_SIZE: {
        if (v > MAX_WINDOW) return f.fail(E_FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE');
        // §6.9.2: the change applies to every open stream's window, which may go negative.
        const delta = v - c.peerInitialWindow;
        c.peerInitialWindow = v;
        for (const s of c.streams.values()) {
          s.out.window += delta;
          if (s.out.window > MAX_WINDOW) return f.fail(E_FLOW_CONTROL_ERROR, 'stream window overflow');
        }
        if (delta > 0) grew = true;
        break;
      }
      case S_MAX_FRAME_SIZE:
        if (v < DEFAULT_MAX_FRAME || v > 0xff_ffff)
          return f.fail(E_PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE');
        c.peerMaxFrame = v;
        break;
    }
  }
  if (!c.controlQueued()) return false;
  c.writer.settingsAck();
  if (grew) for (const s of [...c.streams.values()]) s.pump();
  return !c.closed;
}

/** WINDOW_UPDATE (§6.9): send credit for the connection or a stream; what waited on it goes out. */
export function windowUpdateFrame(
  f: FrameFailures,
  c: OwnConnection,
  id: number,
  buf: Buffer,
  start: number,
  end: number,
): boolean {
  if (end - start !== 4) return f.fail(E_FRAME_SIZE_ERROR, 'WINDOW_UPDATE size');
  const inc = buf.readUInt32BE(start) & 0x7fff_ffff;
  if (id === 0) {
    if (inc === 0) return f.fail(E_PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
    c.connWindow += inc;
    if (c.connWindow > MAX_WINDOW) return f.fail(E_FLOW_CONTROL_ERROR, 'connection window overflow');
    c.writes.pumpWaiting(c);
    return !c.closed;
  }
  const s = c.streams.get(id);
  if (s === undefined) {
    if (id > c.lastStream) return f.fail(E_PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
    return true;
  }
  if (inc === 0) f.streamError(id, E_PROTOCOL_ERROR);
  else {
    s.out.window += inc;
    if (s.out.window > MAX_WINDOW) f.streamError(id, E_FLOW_CONTROL_ERROR);
    else s.pump();
  }
  return !c.closed;
}
