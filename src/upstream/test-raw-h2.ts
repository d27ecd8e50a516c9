/**
 * Test-only: an HTTP/2 server on loopback that answers with whatever frames a test scripts,
 * valid or not (node:http2 refuses to send a malformed response), built on the own engine's
 * frame reader/writer and HPACK. Each request's HEADERS block calls `onRequest` with the
 * stream id and the decoded fields; the test writes its answer through the `RawPeer`.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { FrameReader } from '../http2/frame-reader.ts';
import { FrameWriter } from '../http2/frame-writer.ts';
import { F_HEADERS, F_SETTINGS, FLAG_ACK } from '../http2/frames.ts';
import { HpackDecoder } from '../http2/hpack-decoder.ts';
import { HpackEncoder } from '../http2/hpack-encoder.ts';

export interface RawPeer {
  readonly writer: FrameWriter;
  readonly socket: Socket;
  /** HEADERS with `fields` (`name, value, …`). */
  headers(id: number, fields: readonly string[], endStream: boolean): void;
  flush(): void;
}

export interface RawH2Server {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startRawH2Server(
  onRequest: (peer: RawPeer, id: number, fields: string[], endStream: boolean) => void,
  settings: readonly number[] = [],
  /** Every other frame the client sends (its GOAWAY, PING ACKs, …). */
  onOther?: (type: number, flags: number, id: number, payload: Buffer) => void,
): Promise<RawH2Server> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    const writer = new FrameWriter(socket);
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder(4096, 1 << 20, 1000);
    const reader = new FrameReader(1 << 24, false);
    const peer: RawPeer = {
      writer,
      socket,
      headers(id, fields, endStream) {
        const n = encoder.encode(fields);
        writer.headers(id, encoder.buffer, n, endStream, 16_384);
      },
      flush: () => writer.flush(),
    };
    writer.settings(settings);
    writer.flush();
    const handler = {
      onFrame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): boolean {
        if (type === F_SETTINGS && (flags & FLAG_ACK) === 0) {
          writer.settingsAck();
          writer.flush();
        } else if (type === F_HEADERS) {
          const fields: string[] = [];
          decoder.decode(buf, start, end, fields);
          onRequest(peer, id, fields, (flags & 1) !== 0);
          writer.flush();
        } else onOther?.(type, flags, id, Buffer.from(buf.subarray(start, end)));
        return true;
      },
    };
    socket.on('data', (d: Buffer) => {
      reader.feed(d, 0, d.length, handler);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return sockets.length;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
