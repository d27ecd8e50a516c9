/**
 * A persistent raw TCP client for tests that talk to one connection over time: write exact
 * bytes, wait for the next responses (parsed by raw-client.ts's strict parser, so chunked
 * framing, HEAD and close-delimited bodies are judged exactly), write again, and learn how the
 * server ended the connection. `rawRequest` covers the one-shot case.
 */
import net from 'node:net';
import { type ParsedTestResponse, parseResponses } from './raw-client.ts';

export type CloseKind = 'fin' | 'rst';

export class RawSession {
  readonly socket: net.Socket;
  /** Settles when the server has closed its side: FIN ('end'), or reset (error). */
  readonly serverClosed: Promise<CloseKind>;
  #chunks: Buffer[] = [];
  #data: Buffer | null = Buffer.alloc(0);
  #methods: string[] = [];
  #closed: CloseKind | null = null;
  #wake: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#data = null;
      this.#notify();
    });
    this.serverClosed = new Promise((resolve) => {
      const closed = (kind: CloseKind) => {
        this.#closed ??= kind;
        resolve(this.#closed);
        this.#notify();
      };
      socket.on('end', () => closed('fin'));
      socket.on('error', () => closed('rst'));
      socket.on('close', () => closed('fin'));
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, allowHalfOpen: true });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawSession(s));
      });
    });
  }

  /** Every byte received so far. */
  get data(): Buffer {
    this.#data ??= Buffer.concat(this.#chunks);
    return this.#data;
  }

  /** How the server closed the connection, or null while it is open. */
  get closedBy(): CloseKind | null {
    return this.#closed;
  }

  /**
   * Writes raw bytes. `methods` lists the method of each request in them, so that responses to
   * HEAD are framed right when parsed.
   */
  write(bytes: string | Buffer, methods: readonly string[] = ['GET']): void {
    this.#methods.push(...methods);
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Half-closes our side (FIN): we still read. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Every response parsed so far (interim 1xx included, in order); throws on unparseable bytes. */
  parsed(): ParsedTestResponse[] {
    const r = parseResponses(this.data, this.#methods, this.#closed === 'fin');
    if (r.error !== null) throw new Error(`unparseable response bytes: ${r.error}`);
    return r.responses;
  }

  /**
   * Resolves with the final (non-1xx) responses once `count` of them are complete on this
   * connection; rejects if the server closes first, or after `timeoutMs` (a safety net).
   */
  async responses(count: number, timeoutMs = 10_000): Promise<ParsedTestResponse[]> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#notify();
    }, timeoutMs);
    try {
      for (;;) {
        const finals = this.parsed().filter((x) => x.status >= 200 && x.complete);
        if (finals.length >= count) return finals;
        if (this.#closed !== null) {
          throw new Error(
            `connection closed (${this.#closed}) after ${finals.length} of ${count} responses; got ${JSON.stringify(this.data.latin1Slice(0, 2000))}`,
          );
        }
        if (timedOut) throw new Error(`timed out waiting for ${count} responses; got ${finals.length}`);
        await new Promise<void>((resolve) => this.#wake.push(resolve));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }
}
