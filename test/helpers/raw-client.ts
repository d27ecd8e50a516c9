import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Test helper: a raw TCP client that writes exact bytes and reports exactly what came back.
 *
 * Its response parser is small and strict: it reads what a client received and says
 * exactly how each response was framed and whether it ended cleanly. Anything a careful client
 * would refuse (bare LF, obs-fold, conflicting Content-Length, unknown transfer codings) stops
 * parsing with an error instead of being guessed at.
 */
export interface ParsedTestResponse {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Fields in order, names as received. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
  /**
   * The response was fully delimited: all Content-Length bytes, the terminating 0-chunk and its
   * final CRLF, or (close-delimited) the connection closed.
   */
  readonly complete: boolean;
  /** Chunked only: the terminating zero-size chunk arrived (the final CRLF may still be missing). */
  readonly lastChunk: boolean;
  readonly trailers: ReadonlyArray<readonly [string, string]>;
}

export interface ParseResponsesResult {
  readonly responses: ParsedTestResponse[];
  /** Why parsing stopped early, or null. */
  readonly error: string | null;
  /** Bytes after a 101 response (the upgraded protocol), or after the last parsed response. */
  readonly rest: Buffer;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** First value of a field (case-insensitive), or undefined. */
export function header(
  r: { readonly headers: ReadonlyArray<readonly [string, string]> },
  name: string,
): string | undefined {
  const lname = name.toLowerCase();
  return r.headers.find(([n]) => n.toLowerCase() === lname)?.[1];
}

function parseFields(lines: readonly string[]): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  for (const line of lines) {
    if (line.includes('\n') || line.includes('\r')) return `bare CR or LF in ${JSON.stringify(line)}`;
    const colon = line.indexOf(':');
    if (colon <= 0) return `malformed field line ${JSON.stringify(line)}`;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return `invalid field name ${JSON.stringify(name)}`;
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) return `invalid field value ${JSON.stringify(value)}`;
    out.push([name, value]);
  }
  return out;
}

type Step =
  | { readonly response: ParsedTestResponse; readonly next: number }
  | { readonly error: string }
  | null;

/** Decodes a chunked body at `pos`: what arrived so far and whether it ended, or a syntax error. */
function parseChunked(
  data: Buffer,
  pos: number,
):
  | { body: Buffer; next: number; lastChunk: boolean; complete: boolean; trailers: Array<[string, string]> }
  | string {
  const parts: Buffer[] = [];
  let p = pos;
  for (;;) {
    const eol = data.indexOf('\r\n', p, 'latin1');
    if (eol === -1)
      return {
        body: Buffer.concat(parts),
        next: data.length,
        lastChunk: false,
        complete: false,
        trailers: [],
      };
    const line = data.latin1Slice(p, eol);
    const m = /^([0-9a-fA-F]{1,15})(;.*)?$/.exec(line);
    if (m === null) return `invalid chunk size line ${JSON.stringify(line)}`;
    const size = Number.parseInt(m[1]!, 16);
    p = eol + 2;
    if (size === 0) break;
    if (data.length < p + size + 2) {
      parts.push(data.subarray(p, Math.min(data.length, p + size)));
      return {
        body: Buffer.concat(parts),
        next: data.length,
        lastChunk: false,
        complete: false,
        trailers: [],
      };
    }
    parts.push(data.subarray(p, p + size));
    if (data[p + size] !== 0x0d || data[p + size + 1] !== 0x0a) return 'missing CRLF after chunk data';
    p += size + 2;
  }
  const body = Buffer.concat(parts);
  const end = data.indexOf('\r\n', p, 'latin1');
  if (end === -1) return { body, next: data.length, lastChunk: true, complete: false, trailers: [] };
  if (end === p) return { body, next: p + 2, lastChunk: true, complete: true, trailers: [] };
  const tend = data.indexOf('\r\n\r\n', p, 'latin1');
  if (tend === -1) return { body, next: data.length, lastChunk: true, complete: false, trailers: [] };
  const trailers = parseFields(data.latin1Slice(p, tend).split('\r\n'));
  if (typeof trailers === 'string') return trailers;
  return { body, next: tend + 4, lastChunk: true, complete: true, trailers };
}

