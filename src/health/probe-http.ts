import { connect, type Socket } from 'node:net';
import { CHUNKED_INCOMPLETE, ChunkedDecoder, type ChunkSink } from '../http1/chunked.ts';
import { ParseError } from '../http1/parse-error.ts';
import { BODY_CHUNKED, BODY_LENGTH } from '../http1/request-head.ts';
import { BODY_CLOSE, parseResponseHead } from '../http1/response-head.ts';
import type { ProbeTls } from './probe.ts';

/*
 * One HTTP/1.1 request of a health probe over a fresh socket, spoken with the proxy's own codec.
 * node:http would do, but loading it costs ~17 MB of resident memory in a process that otherwise
 * never needs it; the probe needs only a request line, a few fields and a response head.
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
// RFC 9112 §3.2: the request target is visible ASCII; no space, no control character.
const TARGET = /^[\x21-\x7e]+$/;
const MAX_HEAD_BYTES = 64 * 1024;

export interface HttpProbeRequest {
  readonly host: string;
  readonly port: number;
  readonly hostHeader: string;
  readonly path: string;
  readonly method: string;
  readonly headers: readonly (readonly [string, string])[];
  /** Speak TLS (an `https://` server). */
  readonly tls?: ProbeTls | undefined;
}

export interface HttpProbeEvents {
  /** The request could not be built (a bad header or path): nothing was sent. */
  invalid(message: string): void;
  /** The connection or request failed before a response head; `phase` says how far it got. */
  failed(phase: 'connect' | 'request', code: string): void;
  /**
   * The response head. Return true to read the body to its end (then `bodyEnd` is called), false
   * to stop here (the socket is closed).
   */
  head(status: number, location: string | undefined): boolean;
  /** The body ended (ok) or broke (reason). */
  bodyEnd(ok: boolean, reason: string): void;
}

/** Sends the request; returns the socket so that the caller can destroy it on timeout or abort. */
export function sendHttpProbe(req: HttpProbeRequest, ev: HttpProbeEvents): Socket | undefined {
  if (!TARGET.test(req.path)) {
    ev.invalid(`invalid path ${JSON.stringify(req.path)}`);
    return undefined;
  }
  if (!TOKEN.test(req.method)) {
    ev.invalid(`invalid method ${JSON.stringify(req.method)}`);
    return undefined;
  }
  let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${req.hostHeader}\r\nConnection: close\r\n`;
  for (const [name, value] of req.headers) {
    if (!TOKEN.test(name)) {
      ev.invalid(`invalid header name ${JSON.stringify(name)}`);
      return undefined;
    }
    if (BAD_VALUE.test(value)) {
      ev.invalid(`invalid value for header ${name}`);
      return undefined;
    }
    head += `${name}: ${value}\r\n`;
  }
  if (BAD_VALUE.test(req.hostHeader) || req.hostHeader === '') {
    ev.invalid('invalid Host');
    return undefined;
  }
  let socket: Socket;
  try {
    const t = req.tls;
    socket =
      t === undefined
        ? connect({ host: req.host, port: req.port })
        : process.getBuiltinModule('node:tls').connect({
            host: req.host,
            port: req.port,
            secureContext: t.secureContext,
            rejectUnauthorized: t.rejectUnauthorized,
            ALPNProtocols: ['http/1.1'],
            ...(t.servername !== undefined ? { servername: t.servername } : {}),
            ...(t.checkServerIdentity !== undefined ? { checkServerIdentity: t.checkServerIdentity } : {}),
          });
  } catch (e) {
    // An out-of-range port throws synchronously.
    ev.failed('connect', errorCode(e));
    return undefined;
  }
  new ProbeConnection(socket, req.method, ev).start(`${head}\r\n`, req.tls !== undefined);
  return socket;
}

const S_CONNECTING = 0;
const S_HEAD = 1;
const S_BODY = 2;
const S_DONE = 3;

class ProbeConnection implements ChunkSink {
  readonly #socket: Socket;
  readonly #method: string;
  readonly #ev: HttpProbeEvents;
  #state = S_CONNECTING;
  #buf: Buffer | null = null;
  #kind = 0;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;

  constructor(socket: Socket, method: string, ev: HttpProbeEvents) {
    this.#socket = socket;
    this.#method = method;
    this.#ev = ev;
  }

  start(head: string, secure: boolean): void {
    const s = this.#socket;
    s.once(secure ? 'secureConnect' : 'connect', () => {
      if (this.#state === S_CONNECTING) this.#state = S_HEAD;
    });
    s.on('data', (chunk: Buffer) => this.#onData(chunk));
    s.on('error', (e: Error) => this.#onClose(errorCode(e)));
    s.on('end', () => this.#onClose(null));
    s.on('close', () => this.#onClose(null));
    s.write(head, 'latin1');
  }

  onChunkData(): void {}

  #done(): void {
    this.#state = S_DONE;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#state === S_HEAD || this.#state === S_CONNECTING) {
      const buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#buf = null;
      let start = 0;
      for (;;) {
        const res = parseResponseHead(buf, start, buf.length, this.#method, MAX_HEAD_BYTES);
        if (res === null) {
          this.#buf = buf.subarray(start);
          return;
        }
        if (res instanceof ParseError) {
          this.#done();
          this.#ev.failed('request', `bad response (${res.reason})`);
          return;
        }
        start += res.headLength;
        if (res.status < 200) continue; // interim responses say nothing of health
        this.#state = S_BODY;
        if (!this.#ev.head(res.status, res.headers.get('location'))) {
          this.#done();
          return;
        }
        this.#kind = res.bodyKind;
        this.#remaining = res.contentLength;
        if (res.bodyKind === BODY_CHUNKED) this.#decoder = new ChunkedDecoder();
        else if (res.bodyKind !== BODY_LENGTH && res.bodyKind !== BODY_CLOSE) {
          this.#finishBody(true, '');
          return;
        }
        this.#body(buf, start);
        return;
      }
    }
    if (this.#state === S_BODY) this.#body(chunk, 0);
  }

  #body(buf: Buffer, start: number): void {
    if (this.#state !== S_BODY) return;
    if (this.#kind === BODY_LENGTH) {
      this.#remaining -= buf.length - start;
      if (this.#remaining <= 0) this.#finishBody(true, '');
      return;
    }
    if (this.#kind === BODY_CHUNKED) {
      const r = this.#decoder!.feed(buf, start, buf.length, this);
      if (r === CHUNKED_INCOMPLETE) return;
      if (r < 0) this.#finishBody(false, `body ${this.#decoder!.error ?? 'bad chunked coding'}`);
      else this.#finishBody(true, '');
    }
    // BODY_CLOSE: the end of the connection is the end of the body.
  }

  #finishBody(ok: boolean, reason: string): void {
    this.#done();
    this.#ev.bodyEnd(ok, reason);
  }

  #onClose(code: string | null): void {
    const state = this.#state;
    if (state === S_DONE) return;
    this.#state = S_DONE;
    this.#socket.destroy();
    if (state === S_CONNECTING) this.#ev.failed('connect', code ?? 'ECONNRESET');
    else if (state === S_HEAD) this.#ev.failed('request', code ?? 'ECONNRESET');
    else if (this.#kind === BODY_CLOSE && code === null) this.#ev.bodyEnd(true, '');
    else this.#ev.bodyEnd(false, code === null ? 'body incomplete' : `body ${code}`);
  }
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
