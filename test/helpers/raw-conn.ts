/**
 * A raw TCP client connection for e2e tests: writes exact bytes, reads responses one at a time,
 * and reports how the connection ended (FIN from the peer, reset, or still open).
 */
import { connect, type Socket } from 'node:net';
import { DEFAULT_WAIT_MS, within } from './wait.ts';

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; the last value wins. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

export interface CloseInfo {
  /** The peer sent FIN ('end' was seen) before the socket closed. */
  readonly ended: boolean;
  /** The error code, if the socket closed with an error (ECONNRESET …). */
  readonly error: string | undefined;
}

export class RawConn {
  readonly socket: Socket;
  #data = Buffer.alloc(0);
  #off = 0;
  #ended = false;
  #error: string | undefined;
  #wake: (() => void)[] = [];
  readonly closed: Promise<CloseInfo>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk]);
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.#error = e.code ?? e.message;
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#notify();
        resolve({ ended: this.#ended, error: this.#error });
      });
    });
  }

  /** `localAddress`: the client's own address (127.0.0.2 … are loopback too: another client). */
  static open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, ...(localAddress === undefined ? {} : { localAddress }) });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConn(socket));
      });
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  /** Everything received so far (consumed or not), as latin1 text. */
  received(): string {
    return this.#data.toString('latin1');
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Waits for the next complete response (Content-Length, chunked, or delimited by close). */
  async readResponse(timeoutMs = DEFAULT_WAIT_MS): Promise<RawResponse> {
    return within(this.#next(), 'a response', timeoutMs);
  }

  /** Waits for the connection to close (FIN or reset). */
  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    return within(this.closed, 'the connection to close', timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  async #next(): Promise<RawResponse> {
    for (;;) {
      const r = this.#tryParse();
      if (r !== undefined) return r;
      if (this.socket.destroyed || this.#ended) {
        throw new Error(
          `connection closed (${this.#error ?? 'FIN'}) without a complete response; received: ${JSON.stringify(this.#data.subarray(this.#off).toString('latin1'))}`,
        );
      }
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  #tryParse(): RawResponse | undefined {
    const data = this.#data;
    const headEnd = data.indexOf('\r\n\r\n', this.#off, 'latin1');
    if (headEnd === -1) return undefined;
    const lines = data.toString('latin1', this.#off, headEnd).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
    }
    const start = headEnd + 4;
    const finish = (body: Buffer, end: number): RawResponse => {
      this.#off = end;
      return { status, headers, body: body.toString('utf8') };
    };
    if (status === 204 || status === 304 || (status >= 100 && status < 200))
      return finish(Buffer.alloc(0), start);
    if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      const parts: Buffer[] = [];
      let p = start;
      for (;;) {
        const eol = data.indexOf('\r\n', p, 'latin1');
        if (eol === -1) return undefined;
        const size = Number.parseInt(data.toString('latin1', p, eol), 16);
        if (size === 0) {
          const end = data.indexOf('\r\n', eol + 2, 'latin1');
          return end === -1 ? undefined : finish(Buffer.concat(parts), end + 2);
        }
        if (data.length < eol + 2 + size + 2) return undefined;
        parts.push(data.subarray(eol + 2, eol + 2 + size));
        p = eol + 2 + size + 2;
      }
    }
    const cl = headers.get('content-length');
    if (cl !== undefined) {
      const end = start + Number(cl);
      return data.length < end ? undefined : finish(data.subarray(start, end), end);
    }
    // Delimited by the end of the connection.
    if (!this.#ended && !this.socket.destroyed) return undefined;
    return finish(data.subarray(start), data.length);
  }
}

/** Tries to open a connection: resolves with the error code, or 'connected' (then closes it). */
export function tryConnect(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
