import { connect, type Socket } from 'node:net';
import { ParseError } from '../http1/parse-error.ts';
import { parseResponseHead } from '../http1/response-head.ts';
import type { ProbeTls } from './probe.ts';

/*
 * One HTTP/1.1 request of a health probe over a fresh socket, spoken with the proxy's own codec.
 * node:http would do, but loading it costs ~17 MB of resident memory in a process that otherwise
 * never needs it; the probe needs only a request line, a few fields and a response head. The body
 * is never read: the connection is closed at the head, as Traefik's checker closes the body it
 * never reads (pkg/healthcheck/healthcheck.go checkHealthHTTP).
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
  /** The final response's head; the socket is closed after this returns. */
  head(status: number, location: string | undefined): void;
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
const S_DONE = 2;

class ProbeConnection {
  readonly #socket: Socket;
  readonly #method: string;
  readonly #ev: HttpProbeEvents;
  #state = S_CONNECTING;
  #buf: Buffer | null = null;

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

  #done(): void {
    this.#state = S_DONE;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#state === S_DONE) return;
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
      this.#done();
      this.#ev.head(res.status, res.headers.get('location'));
      return;
    }
  }

  #onClose(code: string | null): void {
    const state = this.#state;
    if (state === S_DONE) return;
    this.#state = S_DONE;
    this.#socket.destroy();
    this.#ev.failed(state === S_CONNECTING ? 'connect' : 'request', code ?? 'ECONNRESET');
  }
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
