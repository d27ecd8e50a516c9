import net from 'node:net';

/**
 * Test helper: a scriptable fake upstream (the HAProxy VTest / Envoy FakeUpstream pattern).
 * Each accepted connection runs the script, which can wait for requests, write arbitrary bytes,
 * end (FIN), reset (RST), stop reading, or stay silent. Everything received is recorded.
 */

/** A request as the upstream received it, parsed roughly (tests assert on it; it never rejects). */
export interface ReceivedRequest {
  /** The head as text, request line included, without the final blank line. */
  readonly head: string;
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Decoded body (chunked framing removed). */
  readonly body: Buffer;
  /** The raw bytes of the body as they arrived (chunk framing kept). */
  readonly rawBody: Buffer;
  readonly framing: 'none' | 'length' | 'chunked';
}

/** First value of a request field (case-insensitive), or undefined. */
export function requestHeader(r: ReceivedRequest, name: string): string | undefined {
  const lname = name.toLowerCase();
  return r.headers.find(([n]) => n.toLowerCase() === lname)?.[1];
}

/** Splits complete requests off the front of `data`; returns them and the offset parsed up to. */
export function parseRequests(data: Buffer): { requests: ReceivedRequest[]; consumed: number } {
  const requests: ReceivedRequest[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) break;
    const head = data.latin1Slice(pos, headEnd);
    const [line = '', ...rest] = head.split('\r\n');
    const [method = '', target = '', version = ''] = line.split(' ');
    const headers = rest.map((l): [string, string] => {
      const c = l.indexOf(':');
      return c === -1 ? [l, ''] : [l.slice(0, c), l.slice(c + 1).trim()];
    });
    const find = (n: string): string | undefined => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    const bodyStart = headEnd + 4;
    const te = find('transfer-encoding');
    const cl = find('content-length');
    let body: Buffer;
    let end: number;
    let framing: ReceivedRequest['framing'];
    if (te !== undefined && /chunked\s*$/i.test(te)) {
      const c = dechunk(data, bodyStart);
      if (c === null) break;
      ({ body, end } = c);
      framing = 'chunked';
    } else if (cl !== undefined) {
      end = bodyStart + Number(cl);
      if (data.length < end) break;
      body = data.subarray(bodyStart, end);
      framing = 'length';
    } else {
      end = bodyStart;
      body = Buffer.alloc(0);
      framing = 'none';
    }
    requests.push({
      head,
      method,
      target,
      version,
      headers,
      body,
      rawBody: data.subarray(bodyStart, end),
      framing,
    });
    pos = end;
  }
  return { requests, consumed: pos };
}

function dechunk(data: Buffer, start: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let p = start;
  for (;;) {
    const eol = data.indexOf('\r\n', p, 'latin1');
    if (eol === -1) return null;
    const size = Number.parseInt(data.latin1Slice(p, eol).split(';')[0]!, 16);
    p = eol + 2;
    if (!(size > 0)) break;
    if (data.length < p + size + 2) return null;
    parts.push(data.subarray(p, p + size));
    p += size + 2;
  }
  // Trailer section: lines until an empty one.
  for (;;) {
    const eol = data.indexOf('\r\n', p, 'latin1');
    if (eol === -1) return null;
    const empty = eol === p;
    p = eol + 2;
    if (empty) return { body: Buffer.concat(parts), end: p };
  }
}