function parseOne(data: Buffer, pos: number, method: string, closed: boolean): Step {
  const headEnd = data.indexOf('\r\n\r\n', pos, 'latin1');
  if (headEnd === -1) {
    const lf = data.indexOf(0x0a, pos);
    if (lf !== -1 && (lf === pos || data[lf - 1] !== 0x0d)) return { error: 'bare LF in the response head' };
    return closed && pos < data.length ? { error: 'connection closed inside a response head' } : null;
  }
  const lines = data.latin1Slice(pos, headEnd).split('\r\n');
  const m = /^(HTTP\/1\.[01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(lines[0]!);
  if (m === null) return { error: `invalid status line ${JSON.stringify(lines[0])}` };
  const fields = parseFields(lines.slice(1));
  if (typeof fields === 'string') return { error: fields };
  const status = Number(m[2]);
  const base = {
    version: m[1]!,
    status,
    reason: m[3] ?? '',
    headers: fields,
    trailers: [] as Array<[string, string]>,
  };
  const bodyStart = headEnd + 4;
  const get = (n: string): string[] => fields.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  const te = get('transfer-encoding');
  const cl = get('content-length');
  const noBody = method === 'HEAD' || status < 200 || status === 204 || status === 304;
  if (noBody) {
    return {
      response: { ...base, body: Buffer.alloc(0), framing: 'none', complete: true, lastChunk: false },
      next: bodyStart,
    };
  }
  if (te.length > 0) {
    if (cl.length > 0) return { error: 'both Transfer-Encoding and Content-Length' };
    if (te.join(',').trim().toLowerCase() !== 'chunked')
      return { error: `unsupported Transfer-Encoding ${te.join(', ')}` };
    const c = parseChunked(data, bodyStart);
    if (typeof c === 'string') return { error: c };
    const complete = c.complete;
    return {
      response: {
        ...base,
        body: c.body,
        framing: 'chunked',
        complete,
        lastChunk: c.lastChunk,
        trailers: c.trailers,
      },
      next: c.next,
    };
  }
  if (cl.length > 0) {
    if (!cl.every((v) => /^[0-9]{1,15}$/.test(v)) || new Set(cl).size !== 1) {
      return { error: `invalid Content-Length ${cl.join(', ')}` };
    }
    const n = Number(cl[0]);
    const end = Math.min(data.length, bodyStart + n);
    return {
      response: {
        ...base,
        body: data.subarray(bodyStart, end),
        framing: 'length',
        complete: end === bodyStart + n,
        lastChunk: false,
      },
      next: end,
    };
  }
  return {
    response: {
      ...base,
      body: data.subarray(bodyStart),
      framing: 'close',
      complete: closed,
      lastChunk: false,
    },
    next: data.length,
  };
}

/**
 * Parses every response in `data`. `methods[i]` is the method of the i-th request (HEAD responses
 * have no body; default GET); interim 1xx responses do not consume a method. `closed` says the
 * connection has ended, which completes a close-delimited body.
 */
export function parseResponses(
  data: Buffer,
  methods: readonly string[] = [],
  closed = false,
): ParseResponsesResult {
  const responses: ParsedTestResponse[] = [];
  let pos = 0;
  let finals = 0;
  while (pos < data.length) {
    const step = parseOne(data, pos, methods[finals] ?? 'GET', closed);
    if (step === null) break;
    if ('error' in step) return { responses, error: step.error, rest: data.subarray(pos) };
    responses.push(step.response);
    pos = step.next;
    if (step.response.status === 101) break;
    if (step.response.status >= 200) finals++;
    if (!step.response.complete) break;
  }
  return { responses, error: null, rest: data.subarray(pos) };
}

// ---------------------------------------------------------------------------------------------
// The raw client
// ---------------------------------------------------------------------------------------------

/** A piece of the request: bytes to write, or a pause before the next write. */
export type RawPart = string | Buffer | { readonly delayMs: number };

export interface RawRequestOptions {
  /** Give up (and destroy the socket) after this long. Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly host?: string;
  /** Pause between consecutive byte parts, in addition to explicit `{ delayMs }` parts. */
  readonly delayMs?: number;
  /** Half-close (FIN) after the last part. Default false. */
  readonly end?: boolean;
  /** Method of each request in order, so HEAD responses are framed right. Default GET. */
  readonly methods?: readonly string[];
  /**
   * Stop as soon as this many final (non-1xx) responses are complete, closing the socket
   * ourselves (closedBy 'client'). Without it, the exchange lasts until the server closes.
   */
  readonly responses?: number;
}

export interface RawResult {
  /** Every byte received. */
  readonly data: Buffer;
  /**
   * How the connection ended: the server sent FIN, the server reset it (ECONNRESET / EPIPE), the
   * timeout fired first, or we closed it after the expected responses arrived.
   */
  readonly closedBy: 'fin' | 'rst' | 'timeout' | 'client';
  readonly responses: ParsedTestResponse[];
  /** Why response parsing stopped early, or null. */
  readonly parseError: string | null;
  /** Bytes received after the parsed responses (after a 101: the upgraded protocol). */
  readonly rest: Buffer;
}

function finalCount(r: ParseResponsesResult): number {
  return r.responses.filter((x) => x.status >= 200 && x.complete).length;
}

/**
 * Opens a TCP connection to `host:port`, writes `input` exactly as given (optionally in parts
 * with pauses between them), and collects everything the server sends until it closes, resets,
 * the timeout fires, or the expected number of responses arrived.
 */
export function rawRequest(
  port: number,
  input: string | Buffer | readonly RawPart[],
  options: RawRequestOptions = {},
): Promise<RawResult> {
  const parts: readonly RawPart[] = typeof input === 'string' || Buffer.isBuffer(input) ? [input] : input;
  const timeoutMs = options.timeoutMs ?? 2000;
  const methods = options.methods ?? [];
  return new Promise<RawResult>((resolve) => {
    const chunks: Buffer[] = [];
    let closedBy: RawResult['closedBy'] | null = null;
    let settled = false;
    const socket = net.connect(port, options.host ?? '127.0.0.1');
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      // Only a FIN ends a close-delimited body cleanly; an RST or a timeout truncates it.
      const parsed = parseResponses(data, methods, closedBy === null || closedBy === 'fin');
      resolve({
        data,
        closedBy: closedBy ?? 'fin',
        responses: parsed.responses,
        parseError: parsed.error,
        rest: parsed.rest,
      });
    };
    const timer = setTimeout(() => {
      closedBy ??= 'timeout';
      socket.destroy();
      finish();
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (options.responses !== undefined) {
        const parsed = parseResponses(Buffer.concat(chunks), methods, false);
        if (finalCount(parsed) >= options.responses) {
          closedBy ??= 'client';
          socket.destroy();
          finish();
        }
      }
    });
    socket.on('end', () => {
      closedBy ??= 'fin';
      socket.end();
    });
    // ECONNRESET (and EPIPE on a write racing the reset) is how an RST shows up in Node.
    socket.on('error', () => {
      closedBy ??= 'rst';
    });
    socket.on('close', finish);
    socket.once('connect', () => {
      void writeParts(socket, parts, options.delayMs ?? 0, options.end ?? false);
    });
  });
}

async function writeParts(
  socket: net.Socket,
  parts: readonly RawPart[],
  delayMs: number,
  end: boolean,
): Promise<void> {
  let first = true;
  for (const part of parts) {
    if (socket.destroyed) return;
    if (typeof part === 'object' && !Buffer.isBuffer(part)) {
      await sleep(part.delayMs);
      continue;
    }
    if (!first && delayMs > 0) await sleep(delayMs);
    first = false;
    if (socket.destroyed) return;
    socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  }
  if (end && !socket.destroyed) socket.end();
}