/** Builds a response with Content-Length (or the given fields verbatim when they frame it). */
export function httpResponse(
  status: number,
  body = '',
  fields: Readonly<Record<string, string>> = {},
): Buffer {
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`];
  const names = Object.keys(fields).map((n) => n.toLowerCase());
  if (!names.includes('content-length') && !names.includes('transfer-encoding')) {
    lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  }
  for (const [n, v] of Object.entries(fields)) lines.push(`${n}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

type Waiter = {
  readonly count: number;
  readonly resolve: (r: ReceivedRequest[]) => void;
  readonly reject: (e: Error) => void;
};

/** One accepted connection, as the script sees it. */
export class UpstreamConnection {
  readonly id: number;
  readonly socket: net.Socket;
  /** Settles once the connection is gone: how the peer (or we) ended it. */
  readonly closed: Promise<'fin' | 'rst' | 'destroyed'>;
  #chunks: Buffer[] = [];
  #received: Buffer | null = Buffer.alloc(0);
  #waiters: Waiter[] = [];
  #peerEnded = false;
  #errored = false;
  #isClosed = false;

  constructor(id: number, socket: net.Socket) {
    this.id = id;
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#received = null;
      this.#wake();
    });
    socket.on('end', () => {
      this.#peerEnded = true;
    });
    socket.on('error', () => {
      this.#errored = true;
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#isClosed = true;
        for (const w of this.#waiters.splice(0))
          w.reject(new Error(`connection ${id} closed before ${w.count} request(s)`));
        resolve(this.#errored ? 'rst' : this.#peerEnded ? 'fin' : 'destroyed');
      });
    });
  }

  /** Every byte received so far. */
  get received(): Buffer {
    this.#received ??= Buffer.concat(this.#chunks);
    return this.#received;
  }

  /** The complete requests received so far. */
  get requests(): ReceivedRequest[] {
    return parseRequests(this.received).requests;
  }

  /** Resolves once `count` complete requests have arrived on this connection (rejects if it closes first). */
  waitForRequests(count: number): Promise<ReceivedRequest[]> {
    const have = this.requests;
    if (have.length >= count) return Promise.resolve(have);
    if (this.#isClosed)
      return Promise.reject(new Error(`connection ${this.id} closed before ${count} request(s)`));
    return new Promise((resolve, reject) => this.#waiters.push({ count, resolve, reject }));
  }

  /** Resolves with the `n`-th request on this connection (1-based). */
  async request(n: number): Promise<ReceivedRequest> {
    const all = await this.waitForRequests(n);
    return all[n - 1]!;
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Sends FIN (after `bytes`, if given). */
  end(bytes?: string | Buffer): void {
    if (bytes === undefined) this.socket.end();
    else this.socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Sends RST and destroys the socket. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Stops reading: the peer's writes back up into its own buffers. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const have = this.requests;
    this.#waiters = this.#waiters.filter((w) => {
      if (have.length < w.count) return true;
      w.resolve(have);
      return false;
    });
  }
}

/** What to do with each accepted connection. Doing nothing leaves it silent. */
export type ConnectionScript = (conn: UpstreamConnection) => void | Promise<void>;

/** Answers every request with `200 ok` (keep-alive), in order. */
export const answerOk: ConnectionScript = async (conn) => {
  for (let n = 1; ; n++) {
    try {
      await conn.request(n);
    } catch {
      return;
    }
    conn.write(httpResponse(200, 'ok'));
  }
};

export class FakeUpstream {
  readonly #server: net.Server;
  readonly connections: UpstreamConnection[] = [];
  /** Errors thrown by scripts (a failing script is a test failure, not a crash). */
  readonly scriptErrors: unknown[] = [];
  #script: ConnectionScript;
  #port = 0;

  private constructor(script: ConnectionScript) {
    this.#script = script;
    this.#server = net.createServer((socket) => {
      const conn = new UpstreamConnection(this.connections.length + 1, socket);
      this.connections.push(conn);
      Promise.resolve()
        .then(() => this.#script(conn))
        .catch((err: unknown) => {
          this.scriptErrors.push(err);
          socket.destroy();
        });
    });
  }

  /** Listens on `host` (default 127.0.0.1) on an ephemeral port. */
  static async start(script: ConnectionScript = answerOk, host = '127.0.0.1'): Promise<FakeUpstream> {
    const up = new FakeUpstream(script);
    await new Promise<void>((resolve, reject) => {
      up.#server.once('error', reject);
      up.#server.listen(0, host, () => resolve());
    });
    const address = up.#server.address();
    if (address === null || typeof address === 'string') throw new Error('fake upstream has no port');
    up.#port = address.port;
    return up;
  }

  get port(): number {
    return this.#port;
  }

  /** Script for connections accepted from now on. */
  setScript(script: ConnectionScript): void {
    this.#script = script;
  }

  /** Every complete request received, across connections, in connection order. */
  get requests(): ReceivedRequest[] {
    return this.connections.flatMap((c) => c.requests);
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
